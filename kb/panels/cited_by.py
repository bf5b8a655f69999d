"""Which findings cite an entry, a paragraph of a paper, a comment or a consultation response.

Every question is one query whatever the number of items asked about, and only findings
the viewer may read (`permissions.visible_findings`) are ever returned: a panel sees its
drafts, everyone else only the published findings of reviews they may read.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import ColumnElement, or_, select

from kb.comments.models import Comment
from kb.entries.models import Entry
from kb.extensions import db
from kb.panels.models import ENTRY_CITATIONS, Citation, Finding
from kb.permissions import Viewer, visible_findings
from kb.states import CitationKind


def finding_path(review_slug: str, number: int) -> str:
    """The address of a finding's page in its review's workspace."""
    return f"/reviews/{review_slug}/findings/{number}"


def report_path(review_slug: str, number: int | None = None) -> str:
    """The address of a published review's report, at one finding when `number` is given."""
    path = f"/reviews/{review_slug}/report"
    return f"{path}#finding-{number}" if number is not None else path


@dataclass(frozen=True)
class CitingFinding:
    """A finding that cites something, as "cited by finding N of review X" shows it."""

    finding_id: int
    number: int
    title: str
    status: str
    review_id: int
    review_slug: str
    review_title: str
    link: str
    """The finding's page for its panel and staff; its place in the report for other readers."""

    @property
    def label(self) -> str:
        """The words "finding N of <review title>"."""
        return f"finding {self.number} of {self.review_title}"


@dataclass
class CitedBy:
    """The findings citing each item asked about; items no visible finding cites are absent."""

    entries: dict[int, list[CitingFinding]] = field(default_factory=dict)
    """Per entry, every finding citing it whole, by one of its paragraphs or by a page of one of its documents."""
    paragraphs: dict[int, dict[str, list[CitingFinding]]] = field(default_factory=dict)
    """Per entry, per paragraph anchor, the findings citing that paragraph."""
    comments: dict[int, list[CitingFinding]] = field(default_factory=dict)
    responses: dict[int, list[CitingFinding]] = field(default_factory=dict)


_COLUMNS = (
    Citation.kind,
    Citation.entry_id,
    Citation.paragraph_anchor,
    Citation.comment_id,
    Citation.response_id,
    Finding.id,
    Finding.number,
    Finding.title,
    Finding.status,
    Finding.review_id,
    Entry.slug,
    Entry.title,
)


def _citing(viewer: Viewer, condition: ColumnElement[bool]) -> CitedBy:
    """Run the one query: citations matching `condition` whose finding `viewer` may read."""
    rows = db.session.execute(
        select(*_COLUMNS)
        .join(Finding, Citation.finding_id == Finding.id)
        .join(Entry, Entry.id == Finding.review_id)
        .where(condition, visible_findings(viewer))
        .order_by(Entry.title, Finding.number, Citation.position)
    ).all()
    cited = CitedBy()
    for kind, entry_id, anchor, comment_id, response_id, *finding in rows:
        citing = _citing_finding(viewer, *finding)
        if kind in ENTRY_CITATIONS and entry_id is not None:
            _add(cited.entries.setdefault(entry_id, []), citing)
            if kind == CitationKind.PARAGRAPH and anchor:
                _add(cited.paragraphs.setdefault(entry_id, {}).setdefault(anchor, []), citing)
        elif kind == CitationKind.COMMENT and comment_id is not None:
            _add(cited.comments.setdefault(comment_id, []), citing)
        elif kind == CitationKind.RESPONSE and response_id is not None:
            _add(cited.responses.setdefault(response_id, []), citing)
    return cited


def _citing_finding(
    viewer: Viewer,
    finding_id: int,
    number: int,
    title: str,
    status: str,
    review_id: int,
    review_slug: str,
    review_title: str,
) -> CitingFinding:
    on_panel = viewer.is_staff or review_id in viewer.panel_review_ids
    link = finding_path(review_slug, number) if on_panel else report_path(review_slug, number)
    return CitingFinding(finding_id, number, title, status, review_id, review_slug, review_title, link)


def _add(into: list[CitingFinding], citing: CitingFinding) -> None:
    if all(other.finding_id != citing.finding_id for other in into):
        into.append(citing)


def findings_citing(
    viewer: Viewer,
    *,
    entry_ids: Collection[int] = (),
    comment_ids: Collection[int] = (),
    response_ids: Collection[int] = (),
) -> CitedBy:
    """The findings `viewer` may read that cite each of these entries, comments and responses (one query)."""
    conditions: list[ColumnElement[bool]] = []
    if entry_ids:
        conditions.append(Citation.kind.in_(ENTRY_CITATIONS) & Citation.entry_id.in_(sorted(set(entry_ids))))
    if comment_ids:
        conditions.append((Citation.kind == CitationKind.COMMENT) & Citation.comment_id.in_(sorted(set(comment_ids))))
    if response_ids:
        conditions.append(
            (Citation.kind == CitationKind.RESPONSE) & Citation.response_id.in_(sorted(set(response_ids)))
        )
    if not conditions:
        return CitedBy()
    return _citing(viewer, or_(*conditions))


def cited_on_entry_page(viewer: Viewer, entry: Entry) -> CitedBy:
    """The findings citing `entry`, its paragraphs and its comments, in one query whatever the thread's size."""
    comments_here = select(Comment.id).where(Comment.entry_id == entry.id)
    condition = or_(
        Citation.kind.in_(ENTRY_CITATIONS) & (Citation.entry_id == entry.id),
        (Citation.kind == CitationKind.COMMENT) & Citation.comment_id.in_(comments_here),
    )
    return _citing(viewer, condition)


def entry_cited_by(viewer: Viewer, entry: Entry) -> dict[str, Any]:
    """The entry page's context: findings citing the entry, its paragraphs and its comments (a provider)."""
    cited = cited_on_entry_page(viewer, entry)
    return {
        "cited_by": cited.entries.get(entry.id, []),
        "cited_paragraphs": cited.paragraphs.get(entry.id, {}),
        "comment_cited_by": cited.comments,
    }


def _mark(citing: list[CitingFinding]) -> Markup:
    links = Markup(", ").join(Markup('<a href="{}">{}</a>').format(finding.link, finding.label) for finding in citing)
    return Markup('<strong class="kb-cited-mark">Cited by {}:</strong> ').format(links)


def mark_cited_paragraphs(html: Markup, cited: dict[str, list[CitingFinding]]) -> Markup:
    """A paper's rendering (Markup) with "Cited by finding N of review X" at the start of each cited paragraph.

    Only the marks are added, built with escaping, so the result is Markup too. Plain text
    given instead is escaped first, never trusted.
    """
    html = escape(html)
    if not cited:
        return html

    def mark(match: re.Match[str]) -> str:
        citing = cited.get(match.group(2))
        return match.group(0) + str(_mark(citing)) if citing else match.group(0)

    return Markup(re.sub(r'<(p|li) id="(p-[0-9a-f]{8}(?:-\d+)?)">', mark, html))  # noqa: S704 - marks are escaped
