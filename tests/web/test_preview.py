"""The live preview endpoint: `POST /preview` renders one Markdown text for kb's script, and saves nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from kb.entries.limits import PREVIEW_MAX_CHARS
from kb.entries.models import Revision
from kb.extensions import db
from tests.accounts import client_for, make_cast
from tests.conftest import make_app
from tests.web import seed
from tests.web.dom import parse
from tests.web.test_contributions import PUBLIC_LESSON, token_of


def _token(client) -> str:
    return token_of(client.get("/lessons/new").get_data(as_text=True))


def preview(client, text: str | None, *, token: str | None = None):
    data = {} if text is None else {"text": text}
    headers = {"X-CSRFToken": token} if token is not None else {}
    return client.post("/preview", data=data, headers=headers)


def test_a_member_gets_the_text_rendered_as_a_fragment(seeded_app, cast):
    member = client_for(seeded_app, cast.member)
    revisions = db.session.scalar(select(func.count(Revision.id)))
    response = preview(member, "## Findings\n\nCalls were **slow**.\n\n- one\n- two", token=_token(member))
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "no-store" in response.headers["Cache-Control"]
    html = response.get_data(as_text=True)
    assert "<html" not in html
    fragment = parse(html)
    assert fragment.one("strong").text() == "slow"
    assert [item.text() for item in fragment.find_all("li")] == ["one", "two"]
    assert fragment.one("h2").text() == "Findings"
    assert db.session.scalar(select(func.count(Revision.id))) == revisions


def test_markup_in_the_text_is_made_harmless(seeded_app, cast):
    member = client_for(seeded_app, cast.member)
    text = '<script>alert(1)</script> <img src=x onerror="alert(2)"> [click](javascript:alert(3)) **kept**'
    response = preview(member, text, token=_token(member))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    fragment = parse(html)
    assert "<script" not in html
    assert not fragment.find_all("script")
    assert not fragment.find_all("img")
    assert not [element for element in fragment.elements() if any(name.startswith("on") for name in element.attrs)]
    assert "javascript:" not in "".join(fragment.hrefs())
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert fragment.one("strong").text() == "kept"


def test_links_to_entries_follow_what_the_person_may_see(seeded_app, cast):
    member = client_for(seeded_app, cast.member)
    hidden = next(
        doc for doc in seed.all_documents().values() if doc.visibility == "panel" and doc.status == "published"
    )
    text = f"See [[{PUBLIC_LESSON.slug}]] and [[{hidden.slug}]]."
    hrefs = parse(preview(member, text, token=_token(member)).data).hrefs()
    assert seed.path_of(PUBLIC_LESSON) in hrefs
    assert seed.path_of(hidden) not in hrefs


def test_a_preview_needs_the_csrf_token(seeded_app, cast):
    member = client_for(seeded_app, cast.member)
    assert preview(member, "**text**").status_code == 400
    assert preview(member, "**text**", token="not-the-token").status_code == 400
    assert preview(member, "**text**", token=_token(member)).status_code == 200


def test_visitors_who_are_not_signed_in_get_no_preview(client):
    token = token_of(client.get("/login").get_data(as_text=True))
    response = preview(client, "**text**", token=token)
    assert response.status_code == 403
    assert response.mimetype == "text/plain"
    assert "<strong>" not in response.get_data(as_text=True)


def test_a_text_over_the_limit_is_refused_with_the_limit_named(seeded_app, cast):
    member = client_for(seeded_app, cast.member)
    token = _token(member)
    response = preview(member, "a" * (PREVIEW_MAX_CHARS + 1), token=token)
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert f"{PREVIEW_MAX_CHARS + 1:,} characters; the most is {PREVIEW_MAX_CHARS:,}" in response.get_data(as_text=True)
    assert preview(member, "a" * PREVIEW_MAX_CHARS, token=token).status_code == 200


def test_a_missing_text_is_refused(seeded_app, cast):
    member = client_for(seeded_app, cast.member)
    response = preview(member, None, token=_token(member))
    assert response.status_code == 400
    assert "no text" in response.get_data(as_text=True)


def test_previews_that_come_too_fast_are_slowed_for_that_person_only(tmp_path, seeded_database):
    app = make_app(tmp_path / "limited", seeded_database, PREVIEW_LIMIT_PER_USER="2 per minute")
    with app.app_context():
        cast = make_cast()
        member = client_for(app, cast.member)
        token = _token(member)
        assert [preview(member, "x", token=token).status_code for _ in range(3)] == [200, 200, 429]
        throttled = preview(member, "x", token=token)
        assert throttled.status_code == 429
        assert throttled.mimetype == "text/plain"
        assert "Too many previews" in throttled.get_data(as_text=True)
        other = client_for(app, cast.panel)
        assert preview(other, "x", token=_token(other)).status_code == 200
        db.session.remove()
