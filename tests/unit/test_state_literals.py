"""No code in kb compares a state with a string literal: it compares with a member of kb.states.

A comparison is found in the syntax tree: `==`, `!=`, `in`, `not in` and SQL's `.in_`/`.not_in`,
where one side names a state (an attribute or variable called `status`, `visibility`, `kind`,
`old_status`, `form.kind.data`, `values.get("visibility")`, ...) and the other is a string (or
a tuple, list or set of strings) that is one of that state's values.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator

from kb.config import PROJECT_ROOT
from kb.states import (
    AccountStatus,
    ActionStatus,
    CitationKind,
    CommentStatus,
    EntryKind,
    EntryStatus,
    FindingStatus,
    FlagReason,
    FlagResolution,
    FollowTarget,
    LabelledEnum,
    LinkRelation,
    Maturity,
    NotificationKind,
    OrganisationType,
    PaperStatus,
    PaperType,
    QuestionKind,
    RecurrenceDecision,
    ResponseStatus,
    ReviewStatus,
    Role,
    Visibility,
)

STATE_NAMES: dict[str, tuple[type[LabelledEnum], ...]] = {
    "status": (
        EntryStatus,
        CommentStatus,
        FindingStatus,
        ResponseStatus,
        ActionStatus,
        ReviewStatus,
        PaperStatus,
        AccountStatus,
    ),
    "visibility": (Visibility,),
    "kind": (EntryKind, CitationKind, QuestionKind, NotificationKind),
    "role": (Role,),
    "maturity": (Maturity,),
    "paper_type": (PaperType,),
    "relation": (LinkRelation,),
    "reason": (FlagReason,),
    "resolution": (FlagResolution,),
    "decision": (RecurrenceDecision,),
    "target_type": (FollowTarget,),
    "organisation_type": (OrganisationType,),
}
"""A name (or the end of one after `_`) that holds a state, and the sets of states it may hold."""

KB = PROJECT_ROOT / "kb"
SQL_IN = frozenset({"in_", "not_in"})


def _state_name(node: ast.expr) -> str | None:
    """The state a node names, if it names one: `x.status`, `status`, `form.kind.data`, `values.get("kind")`."""
    if isinstance(node, ast.Attribute) and node.attr == "data":
        node = node.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args:
        key = node.args[0]
        name = key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
    elif isinstance(node, ast.Attribute):
        name = node.attr
    elif isinstance(node, ast.Name):
        name = node.id
    else:
        return None
    if name is None:
        return None
    for state in STATE_NAMES:
        if name == state or name.endswith(f"_{state}"):
            return state
    return None


def _strings(node: ast.expr) -> list[str]:
    """The string literals a node is or holds (a string, or a tuple, list or set of them)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [item.value for item in node.elts if isinstance(item, ast.Constant) and isinstance(item.value, str)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"frozenset", "set"}:
        return [text for argument in node.args for text in _strings(argument)]
    return []


def _compared(tree: ast.AST) -> Iterator[tuple[int, str, str]]:
    """Each (line, state, literal) where a state is compared with a literal that is one of its values."""
    for node in ast.walk(tree):
        pairs: list[tuple[ast.expr, ast.expr]] = []
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for (left, right), op in zip(itertools.pairwise(operands), node.ops, strict=True):
                if isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn):
                    pairs += [(left, right), (right, left)]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_IN:
            pairs += [(node.func.value, argument) for argument in node.args]
        for named, literal in pairs:
            state = _state_name(named)
            if state is None:
                continue
            values = {value for states in STATE_NAMES[state] for value in states.values()}
            for text in _strings(literal):
                if text in values:
                    yield node.lineno, state, text


def test_the_guard_finds_a_literal_comparison_of_a_state() -> None:
    source = """
if entry.status == "published" or "draft" != visibility:
    pass
query.where(Entry.kind.in_(("lesson", "paper")), form.kind.data != "choice", values.get("role") in {"admin"})
if old_status not in ("draft", "agreed") or row.kind == "removed" or decision == "dismiss":
    pass
"""
    found = sorted(_compared(ast.parse(source)))
    assert found == [
        (2, "status", "published"),
        (2, "visibility", "draft"),
        (4, "kind", "choice"),
        (4, "kind", "lesson"),
        (4, "kind", "paper"),
        (4, "role", "admin"),
        (5, "status", "agreed"),
        (5, "status", "draft"),
    ]


def test_no_state_is_compared_with_a_string_literal() -> None:
    found = [
        f"{path.relative_to(PROJECT_ROOT)}:{line}: {state} compared with {text!r}"
        for path in sorted(KB.rglob("*.py"))
        for line, state, text in _compared(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert found == [], "compare with a member of kb.states instead:\n" + "\n".join(found)
