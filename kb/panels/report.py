"""What the traceability matrix shows: a review's findings against their evidence; and who may trace a review.

It reads a review's findings through `visible_findings` (so readers who are not on the
panel see only published findings) and each citation through `citation_view.shown_citations`,
so a source the reader may not see appears only as "evidence held by the panel". The
report itself is built in `kb.panels.report_document`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kb.entries.models import Review
from kb.panels import queries
from kb.panels.citation_view import HELD_BY_PANEL, ShownCitation, shown_citations
from kb.panels.models import ENTRY_CITATIONS, PART_CITATIONS, Finding
from kb.permissions import Viewer, can
from kb.states import CitationKind, EntryKind, ReviewStatus

SOURCE_GROUPS: dict[str, str] = {
    "lesson": "Lessons",
    "paper": "Papers and their paragraphs",
    "review": "Reviews' documents",
    "comment": "Comments",
    "response": "Consultation responses",
    "held": "Evidence held by the panel",
    "missing": "Sources no longer in kb",
}
"""The matrix's groups of rows, in the order they are shown."""


def may_trace(viewer: Viewer, review: Review) -> bool:
    """Whether `viewer` may see the review's matrix, export and report: its panel and staff, or anyone once published.

    The caller has already checked that `viewer` may see the review itself.
    """
    return can(viewer, "review.work", review) or review.review_status == ReviewStatus.PUBLISHED


# --- The matrix ------------------------------------------------------------------------------------


@dataclass
class MatrixCell:
    """Whether one finding cites one source, and how (whole, or how many of its paragraphs or document pages)."""

    whole: int = 0
    paragraphs: int = 0
    others: int = 0
    pages: int = 0

    @property
    def cited(self) -> bool:
        """Whether the finding cites the source at all."""
        return bool(self.whole or self.paragraphs or self.others or self.pages)

    @property
    def text(self) -> str:
        """The cell's words: "Cited", "Cited: 2 paragraphs", "Cited twice" or "Not cited"."""
        if not self.cited:
            return "Not cited"
        parts: list[str] = []
        if self.whole:
            parts.append("whole")
        if self.paragraphs:
            parts.append(f"{self.paragraphs} paragraph{'s' if self.paragraphs != 1 else ''}")
        if self.pages:
            parts.append(f"{self.pages} document page{'s' if self.pages != 1 else ''}")
        if self.others > 1:
            parts.append(f"{self.others} items")
        return "Cited" + (f": {', '.join(parts)}" if parts and parts != ["whole"] else "")


@dataclass
class MatrixRow:
    """One cited source (or all the evidence a reader may not see) with a cell per finding."""

    key: tuple[str, int]
    group: str
    title: str
    link: str | None
    cells: dict[int, MatrixCell] = field(default_factory=dict)

    def cell(self, finding_id: int) -> MatrixCell:
        """The cell for a finding (empty when it does not cite this source)."""
        return self.cells.get(finding_id, MatrixCell())


@dataclass
class Matrix:
    """Findings (columns) against the lessons and evidence they cite (rows, in groups)."""

    findings: list[Finding]
    groups: list[tuple[str, list[MatrixRow]]]

    @property
    def empty(self) -> bool:
        """Whether no finding cites anything."""
        return not self.groups


def _row_key(shown: ShownCitation) -> tuple[str, str, int, str | None]:
    """Which row a citation counts in: (group, key kind, id, link)."""
    citation = shown.citation
    if not shown.shown:
        return "held", "held", 0, None
    if citation.kind in ENTRY_CITATIONS and citation.entry is not None:
        entry = citation.entry
        group = {EntryKind.LESSON.value: "lesson", EntryKind.REVIEW.value: "review"}.get(entry.kind, "paper")
        return group, "entry", entry.id, entry.path
    if citation.kind == CitationKind.COMMENT and citation.comment_id is not None:
        return "comment", "comment", citation.comment_id, shown.link
    if citation.kind == CitationKind.RESPONSE and citation.response_id is not None:
        return "response", "response", citation.response_id, shown.link
    return "missing", "missing", citation.id, None


def _row_title(shown: ShownCitation) -> str:
    if shown.citation.kind in PART_CITATIONS and shown.shown and shown.citation.entry is not None:
        return shown.citation.entry.title
    return shown.title


def build_matrix(viewer: Viewer, review: Review) -> Matrix:
    """The matrix of the review's findings `viewer` may read against what they cite, as `viewer` may see it."""
    findings = queries.findings_of(viewer, review)
    rows: dict[tuple[str, int], MatrixRow] = {}
    for finding in findings:
        for shown in shown_citations(viewer, finding.citations):
            group, key_kind, key_id, link = _row_key(shown)
            title = HELD_BY_PANEL if group == "held" else _row_title(shown)
            row = rows.setdefault((key_kind, key_id), MatrixRow((key_kind, key_id), group, title, link))
            cell = row.cells.setdefault(finding.id, MatrixCell())
            kind = shown.citation.kind
            if group == "held" or kind in (CitationKind.COMMENT, CitationKind.RESPONSE) or group == "missing":
                cell.others += 1
            elif kind == CitationKind.PARAGRAPH:
                cell.paragraphs += 1
            elif kind == CitationKind.PAGE:
                cell.pages += 1
            else:
                cell.whole += 1
    groups = [
        (label, sorted((row for row in rows.values() if row.group == group), key=lambda row: row.title.casefold()))
        for group, label in SOURCE_GROUPS.items()
    ]
    return Matrix(findings, [(label, group_rows) for label, group_rows in groups if group_rows])
