"""Formatting discussions for download: Markdown threads and CSV, placeholders, and CSV formula safety."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from kb.comments.export import (
    BYTE_ORDER_MARK,
    CSV_COLUMNS,
    PLACEHOLDERS,
    ExportedComment,
    comments_csv,
    csv_safe,
    escape_markdown,
    export_filename,
    thread_markdown,
)
from kb.comments.tree import build_tree

SUMMER = dt.datetime(2026, 7, 1, 13, 5, tzinfo=dt.UTC)  # 14:05 in London (BST)
WINTER = dt.datetime(2026, 1, 10, 9, 30, tzinfo=dt.UTC)  # 09:30 in London (GMT)
EXPORTED = dt.datetime(2026, 7, 2, 8, 0, tzinfo=dt.UTC)


def comment(comment_id: int, parent_id: int | None = None, **changes: object) -> ExportedComment:
    values: dict[str, object] = {
        "id": comment_id,
        "parent_id": parent_id,
        "depth": 0,
        "author": f"Author {comment_id}",
        "organisation": "Wessex Urgent Care",
        "created_at": SUMMER + dt.timedelta(minutes=comment_id),
        "edited_at": None,
        "status": "visible",
        "permalink": f"https://kb.example.org/lessons/go-live#comment-{comment_id}",
        "body": f"Body of comment {comment_id}.",
        "readable": True,
    }
    values.update(changes)
    return ExportedComment(**values)  # type: ignore[arg-type]


def thread() -> list[ExportedComment]:
    """1 ← 2 ← 3 (a reply to a reply), 1 ← 4, and a second top-level comment 5."""
    return [
        comment(1),
        comment(2, 1, depth=1),
        comment(3, 2, depth=2),
        comment(4, 1, depth=1),
        comment(5),
    ]


def markdown_of(comments: list[ExportedComment], **options: object) -> str:
    return thread_markdown(
        "Go-live in winter",
        "https://kb.example.org/lessons/go-live",
        build_tree(comments),
        exported_at=EXPORTED,
        **options,  # type: ignore[arg-type]
    )


def rows_of(text: str) -> list[list[str]]:
    assert text.startswith(BYTE_ORDER_MARK)
    return list(csv.reader(io.StringIO(text[len(BYTE_ORDER_MARK) :], newline="")))


# Markdown


def test_markdown_names_the_entry_and_its_address():
    text = markdown_of(thread())
    lines = text.splitlines()
    assert lines[0] == "# Comments on Go-live in winter"
    assert "Entry: [Go-live in winter](https://kb.example.org/lessons/go-live)" in lines
    assert "5 comments, exported 2 July 2026, 09:00 (London time)." in lines


def test_each_comment_is_quoted_one_level_below_the_comment_it_answers():
    lines = markdown_of(thread()).splitlines()
    headers = {line.split("**")[1]: line.split("**")[0] for line in lines if "**Author" in line}
    assert headers == {"Author 1": "> ", "Author 2": "> > ", "Author 3": "> > > ", "Author 4": "> > ", "Author 5": "> "}
    order = [line.split("**")[1] for line in lines if "**Author" in line]
    assert order == ["Author 1", "Author 2", "Author 3", "Author 4", "Author 5"]
    assert "> > > Body of comment 3." in lines


def test_a_comment_header_has_author_organisation_london_time_and_permalink():
    lines = markdown_of([comment(1), comment(2, created_at=WINTER, edited_at=SUMMER)]).splitlines()
    assert (
        "> **Author 1** (Wessex Urgent Care) · 1 July 2026, 14:06 · "
        "[link](https://kb.example.org/lessons/go-live#comment-1)"
    ) in lines
    assert any(
        line.startswith("> **Author 2**") and "10 January 2026, 09:30 · edited 1 July 2026, 14:05" in line
        for line in lines
    )


def test_siblings_are_separate_quotes_and_top_level_threads_are_apart():
    text = markdown_of(thread())
    # The line between a reply and its sibling is at their parent's level: the sibling starts a new quote.
    assert "> > > Body of comment 3.\n>\n> > **Author 4**" in text
    # A reply follows its parent inside the parent's quote.
    assert "> Body of comment 1.\n>\n> > **Author 2**" in text
    # A top-level thread is set apart by an empty line, so the next one is a new quote.
    assert "> > Body of comment 4.\n\n> **Author 5**" in text


def test_a_multi_line_markdown_body_stays_inside_its_quote():
    body = "First paragraph.\n\n- a point\n- another\n\n```\ncode\n```"
    lines = markdown_of([comment(1), comment(2, 1, depth=1, body=body)]).splitlines()
    start = lines.index("> > First paragraph.")
    assert lines[start : start + 8] == [
        "> > First paragraph.",
        "> >",
        "> > - a point",
        "> > - another",
        "> >",
        "> > ```",
        "> > code",
        "> > ```",
    ]


def test_an_unreadable_comment_is_a_placeholder_and_its_replies_stay():
    comments = thread()
    comments[1] = comment(2, 1, depth=1, status="hidden", readable=False, body="Secret words")
    comments[0] = comment(1, status="removed", readable=False, body="Removed words")
    text = markdown_of(comments)
    assert "Secret words" not in text
    assert "Removed words" not in text
    assert "Author 1**" not in text
    assert "Author 2**" not in text
    assert f"> > *{PLACEHOLDERS['hidden']}*" in text
    assert f"> *{PLACEHOLDERS['removed']}*" in text
    assert "> > > **Author 3**" in text
    assert "> > > Body of comment 3." in text
    placeholder_headers = [line for line in text.splitlines() if "[link](" in line and "**" not in line]
    assert len(placeholder_headers) == 2
    for line in placeholder_headers:
        assert line.lstrip("> ").startswith("[link]("), line  # no posting or edit time


def test_a_hidden_comment_the_reader_may_read_is_shown_with_a_note():
    text = markdown_of([comment(1, status="hidden", body="Still readable by its author")])
    assert "Still readable by its author" in text
    assert "*hidden by a moderator*" in text


def test_a_branch_export_says_so_and_starts_at_the_top_level():
    comments = thread()[:4]
    nodes = build_tree(comments, root_id=2)
    text = thread_markdown("Go-live", "https://kb.example.org/x", nodes, exported_at=EXPORTED, branch=True)
    assert text.startswith("# A thread of comments on Go-live\n")
    assert "2 comments" in text
    assert "> **Author 2**" in text
    assert "> > **Author 3**" in text
    assert "Author 1" not in text
    assert "Author 4" not in text


def test_names_cannot_inject_markdown():
    text = markdown_of([comment(1, author="*Bold* [x](http://evil)", organisation="<b>Org</b>")])
    assert "**\\*Bold\\* \\[x\\](http://evil)** (\\<b\\>Org\\</b\\>)" in text
    assert escape_markdown("a_b#c|d") == "a\\_b\\#c\\|d"


def test_an_entry_without_comments_says_so():
    assert "There are no comments yet." in markdown_of([])
    assert "0 comments" in markdown_of([])


# CSV


def test_csv_has_a_header_and_one_row_per_comment_in_reading_order():
    rows = rows_of(comments_csv(build_tree(thread())))
    assert rows[0] == list(CSV_COLUMNS)
    assert [row[0] for row in rows[1:]] == ["1", "2", "3", "4", "5"]
    assert [row[1] for row in rows[1:]] == ["", "1", "2", "1", ""]
    assert [row[2] for row in rows[1:]] == ["0", "1", "2", "1", "0"]


def test_csv_row_holds_every_field_with_utc_and_london_times():
    rows = rows_of(comments_csv(build_tree([comment(7, edited_at=WINTER)])))
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record == {
        "id": "7",
        "parent id": "",
        "depth": "0",
        "author": "Author 7",
        "organisation": "Wessex Urgent Care",
        "posted (UTC)": "2026-07-01T13:12:00Z",
        "posted (London)": "2026-07-01T14:12:00+01:00",
        "edited (UTC)": "2026-01-10T09:30:00Z",
        "edited (London)": "2026-01-10T09:30:00+00:00",
        "status": "visible",
        "permalink": "https://kb.example.org/lessons/go-live#comment-7",
        "body": "Body of comment 7.",
    }


def test_csv_shows_placeholders_for_unreadable_comments():
    rows = rows_of(comments_csv(build_tree([comment(1, status="removed", readable=False, body="gone words")])))
    record = dict(zip(rows[0], rows[1], strict=True))
    assert (record["author"], record["organisation"], record["status"]) == ("", "", "removed")
    times = ("posted (UTC)", "posted (London)", "edited (UTC)", "edited (London)")
    assert [record[column] for column in times] == ["", "", "", ""]
    assert record["body"] == PLACEHOLDERS["removed"]
    assert "gone words" not in "".join(rows[1])


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_gets_a_leading_apostrophe(start):
    value = f'{start}HYPERLINK("http://evil","x")'
    assert csv_safe(value) == "'" + value
    rows = rows_of(comments_csv(build_tree([comment(1, body=value, author=value, organisation=value)])))
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["body"] == record["author"] == record["organisation"] == "'" + value


@pytest.mark.parametrize("value", ["plain", " =not at the start", "a=b", "'quoted", ""])
def test_other_cells_are_left_alone(value):
    assert csv_safe(value) == value


def test_commas_quotes_and_newlines_round_trip():
    body = 'Line one, with a comma\nLine "two" with quotes\r\nand a CRLF; ends with "'
    author = 'Smith, "Jo"'
    rows = rows_of(comments_csv(build_tree([comment(1, body=body, author=author), comment(2)])))
    assert len(rows) == 3
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["body"] == body
    assert record["author"] == author
    assert rows[2][0] == "2"


def test_csv_is_unicode_with_a_byte_order_mark():
    text = comments_csv(build_tree([comment(1, author="Zoë Ó Briain", body="Café → triage ✓")]))
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbf")
    assert rows_of(text)[1][3] == "Zoë Ó Briain"


def test_filenames_are_safe():
    assert export_filename("go-live", "comments", "csv") == "go-live-comments.csv"
    assert export_filename('a b/c"d', "comment-3-thread", "md") == "a-b-c-d-comment-3-thread.md"
