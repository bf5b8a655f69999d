"""A review's report as one document: what it holds, in order, for one reader.

The page, the PDF and the Word file are all made from the `Report` that `build_report`
returns. Until the review is published the report is a draft, read only by the panel and
staff, and holds every finding not withdrawn; once published it holds the published
findings, for whoever may read the review. Each finding's citations are its notes,
numbered from 1 in position order, as the reader may see them (`shown_citations`); the
cited papers' paragraphs are looked up once for the whole report.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kb.comments.models import Comment
from kb.consultations.models import Response
from kb.dates import LONDON
from kb.documents.links import document_page_link
from kb.entries.models import Review
from kb.entries.service import current_revision, shown_rendering
from kb.extensions import db
from kb.panels import queries
from kb.panels.citation_view import ShownCitation, cited_paragraphs, shown_citations
from kb.panels.models import ENTRY_CITATIONS, Citation, Finding
from kb.permissions import Viewer, visible_findings
from kb.states import CitationKind, EntryKind, FindingStatus, ReviewStatus
from kb.users.models import User

DRAFT_MARK = "DRAFT: not published"
"""What marks every page of a report whose findings are not yet published."""


@dataclass(frozen=True)
class ReportFinding:
    """One finding of the report with its numbered notes (its citations as the reader sees them)."""

    finding: Finding
    notes: list[ShownCitation]

    @property
    def status_label(self) -> str:
        """The finding's status, for a draft report ("Agreed", "Draft")."""
        return FindingStatus.labels()[self.finding.status]


@dataclass(frozen=True)
class EvidenceItem:
    """One source the report's findings cite, listed once: its title, kind and address."""

    title: str
    kind: str
    link: str | None = None
    context: str = ""


@dataclass(frozen=True)
class ReportDate:
    """One dated step of the review: its label and the day, in words."""

    label: str
    day: str


@dataclass(frozen=True)
class Report:
    """Everything one reader's copy of a review's report holds."""

    review: Review
    draft: bool
    panel: list[User]
    terms_of_reference: Markup
    dates: list[ReportDate]
    findings: list[ReportFinding]
    evidence: list[EvidenceItem]
    held_by_panel: int
    """How many cited sources the reader may not see (listed only as held by the panel)."""

    @property
    def title(self) -> str:
        """The report's title."""
        return f"Report of the review: {self.review.title}"


def report_filename(slug: str, extension: str) -> str:
    """A safe file name for the review's report as a download, e.g. `nhs-111-review-report.pdf`."""
    safe = re.sub(r"[^a-z0-9-]+", "-", slug.lower()).strip("-")[:80] or "review"
    return f"{safe}-report.{extension}"


def london_day(moment: dt.datetime | None) -> str:
    """A stored UTC time as the day it was in London, e.g. `3 March 2026`."""
    if moment is None:
        return ""
    local = (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(LONDON)
    return f"{local.day} {local:%B %Y}"


def _report_findings(viewer: Viewer, review: Review, *, draft: bool) -> list[Finding]:
    """The findings the report holds, by number, with their citations, sources and corrections loaded at once."""
    query = select(Finding).where(Finding.review_id == review.id, visible_findings(viewer))
    if draft:
        query = query.where(Finding.status != FindingStatus.WITHDRAWN)
    else:
        query = query.where(Finding.status == FindingStatus.PUBLISHED)
    citations = selectinload(Finding.citations)
    query = query.options(
        selectinload(Finding.corrections),
        citations.selectinload(Citation.entry),
        citations.selectinload(Citation.document),
        citations.selectinload(Citation.comment).selectinload(Comment.entry),
        citations.selectinload(Citation.comment).selectinload(Comment.author),
        citations.selectinload(Citation.response).selectinload(Response.consultation),
    )
    return list(db.session.scalars(query.order_by(Finding.number)))


def _dates(review: Review, findings: list[Finding], *, draft: bool) -> list[ReportDate]:
    """The review's dated steps that have happened: commissioned, findings agreed, published, last corrected."""
    dates: list[ReportDate] = []
    if review.event_day is not None:
        dates.append(ReportDate("Commissioned", review.event_day.display()))
    else:
        dates.append(ReportDate("Created", london_day(review.created_at)))
    agreed = [finding.agreed_at for finding in findings if finding.agreed_at is not None]
    if findings and len(agreed) == len(findings):
        dates.append(ReportDate("Findings agreed", london_day(max(agreed))))
    published = [finding.published_at for finding in findings if finding.published_at is not None]
    if not draft and published:
        dates.append(ReportDate("Published", london_day(max(published))))
    corrected = [correction.corrected_at for finding in findings for correction in finding.corrections]
    if corrected:
        dates.append(ReportDate("Last corrected", london_day(max(corrected))))
    return dates


def _evidence_item(shown: ShownCitation) -> tuple[Any, EvidenceItem]:
    """The source a shown citation names, with the key that lists it once."""
    citation = shown.citation
    if citation.kind == CitationKind.PAGE and citation.document is not None and citation.entry is not None:
        document, entry = citation.document, citation.entry
        link = document_page_link(entry.path, document.id, 1).split("#")[0]
        return ("document", document.id), EvidenceItem(document.title, "Document", link, context=entry.title)
    if citation.kind in ENTRY_CITATIONS and citation.entry is not None:
        entry = citation.entry
        return ("entry", entry.id), EvidenceItem(entry.title, EntryKind.labels()[entry.kind], entry.path)
    if citation.kind == CitationKind.COMMENT and citation.comment_id is not None:
        return ("comment", citation.comment_id), EvidenceItem(shown.title, "Comment", shown.link)
    if citation.kind == CitationKind.RESPONSE and citation.response_id is not None:
        return ("response", citation.response_id), EvidenceItem(shown.title, "Consultation response", shown.link)
    return ("gone", citation.id), EvidenceItem(shown.title, shown.kind_label)


def _evidence(findings: list[ReportFinding]) -> tuple[list[EvidenceItem], int]:
    """Every source the findings cite that the reader may see, once, in the order first cited; and how many are held."""
    items: dict[Any, EvidenceItem] = {}
    held: set[Any] = set()
    for item in findings:
        for shown in item.notes:
            key, evidence = _evidence_item(shown)
            if shown.shown:
                items.setdefault(key, evidence)
            else:
                held.add(key)
    return list(items.values()), len(held)


def _terms_of_reference(review: Review) -> Markup:
    """The review's terms of reference as stored when it was last saved (sanitised HTML), or nothing."""
    revision = current_revision(review)
    if revision is None or "terms_of_reference" not in revision.rendered:
        return Markup("")
    html: Markup = shown_rendering(revision.rendered)["terms_of_reference"]["html"]
    return html


def build_report(viewer: Viewer, review: Review) -> Report:
    """The review's report as `viewer` may read it; the caller has checked `report.may_trace(viewer, review)`."""
    draft = review.review_status != ReviewStatus.PUBLISHED
    findings = _report_findings(viewer, review, draft=draft)
    paragraphs = cited_paragraphs([citation for finding in findings for citation in finding.citations])
    items = [
        ReportFinding(finding, shown_citations(viewer, finding.citations, paragraphs=paragraphs))
        for finding in findings
    ]
    evidence, held = _evidence(items)
    return Report(
        review=review,
        draft=draft,
        panel=queries.panel_members(review),
        terms_of_reference=_terms_of_reference(review),
        dates=_dates(review, findings, draft=draft),
        findings=items,
        evidence=evidence,
        held_by_panel=held,
    )
