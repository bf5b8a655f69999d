"""Nothing typed into a long form is lost: through an ended session, a stale form token and a sign-in,
and while typing (POST /drafts); drafts of others stay hidden; expired drafts are purged."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from kb.comments.models import Comment
from kb.consultations.models import Consultation, Response
from kb.drafts.models import FormDraft
from kb.entries.models import Entry, Revision
from kb.extensions import db
from kb.panels.models import Finding
from kb.panels.service import FindingText, create_finding
from kb.states import ReviewStatus
from kb.users.models import User
from tests.accounts import Cast, client_for, csrf_token, login_as, page_text, post_form, sign_in
from tests.factories import add_comment
from tests.outcome_factory import make_consultation as closed_consultation
from tests.services.test_consultations import PUBLIC_PAPER, ids, open_now
from tests.services.test_consultations import entry as entry_by_slug
from tests.web.test_contributions import LESSON

TYPED = "Written slowly over an hour: nothing of it may be lost."


class FormFields(HTMLParser):
    """The fields one form of a page would send as it stands (inputs, checked boxes, textareas, selections)."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._textarea: str | None = None
        self._select: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form" and found.get("id") == self.form_id:
            self.inside = True
        if not self.inside or ("name" not in found and tag != "option"):
            return
        if tag == "input":
            kind = found.get("type", "text")
            if kind in ("submit", "button", "file") or (kind in ("checkbox", "radio") and "checked" not in found):
                return
            self.fields.append((found["name"], found.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "textarea":
            self._textarea, self._text = found["name"], ""
        elif tag == "select":
            self._select = found["name"]
        elif tag == "option" and self._select and "selected" in found:
            self.fields.append((self._select, found.get("value", "")))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, self._text.removeprefix("\r\n").removeprefix("\n")))
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self.inside = False


def form_fields(html: str, form_id: str) -> dict[str, str]:
    parser = FormFields(form_id)
    parser.feed(html)
    assert parser.fields, f"no form #{form_id} on the page"
    return dict(parser.fields)


def end_session(client: FlaskClient) -> None:
    """Let the session run out, as 60 idle minutes would."""
    with client.session_transaction() as session:
        session["seen_at"] = int(time.time()) - 61 * 60


@dataclass
class LongForm:
    """One long form: who writes in it, where it is shown and posted, and what posting it does."""

    name: str
    writer: str
    form_id: str
    text_field: str
    prepare: Callable[[Flask, Cast], tuple[str, str]]
    """Sets the scene; returns (the page that shows the form, the address it posts to)."""
    extra: dict[str, str]
    taken: Callable[[Cast], bool]
    """Whether the post was taken and stored."""


def _lesson(app: Flask, cast: Cast) -> Entry:
    author = client_for(app, cast.author)
    assert post_form(author, "/lessons/new", {**LESSON, "action": "save"}).status_code == 303
    found = db.session.scalar(select(Entry).where(Entry.title == LESSON["title"]))
    assert found is not None
    return found


def _new_lesson(app: Flask, cast: Cast) -> tuple[str, str]:
    return "/lessons/new", "/lessons/new"


def _edit_lesson(app: Flask, cast: Cast) -> tuple[str, str]:
    path = f"{_lesson(app, cast).path}/edit"
    return path, path


def _document(app: Flask, cast: Cast) -> tuple[str, str]:
    path = f"{entry_by_slug(PUBLIC_PAPER).path}/edit-file"
    return path, path


def _fields(app: Flask, cast: Cast) -> tuple[str, str]:
    path = f"{entry_by_slug(PUBLIC_PAPER).path}/edit"
    return path, path


def _new_review(app: Flask, cast: Cast) -> tuple[str, str]:
    return "/reviews/new", "/reviews/new"


def _new_finding(app: Flask, cast: Cast) -> tuple[str, str]:
    path = f"/reviews/{cast.review.slug}/findings/new"
    return path, path


def _edit_finding(app: Flask, cast: Cast) -> tuple[str, str]:
    create_finding(cast.review, FindingText("Go-live came first", "Before.", ""), actor=cast.panel)
    db.session.commit()
    path = f"/reviews/{cast.review.slug}/findings/1/edit"
    return path, path


def _answer(app: Flask, cast: Cast) -> tuple[str, str]:
    consultation = open_now(entry_by_slug(PUBLIC_PAPER))
    return f"/consultations/{consultation.id}", f"/consultations/{consultation.id}/answer"


def _new_consultation(app: Flask, cast: Cast) -> tuple[str, str]:
    path = f"/consultations/new?entry={PUBLIC_PAPER}"
    return path, path


def _outcome(app: Flask, cast: Cast) -> tuple[str, str]:
    path = f"/consultations/{closed_consultation(cast.review).id}/outcome/edit"
    return path, path


def _comment_edit(app: Flask, cast: Cast) -> tuple[str, str]:
    lesson = db.session.scalars(
        select(Entry).where(Entry.kind == "lesson", Entry.status == "published", Entry.visibility == "public")
    ).first()
    assert lesson is not None
    comment = add_comment(lesson, cast.member, "Before the edit.")
    path = f"/comments/{comment.id}/edit"
    return path, path


def _has_lesson(cast: Cast) -> bool:
    found = select(func.count()).select_from(Entry).where(Entry.title == "Kept through a sign-in")
    return db.session.scalar(found) == 1


def _revision_has_text(cast: Cast) -> bool:
    return db.session.scalar(select(func.count()).select_from(Revision).where(Revision.document.contains(TYPED))) > 0


def _review_written(cast: Cast) -> bool:
    found = select(func.count()).select_from(Entry).where(Entry.title == "Kept review", Entry.body.contains(TYPED))
    return db.session.scalar(found) == 1


def _finding_saved(cast: Cast) -> bool:
    return db.session.scalar(select(func.count()).select_from(Finding).where(Finding.body == TYPED)) == 1


def _answered(cast: Cast) -> bool:
    response = db.session.scalar(select(Response))
    return response is not None and any(answer.text == TYPED for answer in response.answers)


def _consultation_set_up(cast: Cast) -> bool:
    return (
        db.session.scalar(select(func.count()).select_from(Consultation).where(Consultation.introduction == TYPED)) == 1
    )


def _outcome_saved(cast: Cast) -> bool:
    return db.session.scalar(select(func.count()).select_from(Consultation).where(Consultation.we_asked == TYPED)) == 1


def _comment_edited(cast: Cast) -> bool:
    return db.session.scalar(select(Comment.body)) == TYPED


FORMS = [
    LongForm("lesson", "author", "lesson-form", "evidence", _new_lesson,
             {**LESSON, "title": "Kept through a sign-in", "action": "save"}, _has_lesson),
    LongForm("lesson edit", "author", "lesson-form", "evidence", _edit_lesson, {"action": "save"}, _revision_has_text),
    LongForm("file editor", "moderator", "document-form", "message", _document, {}, _revision_has_text),
    LongForm("field editor", "moderator", "staff-form", "body", _fields, {"action": "save"}, _revision_has_text),
    LongForm("new review", "moderator", "staff-form", "body", _new_review,
             {"title": "Kept review", "summary": "A review kept through a sign-in.",
              "commissioning_body": "The alliance", "review_status": ReviewStatus.IN_PROGRESS, "action": "save"},
             _review_written),
    LongForm("new finding", "panel", "merged-form", "body", _new_finding, {"title": "Kept"}, _finding_saved),
    LongForm("finding edit", "panel", "merged-form", "body", _edit_finding, {}, _finding_saved),
    LongForm("consultation answer", "member", "answer-form", "", _answer, {"action": "draft"}, _answered),
    LongForm("consultation set-up", "moderator", "consultation-form", "introduction", _new_consultation,
             {"title": "Readiness", "opens_date": "2030-03-01", "opens_time": "09:00", "closes_date": "2030-04-01",
              "closes_time": "17:00", "questions-0-kind": "text", "questions-0-prompt": "Anything?",
              "action": "save"}, _consultation_set_up),
    LongForm("outcome page", "panel", "outcome-form", "we_asked", _outcome, {"then": "save"}, _outcome_saved),
    LongForm("comment edit", "member", "comment-edit-form", "body", _comment_edit, {}, _comment_edited),
]  # fmt: skip


def _typed_fields(html: str, form: LongForm) -> dict[str, str]:
    """The form as shown with the case's fields, and TYPED in its long text (an answer form's first question)."""
    fields = {**form_fields(html, form.form_id), **form.extra}
    if form.name == "file editor":
        fields["text"] = fields["text"].rstrip() + f"\n\n{TYPED}\n"
    else:
        name = form.text_field or f"answer-{ids(db.session.scalars(select(Consultation)).one())[0]}"
        fields[name] = TYPED
    return fields


def _sign_in_again(client: FlaskClient, writer: User, back: str) -> None:
    if writer.role != "member":
        # Staff sign in with a second factor too; the session it ends with is the same.
        login_as(client, writer)
        return
    signed_in = sign_in(client, writer.email, next=back)
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == back


@pytest.mark.parametrize("form", FORMS, ids=[form.name for form in FORMS])
def test_the_text_survives_an_ended_session_and_a_sign_in(seeded_app: Flask, cast: Cast, form: LongForm) -> None:
    page, action = form.prepare(seeded_app, cast)
    writer = getattr(cast, form.writer)
    client = client_for(seeded_app, writer)
    html = client.get(page).get_data(as_text=True)
    fields = _typed_fields(html, form)
    end_session(client)

    kept = client.post(action, data=fields)
    assert kept.status_code == 303
    location = urlsplit(kept.headers["Location"])
    assert location.path == "/login"
    (back,) = parse_qs(location.query)["next"]
    assert urlsplit(back).path == urlsplit(page).path
    assert "draft=" in back
    assert not form.taken(cast)

    _sign_in_again(client, writer, back)
    shown = client.get(back.split("#")[0])
    assert shown.status_code == 200
    text = page_text(shown)
    assert TYPED in text
    assert "Your text was kept and has not been sent yet" in text

    again = form_fields(shown.get_data(as_text=True), form.form_id)
    sent = client.post(action, data={**again, **form.extra})
    assert sent.status_code == 303, page_text(sent)[:2000]
    assert form.taken(cast)
    owner_drafts = select(func.count()).select_from(FormDraft).where(FormDraft.owner_id == writer.id)
    assert db.session.scalar(owner_drafts) == 0


@pytest.mark.parametrize("form", FORMS, ids=[form.name for form in FORMS])
def test_a_stale_form_token_keeps_the_text(seeded_app: Flask, cast: Cast, form: LongForm) -> None:
    page, action = form.prepare(seeded_app, cast)
    client = client_for(seeded_app, getattr(cast, form.writer))
    fields = _typed_fields(client.get(page).get_data(as_text=True), form)
    kept = client.post(action, data={**fields, "csrf_token": "stale"})
    assert kept.status_code == 303
    assert urlsplit(kept.headers["Location"]).path == urlsplit(page).path
    shown = client.get(kept.headers["Location"].split("#")[0])
    assert shown.status_code == 200
    assert TYPED in page_text(shown)
    assert not form.taken(cast)


# --- Saving while typing -------------------------------------------------------------------------


def _autosave(client: FlaskClient, token: str, path: str, **fields: str):
    return client.post("/drafts", data={"path": path, **fields}, headers={"X-CSRFToken": token})


def test_an_autosaved_draft_is_offered_again_after_the_session_runs_out_and_a_sign_in(
    seeded_app: Flask, cast: Cast
) -> None:
    author = client_for(seeded_app, cast.author)
    token = csrf_token(author.get("/lessons/new").get_data(as_text=True))
    assert _autosave(author, token, "/lessons/new", csrf_token=token, title="Half", evidence=TYPED).status_code == 200
    end_session(author)
    assert author.get("/lessons/new").status_code == 302  # signed out by the idle limit
    assert sign_in(author, cast.author.email).status_code == 302
    assert "Bring it back into the form" in page_text(author.get("/lessons/new"))
    # A browser that never saved a draft does not look for one (no query on every form page).
    elsewhere = client_for(seeded_app, cast.author)
    assert "Bring it back into the form" not in page_text(elsewhere.get("/lessons/new"))


def test_autosave_keeps_a_draft_that_comes_back_only_to_its_writer(seeded_app: Flask, cast: Cast) -> None:
    author = client_for(seeded_app, cast.author)
    token = csrf_token(author.get("/lessons/new").get_data(as_text=True))
    saved = _autosave(author, token, "/lessons/new", csrf_token=token, title="Half a title", evidence=TYPED)
    assert saved.status_code == 200
    assert saved.json is not None
    assert saved.json["saved"] is True
    assert saved.json["message"].startswith("Draft saved")
    draft = db.session.scalar(select(FormDraft))
    assert draft is not None
    assert (draft.owner_id, draft.path) == (cast.author.id, "/lessons/new")
    assert draft.fields == {"title": ["Half a title"], "evidence": [TYPED]}

    # Saved again: the same draft, replaced.
    assert _autosave(author, token, "/lessons/new", evidence=TYPED + " More.").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(FormDraft)) == 1

    offered = page_text(author.get("/lessons/new"))
    assert "Bring it back into the form" in offered
    assert TYPED not in offered
    restored = page_text(author.get(f"/lessons/new?draft={draft.token}"))
    assert TYPED + " More." in restored

    other = client_for(seeded_app, cast.member)
    theirs = page_text(other.get(f"/lessons/new?draft={draft.token}"))
    assert TYPED not in theirs
    assert "Bring it back" not in theirs
    other_token = csrf_token(theirs)
    refused = other.post(f"/drafts/{draft.token}/discard", data={"csrf_token": other_token, "back": "/lessons/new"})
    assert refused.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(FormDraft)) == 1

    gone = author.post(f"/drafts/{draft.token}/discard", data={"csrf_token": token, "back": "/lessons/new"})
    assert gone.status_code == 303
    assert gone.headers["Location"] == "/lessons/new"
    assert db.session.scalar(select(func.count()).select_from(FormDraft)) == 0


def test_autosave_needs_the_form_token_a_sign_in_and_a_page_of_this_site(seeded_app: Flask, cast: Cast) -> None:
    author = client_for(seeded_app, cast.author)
    token = csrf_token(author.get("/lessons/new").get_data(as_text=True))
    assert author.post("/drafts", data={"path": "/lessons/new", "evidence": TYPED}).status_code == 400
    assert _autosave(author, "stale", "/lessons/new", evidence=TYPED).status_code == 400
    for path in ("https://elsewhere.example/lessons/new", "//elsewhere.example/x", "/lessons/new?x=1"):
        refused = _autosave(author, token, path, evidence=TYPED)
        assert refused.status_code == 400, path
        assert refused.json is not None
        assert refused.json["saved"] is False
    too_long = _autosave(author, token, "/lessons/new", evidence="x" * (seeded_app.config["FORM_DRAFT_MAX_CHARS"] + 1))
    assert too_long.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(FormDraft)) == 0

    end_session(author)
    signed_out = _autosave(author, token, "/lessons/new", evidence=TYPED)
    assert signed_out.status_code == 401
    assert signed_out.json is not None
    assert "signed out" in signed_out.json["reason"]
    assert db.session.scalar(select(func.count()).select_from(FormDraft)) == 0


def test_purge_deletes_only_expired_drafts(seeded_app: Flask, cast: Cast) -> None:
    from kb.drafts.service import keep_draft

    old = keep_draft("/lessons/new", {"evidence": ["old"]}, owner_id=cast.author.id, address=None)
    keep_draft("/lessons/new", {"evidence": ["fresh"]}, owner_id=cast.member.id, address=None)
    keep_draft("/lessons/new", {"evidence": ["nobody's"]}, owner_id=None, address="192.0.2.7")
    old.updated_at = old.updated_at - dt.timedelta(days=8)
    db.session.commit()
    result = seeded_app.test_cli_runner().invoke(args=["drafts", "purge"])
    assert result.exit_code == 0, result.output
    assert "purged 1 expired form draft\n" in result.output
    db.session.expire_all()
    left = db.session.scalars(select(FormDraft.fields)).all()
    assert sorted(fields["evidence"][0] for fields in left) == ["fresh", "nobody's"]


def test_sign_in_after_a_post_goes_back_to_the_page_never_to_a_post_only_address(seeded_app: Flask, cast: Cast) -> None:
    client = seeded_app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    # A post-only address that needs a sign-in, reached signed out from a form page.
    posted = client.post(
        "/drafts/some-token/discard",
        data={"csrf_token": token},
        headers={"Referer": "http://localhost/lessons/new?draft=abc"},
    )
    assert posted.status_code == 302
    (back,) = parse_qs(urlsplit(posted.headers["Location"]).query)["next"]
    assert back == "/lessons/new?draft=abc"
    elsewhere = client.post(
        "/drafts/some-token/discard", data={"csrf_token": token}, headers={"Referer": "https://elsewhere.example/"}
    )
    assert "next" not in parse_qs(urlsplit(elsewhere.headers["Location"]).query)


# --- Drafts nobody owns come back only where they were posted ------------------------------------

PLANTED = "Planted by someone else: this must never appear in another person's form."


def _post_signed_out(client: FlaskClient, text: str, **headers: str):
    """A lesson posted from a browser with no session (or a forged cross-site post, which arrives without cookies)."""
    return client.post("/lessons/new", data={**LESSON, "evidence": text, "action": "save"}, headers=headers)


def _own_draft(owner: User, text: str) -> FormDraft:
    from kb.drafts.service import keep_draft

    draft = keep_draft("/lessons/new", {"evidence": [text]}, owner_id=owner.id, address=None)
    db.session.commit()
    return draft


def _drafts() -> list[tuple[int | None, str]]:
    db.session.expire_all()
    rows = db.session.execute(select(FormDraft.owner_id, FormDraft.fields).order_by(FormDraft.id))
    return [(owner_id, fields["evidence"][0]) for owner_id, fields in rows]


def test_a_draft_nobody_owns_is_not_given_to_whoever_opens_its_link(seeded_app: Flask, cast: Cast) -> None:
    kept = _post_signed_out(seeded_app.test_client(), PLANTED)
    assert kept.status_code == 303
    (back,) = parse_qs(urlsplit(kept.headers["Location"]).query)["next"]
    assert "draft=" in back
    _own_draft(cast.moderator, "The moderator's own half-written lesson.")

    moderator = client_for(seeded_app, cast.moderator)
    for opened in (back.split("#")[0], f"/login?next={back}"):
        shown = moderator.get(opened, follow_redirects=True)
        assert shown.status_code == 200
        text = page_text(shown)
        assert PLANTED not in text
        assert "Your text was kept" not in text
    # Nothing of the moderator's went, and the planted draft is still nobody's.
    assert _drafts() == [(None, PLANTED), (cast.moderator.id, "The moderator's own half-written lesson.")]


def test_a_draft_nobody_owns_comes_back_in_the_browser_that_posted_it(seeded_app: Flask, cast: Cast) -> None:
    browser = seeded_app.test_client()
    kept = _post_signed_out(browser, TYPED)
    (back,) = parse_qs(urlsplit(kept.headers["Location"]).query)["next"]
    signed_in = sign_in(browser, cast.author.email, next=back)
    assert signed_in.headers["Location"] == back
    shown = page_text(browser.get(back.split("#")[0]))
    assert TYPED in shown
    assert "Your text was kept and has not been sent yet" in shown
    assert _drafts() == [(cast.author.id, TYPED)]


def test_ones_own_draft_survives_a_draft_posted_signed_out_in_the_same_browser(seeded_app: Flask, cast: Cast) -> None:
    _own_draft(cast.author, "Saved while typing, earlier.")
    browser = seeded_app.test_client()
    (back,) = parse_qs(urlsplit(_post_signed_out(browser, TYPED).headers["Location"]).query)["next"]
    sign_in(browser, cast.author.email, next=back)
    # The text just posted comes back; the draft saved earlier stays the author's, untouched.
    assert TYPED in page_text(browser.get(back.split("#")[0]))
    assert _drafts() == [(cast.author.id, "Saved while typing, earlier."), (None, TYPED)]


@pytest.mark.parametrize(
    "headers",
    [{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://elsewhere.example"}],
    ids=["fetch metadata", "origin"],
)
def test_a_post_from_another_site_is_never_kept(seeded_app: Flask, cast: Cast, headers: dict[str, str]) -> None:
    refused = _post_signed_out(seeded_app.test_client(), PLANTED, **headers)
    assert refused.status_code == 400
    assert "Your form was not sent" in page_text(refused)
    assert _drafts() == []
    same_site = _post_signed_out(seeded_app.test_client(), TYPED, **{"Sec-Fetch-Site": "same-origin"})
    assert same_site.status_code == 303
    assert _drafts() == [(None, TYPED)]


def test_two_tabs_saving_the_same_draft_at_once_leave_one_draft(
    seeded_app: Flask, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kb.drafts import service

    # The other tab's draft is saved between this save's look-up and its insert.
    _own_draft(cast.author, "From the other tab.")
    real_owned = service._owned
    lookups = iter([None])
    monkeypatch.setattr(service, "_owned", lambda owner_id, path: next(lookups, real_owned(owner_id, path)))
    draft = service.keep_draft("/lessons/new", {"evidence": [TYPED]}, owner_id=cast.author.id, address=None)
    db.session.commit()
    assert draft.fields == {"evidence": [TYPED]}
    assert _drafts() == [(cast.author.id, TYPED)]
