"""Boundaries of panel and consultation pages: what cited comments, responses and exports show; odd input.

Each test pins a way material could reach someone who may not read it, or a request that
must be answered without a server error.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import update

from kb.comments.service import edit_comment
from kb.consultations import outcome
from kb.consultations.models import Consultation, OutcomeChange
from kb.dates import utcnow
from kb.extensions import db
from kb.panels.citations import add_citation
from tests.accounts import Cast, client_for, csrf_token, page_text, post_form
from tests.citation_factory import (
    LESSON_SLUG,
    LESSON_TEXT,
    PANEL_NOTE_SLUG,
    add_paper_and_lesson,
    draft_finding,
    publish,
)
from tests.conftest import import_files
from tests.factories import add_comment, entry
from tests.outcome_factory import answer, make_consultation

SEEDED_LESSON = "procurement-weighted-towards-cost"


def test_a_cited_comment_shows_its_current_words_not_those_it_had_when_cited(
    tmp_path: Path, seeded_app: Flask, cast: Cast
) -> None:
    paper, _ = add_paper_and_lesson(tmp_path, cast)
    comment = add_comment(paper, cast.member, "First words that the author later took back.")
    finding = draft_finding(cast)
    add_citation(finding, actor=cast.panel, kind="comment", comment=comment)
    db.session.commit()
    edit_comment(comment, "Corrected words.", actor=cast.member)
    db.session.commit()
    publish(cast, finding)
    reader = client_for(seeded_app)
    finding_page = page_text(reader.get(f"/reviews/{cast.review.slug}/findings/{finding.number}"))
    assert "Corrected words." in finding_page
    assert "took back" not in finding_page
    archive = zipfile.ZipFile(io.BytesIO(reader.get(f"/reviews/{cast.review.slug}/export.zip").data))
    review_file = archive.read(f"reviews/{cast.review.slug}.md").decode()
    assert "Corrected words." in review_file
    assert "took back" not in review_file


@pytest.mark.parametrize("closed", [False, True])
def test_the_panel_reads_a_response_only_after_the_close(seeded_app: Flask, cast: Cast, closed: bool) -> None:
    consultation = make_consultation(cast.review, closed=closed)
    response = answer(consultation, cast.member, text="Words I may still change.")
    path = f"/consultations/{consultation.id}/responses/{response.id}"
    assert client_for(seeded_app, cast.member).get(path).status_code == 200
    for reader in (cast.panel, cast.moderator):
        shown = client_for(seeded_app, reader).get(path)
        assert shown.status_code == (200 if closed else 404)
    editor = page_text(client_for(seeded_app, cast.panel).get(f"/consultations/{consultation.id}/outcome/edit"))
    assert ("Words I may still change." in editor) is closed


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/consultations/new?entry=nhs-alliance-discussion-paper", "questions-²-prompt"),
        ("/consultations/{consultation}/outcome/edit", "changes-²-we_did"),
    ],
)
def test_form_blocks_with_non_ascii_digit_indices_are_ignored(
    seeded_app: Flask, cast: Cast, path: str, field: str
) -> None:
    consultation = make_consultation(cast.review)
    client = client_for(seeded_app, cast.moderator)
    address = path.format(consultation=consultation.id)
    response = post_form(client, address, {"title": "Go-live readiness", field: "x"})
    assert response.status_code in (200, 303, 400)


def test_a_malformed_base_revision_on_the_action_form_is_not_a_server_error(seeded_app: Flask, cast: Cast) -> None:
    client = client_for(seeded_app, cast.moderator)
    path = f"/lessons/{SEEDED_LESSON}/action"
    page = client.get(path).get_data(as_text=True)
    response = client.post(path, data={"csrf_token": csrf_token(page), "base_revision": "²", "status": "accepted"})
    assert response.status_code in (200, 303, 400, 409)


def test_the_export_leaves_out_links_to_entries_the_reader_may_not_see(
    tmp_path: Path, seeded_app: Flask, cast: Cast
) -> None:
    add_paper_and_lesson(tmp_path, cast)
    linked_lesson = LESSON_TEXT.replace("\n---\n\n## Driving", f"\nsee_also:\n  - {PANEL_NOTE_SLUG}\n---\n\n## Driving")
    import_files(tmp_path, {f"lessons/{LESSON_SLUG}.md": linked_lesson})
    finding = draft_finding(cast)
    add_citation(finding, actor=cast.panel, kind="entry", entry=entry(LESSON_SLUG))
    db.session.commit()
    publish(cast, finding)
    path = f"/reviews/{cast.review.slug}/export.zip"
    public = zipfile.ZipFile(io.BytesIO(client_for(seeded_app).get(path).data))
    assert PANEL_NOTE_SLUG not in public.read(f"lessons/{LESSON_SLUG}.md").decode()
    panel = zipfile.ZipFile(io.BytesIO(client_for(seeded_app, cast.panel).get(path).data))
    assert PANEL_NOTE_SLUG in panel.read(f"lessons/{LESSON_SLUG}.md").decode()


def test_an_outcome_published_meanwhile_by_someone_else_is_not_published_again(cast: Cast) -> None:
    consultation = make_consultation(cast.review)
    answer(consultation, cast.member, text="Please publish the dates.")
    consultation.we_asked, consultation.you_said = "Whether the dates were right.", "They were not."
    consultation.changes.append(OutcomeChange(we_did="We moved the dates."))
    db.session.commit()
    # Another panel member's publish lands between this one's load and its claim.
    db.session.execute(
        update(Consultation)
        .where(Consultation.id == consultation.id)
        .values(outcome_published_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    assert consultation.outcome_published_at is None
    with pytest.raises(outcome.OutcomeError, match="already published"):
        outcome.publish_outcome(consultation, actor=cast.panel)
