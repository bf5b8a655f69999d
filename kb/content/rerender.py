"""Rendering every stored text again: entries, findings, consultation texts and comments.

Each kind of user text is rendered once when saved and printed from the store; after a
change to the renderer or its rules, `flask --app kb content rerender` brings every
stored rendering up to date, and records afresh the entries that findings and the
consultations' copies of findings link to. The caller commits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import func, select

from kb.comments.models import Comment
from kb.comments.service import render_body
from kb.consultations.copies import rerender_copy
from kb.consultations.models import RENDERED_TEXTS, ConsultedFinding, RenderedModel, render_texts
from kb.entries.models import Entry
from kb.entries.service import current_revisions, rerender_entry
from kb.entries.targets import link_targets
from kb.extensions import db
from kb.panels.models import Finding
from kb.panels.rendering import rerender_finding


@dataclass
class RerenderReport:
    """How many of each kind were rendered again, and the entries whose stored document no longer parses."""

    entries: int = 0
    findings: int = 0
    consultation_texts: int = 0
    comments: int = 0
    failed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the command's output."""
        failed = f"; {len(self.failed)} entries could not be read" if self.failed else ""
        return (
            f"{self.entries} entries, {self.findings} findings, {self.consultation_texts} consultation texts "
            f"and {self.comments} comments rendered again{failed}"
        )


def count_stored() -> int:
    """How many rows `rerender_everything` goes through, for a progress bar."""
    models: list[type] = [Entry, Finding, Comment, *RENDERED_TEXTS]
    return sum(db.session.scalar(select(func.count()).select_from(model)) or 0 for model in models)


def rerender_everything(on_row: Callable[[], None] = lambda: None) -> RerenderReport:
    """Render every stored text again with today's renderer, links and visibility; flushes, never commits."""
    report = RerenderReport(failed=[])
    targets = link_targets()
    entries = list(db.session.scalars(select(Entry).order_by(Entry.id)))
    revisions = current_revisions()
    for entry in entries:
        revision = revisions.get(entry.id)
        if revision is not None:
            if rerender_entry(entry, revision, targets):
                report.entries += 1
            else:
                report.failed.append(entry.slug)
        on_row()
    db.session.flush()
    for finding in db.session.scalars(select(Finding).order_by(Finding.id)):
        rerender_finding(finding, targets)
        report.findings += 1
        on_row()
    for model in RENDERED_TEXTS:
        for saved in db.session.scalars(select(model).order_by(model.id)):
            if isinstance(saved, ConsultedFinding):
                report.consultation_texts += rerender_copy(saved, targets)
            else:
                # select() over a union of models is typed as their common base.
                report.consultation_texts += render_texts(cast(RenderedModel, saved), every=True)
            on_row()
    for comment in db.session.scalars(select(Comment).order_by(Comment.id)):
        comment.html = render_body(comment.body, comment.id, comment.finding)
        report.comments += 1
        on_row()
    db.session.flush()
    return report
