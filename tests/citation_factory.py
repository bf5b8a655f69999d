"""Test helpers for citations: a paper and a lesson of the cast's review, findings, and a consultation response."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from kb.consultations.models import Consultation, Response
from kb.entries.models import Entry
from kb.extensions import db
from kb.panels.models import Finding
from kb.panels.service import FindingText, agree_finding, create_finding, propose_agreement, publish_findings
from kb.users.models import User
from tests.accounts import Cast, make_user
from tests.conftest import import_files
from tests.factories import entry

PAPER_SLUG = "panel-evidence-on-call-handling"
LESSON_SLUG = "scripts-need-local-knowledge"
PANEL_NOTE_SLUG = "panel-only-note-on-scripts"
PARAGRAPHS = [
    "The panel heard that go-live dates were fixed before providers were ready.",
    "Call handlers followed scripts written for a national service, without local knowledge.",
    "Ambulance dispatches rose in the first weeks after launch.",
]
CITED = PARAGRAPHS[1]


def paper_text(paragraphs: list[str], *, review: str, visibility: str = "public") -> str:
    """A paper's content file with these paragraphs as its body."""
    body = "\n\n".join(paragraphs)
    return (
        f"---\nkind: paper\nslug: {PAPER_SLUG}\ntitle: Panel evidence on call handling\n"
        "summary: What the panel heard about call handling at launch.\n"
        f"visibility: {visibility}\nreview: {review}\npaper_type: briefing\n---\n\n{body}\n"
    )


LESSON_TEXT = f"""---
kind: lesson
slug: {LESSON_SLUG}
title: Scripts need local knowledge
summary: Call handlers reading national scripts sent people to services that did not exist locally.
---

## Driving event

Callers were directed to services that were closed.

## Lesson

Scripts need local directories kept up to date.

## Recommendation

Keep the directory of services current.

## Evidence

Reports from providers in the first month.
"""


def add_paper_and_lesson(folder: Path, cast: Cast, *, visibility: str = "public") -> tuple[Entry, Entry]:
    """Import a paper of the cast's review (three paragraphs), a public lesson and a panel-only note.

    Returns (paper, lesson).
    """
    import_files(
        folder,
        {
            f"papers/{PAPER_SLUG}.md": paper_text(PARAGRAPHS, review=cast.review.slug, visibility=visibility),
            f"lessons/{LESSON_SLUG}.md": LESSON_TEXT,
            f"papers/{PANEL_NOTE_SLUG}.md": (
                f"---\nkind: paper\nslug: {PANEL_NOTE_SLUG}\ntitle: Panel note on the scripts\n"
                "summary: A working note for the panel only.\nvisibility: panel\n"
                f"review: {cast.review.slug}\npaper_type: briefing\n---\n\nThe panel's own notes on the scripts.\n"
            ),
        },
    )
    return entry(PAPER_SLUG), entry(LESSON_SLUG)


def edit_paper(folder: Path, cast: Cast, paragraphs: list[str], *, visibility: str = "public") -> None:
    """Save a new revision of the paper with these paragraphs."""
    import_files(
        folder, {f"papers/{PAPER_SLUG}.md": paper_text(paragraphs, review=cast.review.slug, visibility=visibility)}
    )


def draft_finding(cast: Cast, title: str = "Scripts did not know the area") -> Finding:
    """A draft finding of the cast's review, by its panel member; committed."""
    finding = create_finding(
        cast.review,
        FindingText(title, "Call handlers lacked local knowledge.", "Keep directories current."),
        actor=cast.panel,
    )
    db.session.commit()
    return finding


def second_member(cast: Cast) -> User:
    """Another member of the cast's review panel."""
    return make_user("second-panel@example.org", panels=(cast.review,))


def publish(cast: Cast, *findings: Finding) -> None:
    """Agree every finding (proposed by the panel member, agreed by a second) and publish the review; committed."""
    second = db.session.scalar(select(User).where(User.email == "second-panel@example.org")) or second_member(cast)
    for finding in findings:
        propose_agreement(finding, actor=cast.panel)
        agree_finding(finding, actor=second)
    publish_findings(cast.review, actor=cast.panel)
    db.session.commit()


def submitted_response(on: Entry, author: User, *, status: str = "submitted") -> Response:
    """A closed consultation on `on` with one response by `author`; committed."""
    now = dt.datetime.now(dt.UTC)
    consultation = Consultation(
        entry_id=on.id,
        title="Consultation on the draft findings",
        opens_at=now - dt.timedelta(days=10),
        closes_at=now - dt.timedelta(days=1),
    )
    db.session.add(consultation)
    db.session.flush()
    response = Response(
        consultation_id=consultation.id,
        user_id=author.id,
        status=status,
        organisation_name="Test out-of-hours provider",
        organisation_type="out-of-hours-provider",
        region="South West",
        submitted_at=now - dt.timedelta(days=2) if status == "submitted" else None,
    )
    db.session.add(response)
    db.session.commit()
    return response
