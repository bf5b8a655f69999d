"""A finding's discussion through the test client: the section, posting, preview, errors, replies, resolving,
and the comment's absence from every other surface for those who may not work on the finding."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kb.comments.models import Comment
from kb.comments.service import post_comment
from kb.entries.models import Entry
from kb.extensions import db
from kb.panels.models import Finding
from kb.panels.service import FindingText, create_finding
from kb.states import CommentStatus
from kb.users.models import User
from tests.accounts import Cast, client_for, csrf_token, make_user, page_text, post_form
from tests.web.dom import main_of

WORD = "quillfeather"


@pytest.fixture
def second(cast: Cast) -> User:
    """Another member of `cast.review`'s panel."""
    return make_user("panel-two@example.org", panels=(cast.review,))


@pytest.fixture
def finding(cast: Cast) -> Finding:
    made = create_finding(cast.review, FindingText("Handover notes were lost", "Text.", "Keep them."), actor=cast.panel)
    db.session.commit()
    return made


def _url(finding: Finding, tail: str = "") -> str:
    return f"/reviews/{finding.review.slug}/findings/{finding.number}{tail}"


def _talk(finding: Finding, author: User, body: str, parent: Comment | None = None) -> Comment:
    comment = post_comment(finding.review, body, actor=author, parent=parent, finding=finding)
    db.session.commit()
    return comment


def _discussion(client: FlaskClient, finding: Finding) -> str:
    response = client.get(_url(finding))
    assert response.status_code == 200
    section = main_of(response.data).find("section", cls="kb-finding-discussion")
    return section.text() if section is not None else ""


def test_the_panel_starts_a_thread_and_sees_it_on_the_finding(seeded_app: Flask, cast: Cast, second, finding) -> None:
    client = client_for(seeded_app, cast.panel)
    assert "0 open threads" in _discussion(client, finding)
    response = post_form(
        client, _url(finding, "/comments"), {"body": f"Where are the {WORD} notes?"}, page=_url(finding)
    )
    assert response.status_code == 303
    comment = db.session.scalar(db.select(Comment).where(Comment.finding_id == finding.id))
    assert response.headers["Location"].endswith(_url(finding, f"#comment-{comment.id}"))
    shown = _discussion(client_for(seeded_app, second), finding)
    assert WORD in shown
    assert "1 open thread" in shown


def test_preview_and_a_refused_post_keep_the_text_and_post_nothing(seeded_app: Flask, cast: Cast, finding) -> None:
    client = client_for(seeded_app, cast.panel)
    preview = post_form(client, _url(finding, "/comments"), {"body": "Some *stress*", "action": "preview"})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "<em>stress</em>" in html
    assert "Some *stress*</textarea>" in html
    empty = post_form(client, _url(finding, "/comments"), {"body": "   "}, page=_url(finding))
    html = empty.get_data(as_text=True)
    assert empty.status_code == 400
    assert re.search(r"<title>Error: ", html)
    assert 'href="#body"' in html
    long = "x" * 10_001
    refused = post_form(client, _url(finding, "/comments"), {"body": long}, page=_url(finding))
    assert refused.status_code == 400
    assert long in page_text(refused)
    assert db.session.scalar(db.select(Comment.id)) is None


def test_a_stale_token_keeps_the_text_as_a_draft(seeded_app: Flask, cast: Cast, finding) -> None:
    client = client_for(seeded_app, cast.panel)
    response = client.post(_url(finding, "/comments"), data={"body": "Typed before lunch", "csrf_token": "stale"})
    assert response.status_code == 303
    back = response.headers["Location"]
    assert "draft=" in back
    assert "Typed before lunch" in page_text(client.get(back))


def test_replying_from_the_reply_link_answers_in_the_thread(seeded_app: Flask, cast: Cast, second, finding) -> None:
    opener = _talk(finding, cast.panel, "A point.")
    client = client_for(seeded_app, second)
    response = client.get(f"/comments/{opener.id}/reply")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(_url(finding, f"?reply={opener.id}#finding-comment-form"))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'name="parent_id" type="hidden" value="{opener.id}"' in page
    posted = client.post(
        _url(finding, "/comments"),
        data={"body": "Answered.", "parent_id": str(opener.id), "csrf_token": csrf_token(page)},
    )
    assert posted.status_code == 303
    reply = db.session.scalar(db.select(Comment).where(Comment.parent_id == opener.id))
    assert reply.finding_id == finding.id


def test_one_s_own_comment_is_edited_as_elsewhere(seeded_app: Flask, cast: Cast, finding) -> None:
    comment = _talk(finding, cast.panel, "First words.")
    client = client_for(seeded_app, cast.panel)
    response = post_form(client, f"/comments/{comment.id}/edit", {"body": "Better words."})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(_url(finding, f"#comment-{comment.id}"))
    assert "Better words." in _discussion(client, finding)


# --- Resolving ---------------------------------------------------------------------------------------


def _resolve(client: FlaskClient, finding: Finding, comment: Comment, action: str = "resolve"):
    path = _url(finding, f"/comments/{comment.id}/resolve")
    return client.post(path, data={"action": action, "csrf_token": csrf_token(client.get("/").get_data(as_text=True))})


def test_who_may_resolve(seeded_app: Flask, cast: Cast, second, finding) -> None:
    opener = _talk(finding, second, "Settle this.")
    assert _resolve(client_for(seeded_app, cast.member), finding, opener).status_code == 404
    third = make_user("panel-three@example.org", panels=(cast.review,))
    assert _resolve(client_for(seeded_app, third), finding, opener).status_code == 403
    assert _resolve(client_for(seeded_app, second), finding, opener).status_code == 303  # the opener
    assert _resolve(client_for(seeded_app, cast.panel), finding, opener, "reopen").status_code == 303  # the holder
    assert _resolve(client_for(seeded_app, cast.panel), finding, opener).status_code == 303


def test_a_resolved_thread_is_folded_but_kept(seeded_app: Flask, cast: Cast, second, finding) -> None:
    opener = _talk(finding, second, f"The {WORD} point.")
    _talk(finding, second, "Still open.")
    client = client_for(seeded_app, second)
    _resolve(client, finding, opener)
    main = main_of(client.get(_url(finding)).data)
    [folded] = main.find_all("details", cls="kb-thread--resolved")
    assert folded.one("summary").text().startswith(f"Resolved by {second.display_name} on ")
    assert WORD in folded.text()
    assert "1 open thread, 1 resolved" in main.one("section", cls="kb-finding-discussion").text()


# --- Never anywhere else --------------------------------------------------------------------------------


def test_outsiders_meet_404_on_every_address_of_the_discussion(seeded_app: Flask, cast: Cast, finding) -> None:
    comment = _talk(finding, cast.panel, f"The {WORD} question.")
    addresses = [
        f"/comments/{comment.id}",
        f"/comments/{comment.id}/thread",
        f"/comments/{comment.id}/reply",
        f"/comments/{comment.id}/edit",
        f"/comments/{comment.id}/flag",
        f"/comments/{comment.id}/thread.md",
        f"/comments/{comment.id}/versions",
    ]
    for user in (cast.member, cast.other_panel, cast.author):
        client = client_for(seeded_app, user)
        for address in addresses:
            assert client.get(address).status_code == 404, (user.email, address)
        assert client.post(_url(finding, "/comments"), data={"body": "x"}).status_code in (303, 404)
    anonymous = seeded_app.test_client()
    for address in addresses[:2]:
        assert anonymous.get(address).status_code == 404
    assert (
        client_for(seeded_app, cast.panel)
        .get(f"/comments/{comment.id}")
        .headers["Location"]
        .endswith(_url(finding, f"#comment-{comment.id}"))
    )


def test_a_non_panel_post_is_refused_and_saves_nothing(seeded_app: Flask, cast: Cast, finding) -> None:
    client = client_for(seeded_app, cast.member)
    token = csrf_token(client.get("/").get_data(as_text=True))
    assert client.post(_url(finding, "/comments"), data={"body": "In", "csrf_token": token}).status_code == 404
    assert db.session.scalar(db.select(Comment.id)) is None


def test_the_review_s_page_counts_and_exports_leave_the_discussion_out(seeded_app: Flask, cast: Cast, finding) -> None:
    _talk(finding, cast.panel, f"The {WORD} question.")
    review = cast.review
    for user in (cast.panel, cast.member, cast.moderator):
        client = client_for(seeded_app, user)
        for address in (review.path, f"{review.path}/comments.md", f"{review.path}/comments.csv", "/reviews"):
            response = client.get(address)
            assert response.status_code == 200, address
            assert WORD not in response.get_data(as_text=True), (user.email, address)
        assert 'Comments <span class="kb-muted">(0)</span>' in client.get(review.path).get_data(as_text=True)


def test_a_published_finding_s_readers_do_not_see_the_discussion(seeded_app: Flask, cast: Cast, finding) -> None:
    _talk(finding, cast.panel, f"The {WORD} question.")
    finding.status = "published"
    db.session.commit()
    response = client_for(seeded_app, cast.member).get(_url(finding))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert WORD not in html
    assert 'id="discussion"' not in html


def test_the_notifications_page_shows_the_panel_the_new_comment(seeded_app: Flask, cast: Cast, second, finding) -> None:
    comment = _talk(finding, cast.panel, "Look at this, @panel-two.")
    page = main_of(client_for(seeded_app, second).get("/notifications").data)
    links = [a.attrs.get("href", "") for a in page.find_all("a")]
    assert any(link.endswith(_url(finding, f"#comment-{comment.id}")) for link in links)
    assert "mentioned you" in page.text()
    assert "mentioned you" not in main_of(client_for(seeded_app, cast.member).get("/notifications").data).text()


def test_a_flag_on_a_finding_comment_reaches_the_moderators_queue(seeded_app: Flask, cast: Cast, second, finding):
    comment = _talk(finding, cast.panel, f"The {WORD} remark.")
    response = post_form(
        client_for(seeded_app, second), f"/comments/{comment.id}/flag", {"reason": "off-topic", "note": ""}
    )
    assert response.status_code == 303
    queue = client_for(seeded_app, cast.moderator).get("/moderation/flags")
    assert WORD in queue.get_data(as_text=True)
    assert client_for(seeded_app, cast.member).get(f"/moderation/comments/{comment.id}").status_code == 404


def test_posting_too_often_answers_429_and_keeps_the_text(seeded_app: Flask, cast: Cast, finding) -> None:
    seeded_app.config["COMMENT_LIMIT_PER_USER"] = "2 per minute"
    client = client_for(seeded_app, cast.panel)
    preview = post_form(client, _url(finding, "/comments"), {"body": "seen first", "action": "preview"})
    assert preview.status_code == 200  # a preview does not count
    for text in ("one", "two"):
        assert post_form(client, _url(finding, "/comments"), {"body": text}, page=_url(finding)).status_code == 303
    blocked = post_form(client, _url(finding, "/comments"), {"body": "three, typed with care"}, page=_url(finding))
    assert blocked.status_code == 429
    assert "posted a lot of comments in a short time" in page_text(blocked)
    assert "three, typed with care" in page_text(blocked)
    assert blocked.get_data(as_text=True).count('class="kb-comment"') == 2


def test_a_throttled_post_to_a_finding_one_may_not_discuss_is_404(seeded_app: Flask, cast: Cast, finding) -> None:
    seeded_app.config["COMMENT_LIMIT_PER_USER"] = "1 per minute"
    client = client_for(seeded_app, cast.member)
    lesson = db.session.scalar(
        db.select(Entry).where(Entry.kind == "lesson", Entry.status == "published", Entry.visibility == "public")
    )
    token = csrf_token(client.get(lesson.path).get_data(as_text=True))
    assert client.post(f"{lesson.path}/comments", data={"body": "one", "csrf_token": token}).status_code == 303
    throttled = client.post(_url(finding, "/comments"), data={"body": "two, for the panel", "csrf_token": token})
    assert throttled.status_code == 404
    assert "two, for the panel" not in page_text(throttled)
    allowed = client_for(seeded_app, cast.panel)
    seeded_app.config["COMMENT_LIMIT_PER_USER"] = "0 per minute"
    blocked = allowed.post(_url(finding, "/comments"), data={"body": "three", "csrf_token": token})
    assert blocked.status_code == 429


def test_a_reply_deeper_than_the_page_shows_is_refused_with_the_text_kept(seeded_app: Flask, cast: Cast, finding):
    parent = _talk(finding, cast.panel, "Top.")
    for depth in range(1, 5):
        parent = _talk(finding, cast.panel, f"Depth {depth}.", parent=parent)
    client = client_for(seeded_app, cast.panel)
    page = client.get(_url(finding)).get_data(as_text=True)
    assert f"/comments/{parent.id}/reply" not in page
    refused = client.post(
        _url(finding, "/comments"),
        data={"body": "Too deep", "parent_id": str(parent.id), "csrf_token": csrf_token(page)},
    )
    assert refused.status_code == 400
    assert "as deep as a finding" in page_text(refused)
    assert "Too deep" in page_text(refused)


def test_a_removed_comment_leads_the_panel_to_its_placeholder_and_stays_hidden_from_others(
    seeded_app: Flask, cast: Cast, second, finding
) -> None:
    comment = _talk(finding, second, f"The {WORD} question.")
    comment.status = CommentStatus.REMOVED
    db.session.commit()
    panel = client_for(seeded_app, cast.panel)
    response = panel.get(f"/comments/{comment.id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(_url(finding, f"#comment-{comment.id}"))
    page = main_of(panel.get(_url(finding)).data)
    shown = page.find("section", cls="kb-finding-discussion")
    assert shown is not None
    assert shown.find("p", cls="kb-comment__placeholder") is not None
    assert WORD not in shown.text()
    for user in (cast.member, cast.other_panel):
        assert client_for(seeded_app, user).get(f"/comments/{comment.id}").status_code == 404
    assert seeded_app.test_client().get(f"/comments/{comment.id}").status_code == 404
