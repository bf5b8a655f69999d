"""The Preview button of the comment, finding and consultation forms: the text as it will look, nothing saved."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from kb.comments.models import Comment
from kb.consultations.models import Consultation
from kb.entries.models import Entry
from kb.extensions import db
from kb.panels.models import Finding
from tests.accounts import Cast, client_for, page_text, post_form
from tests.factories import add_comment
from tests.outcome_factory import make_consultation as closed_consultation
from tests.services.test_consultations import PUBLIC_PAPER
from tests.web.dom import parse
from tests.web.test_consultations import setup_form

MARKDOWN = "Some **firm** words <script>alert('x')</script> and a [link](https://example.org)."


def _count(model: type) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def _preview_of(response) -> str:
    """The preview section's HTML as the page shows it, checked to be safe and labelled."""
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    section = parse(response.data).one("section", cls="kb-preview")
    assert section.attrs["aria-labelledby"] == "typed-preview-heading"
    assert "<strong>firm</strong>" in html
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html
    assert 'data-kb-preview="' in html
    return section.text()


def _public_lesson() -> Entry:
    lesson = db.session.scalars(
        select(Entry).where(Entry.kind == "lesson", Entry.status == "published", Entry.visibility == "public")
    ).first()
    assert lesson is not None
    return lesson


def test_a_comment_preview_shows_the_text_and_posts_nothing(seeded_app: Flask, cast: Cast) -> None:
    lesson = _public_lesson()
    client = client_for(seeded_app, cast.member)
    entry_page = client.get(lesson.path).get_data(as_text=True)
    assert 'name="action" value="preview"' in entry_page
    assert 'data-kb-preview="Your comment"' in entry_page
    shown = post_form(client, f"{lesson.path}/comments", {"body": MARKDOWN, "action": "preview"}, page=lesson.path)
    text = _preview_of(shown)
    assert "Some firm words" in text
    assert MARKDOWN in page_text(shown)  # still in the form, as typed
    assert _count(Comment) == 0
    posted = post_form(client, f"{lesson.path}/comments", {"body": MARKDOWN}, page=lesson.path)
    assert posted.status_code == 303
    assert _count(Comment) == 1


def test_a_comment_edit_preview_keeps_the_saved_text(seeded_app: Flask, cast: Cast) -> None:
    comment = add_comment(_public_lesson(), cast.member, "As first written.")
    client = client_for(seeded_app, cast.member)
    edit = f"/comments/{comment.id}/edit"
    _preview_of(post_form(client, edit, {"body": MARKDOWN, "action": "preview"}))
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).body == "As first written."


def test_a_finding_preview_shows_both_texts_and_saves_nothing(seeded_app: Flask, cast: Cast) -> None:
    client = client_for(seeded_app, cast.panel)
    new = f"/reviews/{cast.review.slug}/findings/new"
    fields = {"title": "Readiness", "body": MARKDOWN, "recommendations": "Test *first*.", "action": "preview"}
    shown = post_form(client, new, fields)
    text = _preview_of(shown)
    assert "Finding" in text
    assert "Recommendations" in text
    assert "<em>first</em>" in shown.get_data(as_text=True)
    assert _count(Finding) == 0


def test_a_consultation_preview_shows_the_introduction_and_sets_up_nothing(seeded_app: Flask, cast: Cast) -> None:
    client = client_for(seeded_app, cast.moderator)
    new = f"/consultations/new?entry={PUBLIC_PAPER}"
    # A preview needs only the introduction: the dates may still be empty.
    shown = post_form(client, new, {**setup_form(introduction=MARKDOWN, opens_date=""), "action": "preview"})
    _preview_of(shown)
    assert _count(Consultation) == 0
    too_long = post_form(client, new, {**setup_form(introduction="x" * 100_000), "action": "preview"})
    assert too_long.status_code == 400
    assert 'class="kb-preview' not in too_long.get_data(as_text=True)


def test_an_outcome_preview_labels_each_change_and_saves_nothing(seeded_app: Flask, cast: Cast) -> None:
    consultation = closed_consultation(cast.review)
    client = client_for(seeded_app, cast.panel)
    edit = f"/consultations/{consultation.id}/outcome/edit"
    fields = {"we_asked": MARKDOWN, "you_said": "", "changes-0-we_did": "Moved the *date*.", "action": "preview"}
    shown = post_form(client, edit, fields)
    text = _preview_of(shown)
    assert "We asked" in text
    assert "Change 1: We did" in text
    assert "<em>date</em>" in shown.get_data(as_text=True)
    db.session.expire_all()
    assert not db.session.get(Consultation, consultation.id).we_asked


def test_the_preview_button_shows_links_to_entries_as_the_live_preview_does(seeded_app: Flask, cast: Cast) -> None:
    """The button and the script render with one function: a link to an entry the writer may see is a link."""
    lesson = _public_lesson()
    client = client_for(seeded_app, cast.member)
    body = f"{MARKDOWN} See [[{lesson.slug}]] and [[no-such-entry-anywhere]]."
    shown = post_form(client, f"{lesson.path}/comments", {"body": body, "action": "preview"}, page=lesson.path)
    _preview_of(shown)
    section = parse(shown.data).one("section", cls="kb-preview")
    assert lesson.path in section.hrefs()
    assert "/lessons/no-such-entry-anywhere" not in section.hrefs()
