"""Property tests of the search query readers: whatever is typed, they never raise and never reach a hidden field.

`parse_user_query` (Whoosh) documents that it never raises; `compile_query` (PostgreSQL)
turns any parsed query into SQL, which must compile for PostgreSQL without error.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql
from whoosh import query as q

from kb.search.pg.query import compile_query, lexeme_literal
from kb.search.query import QUERYABLE_FIELDS, parse_user_query

REACHABLE = QUERYABLE_FIELDS | {"theme"}
"""What a typed query may search: `tag:` also finds entries in a theme of that name."""
# Query syntax, mixed with any text at all, so the parser's own operators come up often.
SYNTAX = st.sampled_from(
    ['"', "(", ")", "*", "?", "~", "~2", "^", "^5", ":", "AND", "OR", "NOT", "-", "+", "[", "]", "{", "}", "TO",
     "title:", "tag:", "status:", "author:", "kind:", "\\", "'", " ", "é", "İ", "ß", "\u200b", "\U0001f691"]
)  # fmt: skip
QUERIES = st.one_of(st.text(max_size=400), st.lists(st.one_of(SYNTAX, st.text(max_size=8)), max_size=40).map("".join))


def fields_of(node: q.Query) -> set[str]:
    """Every field a Whoosh query names, its leaves included."""
    found = {node.fieldname} if getattr(node, "fieldname", None) else set()
    for child in node.children():
        found |= fields_of(child)
    return found


@settings(max_examples=300, deadline=None)
@given(QUERIES)
def test_the_whoosh_reader_never_raises_and_never_names_a_hidden_field(text: str) -> None:
    parsed = parse_user_query(text)
    assert isinstance(parsed.notes, tuple)
    if parsed.query is not None:
        assert fields_of(parsed.query) <= REACHABLE


@settings(max_examples=300, deadline=None)
@given(QUERIES, st.sampled_from(["and", "or"]))
def test_the_postgresql_compiler_never_raises_and_its_sql_compiles(text: str, group: str) -> None:
    compiled = compile_query(parse_user_query(text, group=group))
    if compiled is not None:
        str(compiled.condition.compile(dialect=postgresql.dialect()))
        if compiled.ranking is not None:
            str(compiled.ranking.compile(dialect=postgresql.dialect()))


@given(st.text())
def test_a_lexeme_literal_is_one_quoted_operand(word: str) -> None:
    literal = lexeme_literal(word)
    assert literal.startswith("'")
    assert literal.endswith("'")
    assert "'" not in literal[1:-1].replace("''", "")
