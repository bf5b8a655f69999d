"""The stored renderings of findings: made once when a finding is saved, made again when what they link to changes.

A finding's text is read by its review's panel (and staff) until published, then by every
reader of the review (`kb.permissions.can_view_finding`); its revisions only by the panel.
Its HTML is stored once for all of them, so a `[[slug]]` link shows its target's title
and address only when every such reader may see the target (`kb.permissions.link_is_shown`).
The entries a finding links to are kept in `FindingLink`, so a change to one of them (or
to the review's visibility) renders the findings concerned again. A finding's note markers
(`[^N]`, `kb.panels.notes`) are linked to its citations as they stand when it is rendered,
so adding or removing a citation renders its texts again (`rerender_notes`), and moving or
removing one rewrites the markers to the new numbers first (`renumbered_texts`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from kb.entries.targets import targets_for
from kb.extensions import db
from kb.markdown import LinkResolver, render
from kb.panels.models import Finding, FindingLink, FindingRevision
from kb.panels.notes import link_notes, renumber_markers
from kb.permissions import LinkEnd, link_end_for, link_resolver
from kb.states import FindingStatus

if TYPE_CHECKING:
    from kb.entries.targets import LinkTargets


def reader_end(finding: Finding, *, revision: bool = False) -> LinkEnd:
    """Who reads a finding (or, with `revision`, its past revisions), as the linking end of its links.

    The panel reads it while it is unpublished, and reads every revision; once published,
    the review's readers do (the review's author among them, on its panel or not).
    """
    review = finding.review
    if finding.status == FindingStatus.PUBLISHED and not revision:
        end = link_end_for(review)
        return LinkEnd("finding", "published", end.visibility, review.id, end.author_off_panel)
    return LinkEnd("finding", "published", "panel", review.id)


def _render_texts(saved: Finding | FindingRevision, resolve: LinkResolver, prefix: str) -> list[str]:
    """Render and store `saved`'s two texts; returns the slugs they link to."""
    body = render(saved.body, resolve, anchor_prefix=f"{prefix}-text-")
    recommendations = render(saved.recommendations, resolve, anchor_prefix=f"{prefix}-rec-")
    saved.body_html, saved.recommendations_html = body.html, recommendations.html
    if isinstance(saved, Finding):
        # Revisions keep their markers as typed: the citations they were written against may have changed since.
        known, seen = len(saved.citations), set[int]()
        saved.body_html = link_notes(body.html, saved.number, known, seen)
        saved.recommendations_html = link_notes(recommendations.html, saved.number, known, seen)
    return body.links + recommendations.links


def _link_ids(slugs: Collection[str], targets: LinkTargets) -> set[int]:
    return {targets[slug].id for slug in slugs if slug in targets}


def render_saved(finding: Finding, revision: FindingRevision | None, targets: LinkTargets) -> None:
    """Store the renderings of a finding just saved and of its new revision, and record what they link to.

    Links recorded for earlier revisions are kept: those revisions still show them.
    Flushes, so the finding has its id.
    """
    db.session.flush()
    slugs = _render_texts(finding, link_resolver(reader_end(finding), targets), f"f{finding.number}")
    if revision is not None:
        past = link_resolver(reader_end(finding, revision=True), targets)
        slugs += _render_texts(revision, past, f"r{revision.number}")
    known = set(db.session.scalars(select(FindingLink.entry_id).where(FindingLink.finding_id == finding.id)))
    db.session.add_all(
        FindingLink(finding_id=finding.id, entry_id=entry_id) for entry_id in _link_ids(slugs, targets) - known
    )
    db.session.flush()


def rerender_finding(finding: Finding, targets: LinkTargets) -> None:
    """Render a finding and every revision of it again, and record afresh the entries they link to."""
    slugs = _render_texts(finding, link_resolver(reader_end(finding), targets), f"f{finding.number}")
    past = link_resolver(reader_end(finding, revision=True), targets)
    for revision in finding.revisions:
        slugs += _render_texts(revision, past, f"r{revision.number}")
    wanted = _link_ids(slugs, targets)
    kept = set()
    for link in db.session.scalars(select(FindingLink).where(FindingLink.finding_id == finding.id)):
        if link.entry_id in wanted:
            kept.add(link.entry_id)
        else:
            db.session.delete(link)
    db.session.add_all(FindingLink(finding_id=finding.id, entry_id=entry_id) for entry_id in wanted - kept)


def rerender_notes(finding: Finding) -> None:
    """Render a finding's current texts again after its citations changed, so its note markers follow them.

    The entries its text links to are unchanged, so the links recorded for it stay.
    """
    texts = [finding.body, finding.recommendations]
    _render_texts(finding, link_resolver(reader_end(finding), targets_for(texts)), f"f{finding.number}")


def renumbered_texts(finding: Finding, new_numbers: Mapping[int, int | None]) -> tuple[str, str]:
    """The finding's body and recommendations with their note markers renumbered (`kb.panels.notes.renumber_markers`).

    Markers are told from plain text by rendering as the finding is rendered for its readers.
    """
    texts = [finding.body, finding.recommendations]
    resolve = link_resolver(reader_end(finding), targets_for(texts))

    def html(text: str) -> str:
        return render(text, resolve).html

    body = renumber_markers(finding.body, new_numbers, html)
    return body, renumber_markers(finding.recommendations, new_numbers, html)


def rerender_findings_linking_to(entry_ids: Collection[int], targets: LinkTargets) -> int:
    """Render again the findings that link to these entries, and the findings of these entries if reviews.

    A target's title, address, status or visibility decides how links to it appear, and a
    review's visibility who reads its published findings. Returns how many were rendered.
    """
    if not entry_ids:
        return 0
    ids = sorted(set(entry_ids))
    linking = select(FindingLink.finding_id).where(FindingLink.entry_id.in_(ids))
    findings = db.session.scalars(
        select(Finding).where(or_(Finding.id.in_(linking), Finding.review_id.in_(ids))).order_by(Finding.id)
    ).all()
    for finding in findings:
        rerender_finding(finding, targets)
    db.session.flush()
    return len(findings)
