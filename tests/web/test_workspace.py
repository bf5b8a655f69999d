"""The review workspace and finding pages through the test client: who sees them, drafting, agreeing, publishing."""

from __future__ import annotations

import re
from html import unescape

from flask import Flask
from flask.testing import FlaskClient

from kb.extensions import db
from kb.panels.models import Finding
from kb.panels.service import FindingText, agree_finding, create_finding, propose_agreement
from tests.accounts import Cast, client_for, csrf_token, make_user, page_text, post_form

BODY = "Providers said they were not ready.\n\nThe date did not move.\n\nNobody wrote down why."


def _urls(cast: Cast) -> dict[str, str]:
    slug = cast.review.slug
    return {"workspace": f"/reviews/{slug}/workspace", "new": f"/reviews/{slug}/findings/new"}


def _finding_url(cast: Cast, number: int = 1, tail: str = "") -> str:
    return f"/reviews/{cast.review.slug}/findings/{number}{tail}"


def _draft(cast: Cast, title: str = "Go-live dates came before readiness", body: str = BODY) -> Finding:
    finding = create_finding(cast.review, FindingText(title, body, "Agree a readiness test."), actor=cast.panel)
    db.session.commit()
    return finding


def _form(html: str) -> dict[str, str]:
    """The finding form's fields as the page shows them (title, texts, hidden base revision)."""
    fields = {"csrf_token": csrf_token(html)}
    for name in ("title", "base_revision", "message"):
        match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
        value = re.search(r'value="([^"]*)"', match.group(0)) if match else None
        fields[name] = unescape(value.group(1)) if value else ""
    for name in ("body", "recommendations"):
        match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>\r?\n?(.*?)</textarea>', html, re.S)
        fields[name] = unescape(match.group(1)) if match else ""
    return fields


# --- Who sees what ---------------------------------------------------------------------------------


def test_workspace_is_for_the_panel_and_staff(seeded_app: Flask, cast: Cast) -> None:
    _draft(cast)
    urls = [
        *_urls(cast).values(),
        _finding_url(cast),
        _finding_url(cast, tail="/edit"),
        _finding_url(cast, tail="/history"),
        _finding_url(cast, tail="/history/1"),
        _finding_url(cast, tail="/compare?from=1&to=1"),
    ]
    for user in (cast.panel, cast.moderator, cast.admin):
        client = client_for(seeded_app, user)
        for url in urls:
            assert client.get(url).status_code == 200, (user.email, url)
    for user in (None, cast.member, cast.other_panel, cast.author):
        client = client_for(seeded_app, user)
        for url in urls:
            response = client.get(url)
            assert response.status_code in (404, 302), (user, url)
            if user is not None:
                assert response.status_code == 404, (user.email, url)


def test_the_other_panel_gets_404_for_posts_too(seeded_app: Flask, cast: Cast) -> None:
    _draft(cast)
    intruder = client_for(seeded_app, cast.other_panel)
    token = csrf_token(intruder.get(f"/reviews/{cast.other_review.slug}/workspace").get_data(as_text=True))
    for url in (
        _finding_url(cast, tail="/propose"),
        _finding_url(cast, tail="/agree"),
        f"/reviews/{cast.review.slug}/publish",
    ):
        assert intruder.post(url, data={"csrf_token": token}).status_code == 404, url
    response = intruder.post(_urls(cast)["new"], data={"csrf_token": token, "title": "Sneaky"})
    assert response.status_code == 404


def test_workspace_lists_panel_members_papers_and_findings(seeded_app: Flask, cast: Cast) -> None:
    _draft(cast)
    text = page_text(client_for(seeded_app, cast.panel).get(_urls(cast)["workspace"]))
    assert cast.panel.display_name in text
    assert "Go-live dates came before readiness" in text
    assert re.search(r'nhsuk-tag--grey"\s*>\s*Draft\s*<', text)
    assert "No papers or lessons belong to this review yet." in text


def test_workspace_marks_the_panels_own_papers(seeded_app: Flask, cast: Cast) -> None:
    # The seed's two panel-only papers belong to the lessons review, whose panel is `other_panel`.
    workspace = f"/reviews/{cast.other_review.slug}/workspace"
    text = " ".join(re.sub(r"<[^>]+>", " ", page_text(client_for(seeded_app, cast.other_panel).get(workspace))).split())
    assert "Lessons review panel working note on the evidence to gather (meeting paper) Panel only" in text
    assert client_for(seeded_app, cast.panel).get(workspace).status_code == 404
    assert "{# traceability links #}" not in text
    assert "Draft a new finding" in text


def test_the_unknown_review_and_finding_answer_404(seeded_app: Flask, cast: Cast) -> None:
    client = client_for(seeded_app, cast.panel)
    assert client.get("/reviews/no-such-review/workspace").status_code == 404
    assert client.get(_finding_url(cast, 99)).status_code == 404
    _draft(cast)
    assert client.get(_finding_url(cast, tail="/history/9")).status_code == 404
    assert client.get(_finding_url(cast, tail="/compare?from=1&to=9")).status_code == 404
    assert client.get(_finding_url(cast, tail="/compare?from=abc")).status_code == 400
    assert client.get(_finding_url(cast, 99999999999)).status_code == 404


# --- Drafting ----------------------------------------------------------------------------------------


def test_drafting_a_finding_through_the_form(seeded_app: Flask, cast: Cast) -> None:
    client = client_for(seeded_app, cast.panel)
    data = {"title": "A finding", "body": "Some **bold** words <script>alert(1)</script>", "recommendations": "Do it."}
    response = post_form(client, _urls(cast)["new"], data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(_finding_url(cast))
    html = client.get(_finding_url(cast)).get_data(as_text=True)
    assert "<strong>bold</strong>" in html
    assert "<script>alert(1)</script>" not in html
    assert "Revision 1" in html
    assert re.search(r'nhsuk-tag--grey"\s*>\s*Draft\s*<', html)


def test_a_missing_title_or_a_too_long_text_keeps_what_was_typed(seeded_app: Flask, cast: Cast) -> None:
    client = client_for(seeded_app, cast.panel)
    response = post_form(client, _urls(cast)["new"], {"title": "", "body": "Kept words."})
    assert response.status_code == 400
    assert "Enter a title for the finding." in page_text(response)
    assert "Kept words." in page_text(response)
    response = post_form(client, _urls(cast)["new"], {"title": "T", "body": "x" * 20_001})
    assert response.status_code == 400
    assert "20,000 characters or fewer" in page_text(response)


def test_a_stale_form_token_keeps_the_text(seeded_app: Flask, cast: Cast) -> None:
    client = client_for(seeded_app, cast.panel)
    data = {"csrf_token": "stale", "title": "Kept title", "body": "Kept body"}
    response = client.post(_urls(cast)["new"], data=data, follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == _urls(cast)["new"]
    text = page_text(response)
    assert "This form expired" in text
    assert "Kept title" in text
    assert "Kept body" in text


def test_an_edit_saves_a_revision_and_history_compares_them(seeded_app: Flask, cast: Cast) -> None:
    _draft(cast)
    client = client_for(seeded_app, cast.panel)
    fields = _form(client.get(_finding_url(cast, tail="/edit")).get_data(as_text=True))
    assert fields["base_revision"] == "1"
    fields.update(body=BODY.replace("not ready", "far from ready"), message="Stronger")
    response = client.post(_finding_url(cast, tail="/edit"), data=fields)
    assert response.status_code == 303
    assert "saved as revision 2" in page_text(client.get(_finding_url(cast)))
    compare = page_text(client.get(_finding_url(cast, tail="/compare?from=2&to=1")))
    assert "Revision 1 to revision 2" in compare
    assert "far from" in compare
    assert "Stronger" in page_text(client.get(_finding_url(cast, tail="/history")))
    old = page_text(client.get(_finding_url(cast, tail="/history/1")))
    assert "This is an earlier version" in old
    assert "not ready" in old


# --- Agreeing and publishing -------------------------------------------------------------------------


def _post_button(client: FlaskClient, page: str, action: str):
    return post_form(client, action, {}, page=page)


def test_agreement_needs_a_second_panel_member(seeded_app: Flask, cast: Cast) -> None:
    _draft(cast)
    proposer = client_for(seeded_app, cast.panel)
    page = _finding_url(cast)
    assert "Propose agreeing this finding" in page_text(proposer.get(page))
    response = _post_button(proposer, page, _finding_url(cast, tail="/propose"))
    assert response.status_code == 303
    text = page_text(proposer.get(page))
    assert "You proposed agreeing this finding" in text
    assert "Agree this finding" not in text
    response = _post_button(proposer, page, _finding_url(cast, tail="/agree"))
    assert response.status_code == 303
    assert "another panel member (or a moderator) must agree it" in page_text(proposer.get(page))
    assert db.session.get(Finding, 1).status == "draft"
    second = client_for(seeded_app, make_user("second-panel@example.org", panels=(cast.review,)))
    assert "Agree this finding" in page_text(second.get(page))
    assert _post_button(second, page, _finding_url(cast, tail="/agree")).status_code == 303
    db.session.expire_all()
    assert db.session.get(Finding, 1).status == "agreed"
    edit_page = page_text(second.get(_finding_url(cast, tail="/edit")))
    assert "Saving a change returns it to draft" in edit_page


def test_editing_an_agreed_finding_says_it_is_a_draft_again(seeded_app: Flask, cast: Cast) -> None:
    finding = _draft(cast)
    propose_agreement(finding, actor=cast.panel)
    agree_finding(finding, actor=cast.moderator)
    db.session.commit()
    client = client_for(seeded_app, cast.panel)
    fields = _form(client.get(_finding_url(cast, tail="/edit")).get_data(as_text=True))
    fields["body"] = "Changed."
    client.post(_finding_url(cast, tail="/edit"), data=fields)
    assert "It was agreed, so it is a draft again" in page_text(client.get(_finding_url(cast)))


def test_publishing_shows_findings_to_the_reviews_readers(seeded_app: Flask, cast: Cast) -> None:
    finding = _draft(cast)
    later = _draft(cast, "Second finding")
    panel = client_for(seeded_app, cast.panel)
    workspace = _urls(cast)["workspace"]
    assert "can be published once every one" in page_text(panel.get(workspace))
    propose_agreement(finding, actor=cast.panel)
    agree_finding(finding, actor=cast.moderator)
    db.session.commit()
    response = post_form(panel, f"/reviews/{cast.review.slug}/publish", {}, page=workspace)
    assert response.status_code == 303
    assert "Not yet agreed: 2" in page_text(panel.get(workspace))
    member = client_for(seeded_app, cast.member)
    assert "Go-live dates came before readiness" not in page_text(member.get(cast.review.path))
    assert member.get(_finding_url(cast)).status_code == 404
    propose_agreement(later, actor=cast.panel)
    agree_finding(later, actor=cast.moderator)
    db.session.commit()
    assert "Publish the findings" in page_text(panel.get(workspace))
    response = post_form(panel, f"/reviews/{cast.review.slug}/publish", {}, page=workspace)
    assert response.status_code == 303
    assert "2 findings published" in page_text(panel.get(workspace))
    for reader in (member, client_for(seeded_app)):
        review_page = page_text(reader.get(cast.review.path))
        assert "Finding 1: Go-live dates came before readiness" in review_page
        report = f"/reviews/{cast.review.slug}/report"
        assert f'href="{report}#finding-1"' in review_page
        assert reader.get(report).status_code == 200
        assert "Open the panel's workspace" not in review_page
        finding_page = reader.get(_finding_url(cast))
        assert finding_page.status_code == 200
        assert "Edit finding" not in page_text(finding_page)
        assert "Revisions" not in page_text(finding_page)
        assert reader.get(_finding_url(cast, tail="/history")).status_code in (302, 404)
        assert reader.get(workspace).status_code in (302, 404)
    assert "Published" in page_text(client_for(seeded_app).get(cast.review.path))


def test_the_review_page_shows_the_panel_its_workspace(seeded_app: Flask, cast: Cast) -> None:
    _draft(cast)
    panel_view = page_text(client_for(seeded_app, cast.panel).get(cast.review.path))
    assert "Open the panel's workspace" in panel_view
    assert "1 finding so far (1 draft)." in panel_view
    for user in (None, cast.member, cast.other_panel):
        text = page_text(client_for(seeded_app, user).get(cast.review.path))
        assert "workspace" not in text
        assert "Go-live dates came before readiness" not in text
    other_review = page_text(client_for(seeded_app, cast.panel).get(cast.other_review.path))
    assert "Open the panel's workspace" not in other_review


def test_withdrawing_and_reinstating_a_finding_from_its_page(seeded_app: Flask, cast: Cast) -> None:
    _draft(cast)
    page = _finding_url(cast)
    panel = client_for(seeded_app, cast.panel)
    assert "Withdraw this finding" in page_text(panel.get(page))
    assert (
        _post_button(client_for(seeded_app, cast.member), page, _finding_url(cast, tail="/withdraw")).status_code == 404
    )
    response = post_form(panel, _finding_url(cast, tail="/withdraw"), {"action": "withdraw"}, page=page)
    assert response.status_code == 303
    text = page_text(panel.get(page))
    assert "is withdrawn: it stays here but is not published" in text
    assert "Reinstate this finding" in text
    post_form(panel, _finding_url(cast, tail="/withdraw"), {"action": "reinstate"}, page=page)
    assert "is a draft again" in page_text(panel.get(page))
    assert db.session.get(Finding, _draft_id(cast)).status == "draft"


def _draft_id(cast: Cast) -> int:
    return db.session.scalar(db.select(Finding.id).where(Finding.review_id == cast.review.id, Finding.number == 1))
