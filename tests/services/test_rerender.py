"""`flask --app kb content rerender`: every stored rendering made again, as saving would make it."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import update

from kb.comments.models import Comment
from kb.consultations.models import Consultation
from kb.entries.models import Revision
from kb.entries.service import current_revisions
from kb.extensions import db
from kb.panels.models import Finding, FindingRevision
from tests.accounts import Cast
from tests.citation_factory import draft_finding
from tests.factories import add_comment
from tests.outcome_factory import make_consultation


def test_rerender_restores_every_stored_rendering_and_changes_nothing_else(seeded_app: Flask, cast: Cast) -> None:
    finding = draft_finding(cast)
    comment = add_comment(cast.review, cast.member, "A **bold** comment.")
    consultation = make_consultation(cast.review)
    db.session.commit()
    # A first pass settles what the seed import rendered with targets not all in place yet.
    assert seeded_app.test_cli_runner().invoke(args=["content", "rerender"]).exit_code == 0
    db.session.expire_all()
    entries_before = {entry_id: revision.rendered for entry_id, revision in current_revisions().items()}
    saved = (finding.body_html, finding.recommendations_html, comment.html, consultation.introduction_html)
    assert "<strong>bold</strong>" in comment.html
    assert consultation.introduction_html.startswith("<p>Tell us")
    for model, columns in (
        (Finding, ("body_html", "recommendations_html")),
        (FindingRevision, ("body_html", "recommendations_html")),
        (Comment, ("html",)),
        (Consultation, ("introduction_html",)),
    ):
        db.session.execute(update(model).values(dict.fromkeys(columns, "")))
    db.session.execute(update(Revision).values(rendered={}))
    db.session.commit()

    result = seeded_app.test_cli_runner().invoke(args=["content", "rerender"])

    assert result.exit_code == 0, result.output
    assert f"Rerender finished: {len(entries_before)} entries, 1 findings, " in result.output
    db.session.expire_all()
    finding, comment = db.session.get(Finding, finding.id), db.session.get(Comment, comment.id)
    consultation = db.session.get(Consultation, consultation.id)
    assert (finding.body_html, finding.recommendations_html, comment.html, consultation.introduction_html) == saved
    assert finding.revisions[0].body_html == saved[0].replace('id="f1-text-', 'id="r1-text-')
    assert {entry_id: revision.rendered for entry_id, revision in current_revisions().items()} == entries_before
