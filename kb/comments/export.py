"""Discussions written out for panels: a thread as Markdown, every comment of an entry as CSV.

Pure formatting over plain values, no app and no database: the routes load the comments,
decide who may read each one, and hand over `ExportedComment`s arranged by
`kb.comments.tree`. A comment the reader may not read keeps its place (its replies
stay under it) but shows a placeholder instead of its author, times and text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from kb.comments.tree import Node, walk
from kb.dates import iso_london, iso_utc, london_time

PLACEHOLDERS: dict[str, str] = {
    "hidden": "This comment was hidden by a moderator.",
    "removed": "This comment was removed by a moderator.",
}
"""What a reader who may not read a comment sees in its place, by its status."""
STATUS_NOTES: dict[str, str] = {"hidden": "hidden by a moderator", "removed": "removed by a moderator"}
"""How a comment's status is noted for a reader who may still read it (its author, a moderator)."""
CSV_COLUMNS = (
    "id",
    "parent id",
    "depth",
    "author",
    "organisation",
    "posted (UTC)",
    "posted (London)",
    "edited (UTC)",
    "edited (London)",
    "status",
    "permalink",
    "body",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet may run a cell starting with one of these as a formula (OWASP's list)."""
BYTE_ORDER_MARK = "\ufeff"
"""Written first, so spreadsheet programs read the file as UTF-8."""
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]<>#|])")


@dataclass(frozen=True)
class ExportedComment:
    """One comment as an export shows it; `readable` says whether the reader may read its author and text."""

    id: int
    parent_id: int | None
    depth: int
    author: str
    organisation: str
    created_at: dt.datetime
    edited_at: dt.datetime | None
    status: str
    permalink: str
    body: str
    readable: bool


# Markdown


def escape_markdown(text: str) -> str:
    """`text` with Markdown's markup characters backslash-escaped, for names shown in a heading line."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def _quoted(lines: Sequence[str], level: int) -> list[str]:
    """Lines inside `level` nested block quotes; an empty line keeps the quote open."""
    mark = "> " * level
    return [f"{mark}{line}".rstrip() if line.strip() else mark.rstrip() for line in lines]


def _header(comment: ExportedComment) -> str:
    parts = []
    if comment.readable:
        who = f"**{escape_markdown(comment.author)}**"
        if comment.organisation:
            who += f" ({escape_markdown(comment.organisation)})"
        parts.append(who)
    if comment.readable:
        parts.append(london_time(comment.created_at))
    if comment.readable and comment.edited_at is not None:
        parts.append(f"edited {london_time(comment.edited_at)}")
    if comment.readable and comment.status in STATUS_NOTES:
        parts.append(f"*{STATUS_NOTES[comment.status]}*")
    parts.append(f"[link]({comment.permalink})")
    return " · ".join(parts)


def _body_lines(comment: ExportedComment) -> list[str]:
    if not comment.readable:
        return [f"*{PLACEHOLDERS.get(comment.status, PLACEHOLDERS['removed'])}*"]
    return comment.body.replace("\r\n", "\n").replace("\r", "\n").strip("\n").split("\n")


def comment_block(node: Node[ExportedComment]) -> list[str]:
    """One comment as block-quote lines, nested one level deeper than the comment it answers."""
    return _quoted([_header(node.comment), "", *_body_lines(node.comment)], node.depth + 1)


def _separator(following: Node[ExportedComment]) -> str:
    """The line before a comment: inside its parent's quote, so it starts a quote of its own there."""
    return ("> " * following.depth).rstrip()


def thread_markdown(
    title: str, url: str, nodes: Sequence[Node[ExportedComment]], *, exported_at: dt.datetime, branch: bool = False
) -> str:
    """A Markdown document of `nodes` (an entry's threads, or one `branch`) under a heading naming the entry.

    Each comment is a block quote nested inside the one it replies to, headed by its
    author, organisation, London time and permalink, followed by its Markdown text.
    """
    count = sum(node.count() for node in nodes)
    heading = f"A thread of comments on {title}" if branch else f"Comments on {title}"
    lines = [
        f"# {escape_markdown(heading)}",
        "",
        f"Entry: [{escape_markdown(title)}]({url})",
        "",
        f"{count} comment{'s' if count != 1 else ''}, exported {london_time(exported_at)} (London time).",
        "",
    ]
    if not nodes:
        lines += ["There are no comments yet.", ""]
    for number, node in enumerate(walk(nodes)):
        if number:
            lines.append(_separator(node))
        lines += comment_block(node)
    return "\n".join(lines).rstrip("\n") + "\n"


# CSV


def csv_safe(value: str) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading apostrophe (OWASP)."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def csv_row(comment: ExportedComment) -> list[str | int]:
    """The CSV cells of one comment, in `CSV_COLUMNS` order; text cells made formula-safe."""
    readable = comment.readable
    body = comment.body if readable else PLACEHOLDERS.get(comment.status, PLACEHOLDERS["removed"])
    texts = [
        comment.author if readable else "",
        comment.organisation if readable else "",
        iso_utc(comment.created_at) if readable else "",
        iso_london(comment.created_at) if readable else "",
        iso_utc(comment.edited_at) if readable else "",
        iso_london(comment.edited_at) if readable else "",
        comment.status,
        comment.permalink,
        body,
    ]
    ids: list[str | int] = [comment.id, comment.parent_id if comment.parent_id is not None else "", comment.depth]
    return ids + [csv_safe(text) for text in texts]


def comments_csv(nodes: Sequence[Node[ExportedComment]]) -> str:
    """Every comment of `nodes` in reading order as CSV, starting with a byte order mark and a header row."""
    out = io.StringIO()
    out.write(BYTE_ORDER_MARK)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_row(node.comment) for node in walk(nodes))
    return out.getvalue()


def export_filename(slug: str, what: str, extension: str) -> str:
    """A download's file name, e.g. `out-of-hours-go-live-comments.csv`, with only safe characters."""
    stem = re.sub(r"[^A-Za-z0-9-]+", "-", f"{slug}-{what}").strip("-") or "comments"
    return f"{stem}.{extension}"
