"""What the workspace and finding pages show: form data, entry-page context.

These helpers read models and build what templates need; they change nothing. The
routes in `kb.panels.routes` parse requests, call a service and commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import url_for

from kb.entries.models import Entry, Review
from kb.panels import queries
from kb.panels.models import FINDING_STATUSES, Finding
from kb.panels.service import FindingText
from kb.permissions import Viewer, can
from kb.states import ReviewStatus


def finding_document(text: FindingText) -> str:
    """A finding as one plain text, for diffs: its title, text and recommendations under labels."""
    return f"Title: {text.title}\n\nFinding:\n{text.body}\n\nRecommendations:\n{text.recommendations}\n"


def form_data(finding: Finding) -> dict[str, Any]:
    """The finding form's starting values from the saved finding."""
    return {
        "title": finding.title,
        "body": finding.body,
        "recommendations": finding.recommendations,
        "base_revision": str(finding.revision_number),
    }


def base_number(value: str | None) -> int | None:
    """The revision number a form says it started from, or None when missing or garbled."""
    text = (value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


@dataclass
class WorkspaceFinding:
    """A row of the workspace's findings table."""

    finding: Finding
    citations: int


def workspace_findings(viewer: Viewer, review: Review) -> list[WorkspaceFinding]:
    """The review's findings with their citation counts and holders, in a bounded number of queries."""
    findings = queries.findings_of(viewer, review, with_holders=True)
    counts = queries.citation_counts([finding.id for finding in findings])
    return [WorkspaceFinding(finding, counts.get(finding.id, 0)) for finding in findings]


def publishable(rows: list[WorkspaceFinding]) -> bool:
    """Whether the panel can publish now: no finding is a draft and at least one agreed one waits."""
    statuses = {row.finding.status for row in rows}
    return "agreed" in statuses and "draft" not in statuses


def report_url(review: Review) -> str | None:
    """The address of the review's report page, which exists once the review is published."""
    if review.review_status != ReviewStatus.PUBLISHED:
        return None
    return url_for("traceability.report", slug=review.slug)


def entry_findings(viewer: Viewer, entry: Entry) -> dict[str, Any]:
    """Context for `panels/_entry_findings.html` on a review's page; nothing for other entries.

    The panel (and staff) get a link to the workspace with counts by status; every reader
    of a published review gets its published findings' titles.
    """
    if not isinstance(entry, Review):
        return {}
    context: dict[str, Any] = {"finding_statuses": FINDING_STATUSES}
    if can(viewer, "review.work", entry):
        context["workspace_counts"] = queries.status_counts(viewer, entry)
    published = queries.findings_of(viewer, entry, status="published")
    if published:
        context["published_findings"] = published
        context["findings_report_url"] = report_url(entry)
    return context if len(context) > 1 else {}
