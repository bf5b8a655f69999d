"""Correcting a published finding: who may, the note it needs, the history it keeps, and who is told."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from kb.extensions import db
from kb.mail import Mail
from kb.notifications.models import Follow, Notification
from kb.panels.models import Finding, FindingCorrection
from kb.panels.service import FindingText, agree_finding, create_finding, propose_agreement, publish_findings
from kb.states import FindingStatus, FollowTarget, NotificationKind, Visibility
from tests.accounts import Cast, client_for, make_user, page_text, post_form

TITLE = "Go-live dates came before readiness"
BODY = "Providers said they were not ready.\n\nThe date did not move in 2012."
RECOMMENDATIONS = "Agree a readiness test."
CORRECTED = BODY.replace("2012", "2013")
NOTE = "The year was wrong: the date was set in **2013**, as the board's minutes show."


def _published(cast: Cast) -> Finding:
    finding = create_finding(cast.review, FindingText(TITLE, BODY, RECOMMENDATIONS), actor=cast.panel)
    propose_agreement(finding, actor=cast.panel)
    agree_finding(finding, actor=cast.moderator)
    publish_findings(cast.review, actor=cast.panel)
    db.session.commit()
    return finding


def _url(cast: Cast, tail: str = "") -> str:
    return f"/reviews/{cast.review.slug}/findings/1{tail}"


def _correction(**changes: str) -> dict[str, str]:
    return {
        "title": TITLE,
        "body": CORRECTED,
        "recommendations": RECOMMENDATIONS,
        "note": NOTE,
        "base_revision": "1",
        **changes,
    }


def test_only_the_panel_and_staff_may_correct(seeded_app: Flask, cast: Cast) -> None:
    _published(cast)
    for person in (cast.panel, cast.moderator):
        page = client_for(seeded_app, person).get(_url(cast, "/correct"))
        assert page.status_code == 200
        assert "Correct finding 1" in page_text(page)
        assert re.search(r'<textarea[^>]*name="body"[^>]*>\s*Providers said they were not ready', page_text(page))
    assert "Correct this finding" in page_text(client_for(seeded_app, cast.panel).get(_url(cast)))
    for person in (cast.member, cast.other_panel):
        client = client_for(seeded_app, person)
        assert client.get(_url(cast, "/correct")).status_code == 404
        assert "Correct this finding" not in page_text(client.get(_url(cast)))
        response = post_form(client, _url(cast, "/correct"), _correction(), page="/")
        assert response.status_code == 404
    assert client_for(seeded_app).get(_url(cast, "/correct")).status_code in (302, 404)
    assert db.session.scalars(select(FindingCorrection)).all() == []


def test_an_unpublished_finding_has_no_correction_page(seeded_app: Flask, cast: Cast) -> None:
    create_finding(cast.review, FindingText(TITLE, BODY, RECOMMENDATIONS), actor=cast.panel)
    db.session.commit()
    for person in (cast.panel, cast.member):
        assert client_for(seeded_app, person).get(_url(cast, "/correct")).status_code == 404
    response = post_form(client_for(seeded_app, cast.panel), _url(cast, "/correct"), _correction(), page="/")
    assert response.status_code == 404
    assert "Correct this finding" not in page_text(client_for(seeded_app, cast.panel).get(_url(cast)))


def test_the_note_is_required_and_the_text_kept(seeded_app: Flask, cast: Cast) -> None:
    _published(cast)
    client = client_for(seeded_app, cast.panel)
    response = post_form(client, _url(cast, "/correct"), _correction(note="   "))
    assert response.status_code == 400
    text = page_text(response)
    assert re.search(r"<title>\s*Error: Correct finding 1", text)
    assert '<a href="#note">Say what was corrected and why.</a>' in text
    assert "in 2013." in text
    # An unchanged text is refused too, with the note kept.
    response = post_form(client, _url(cast, "/correct"), _correction(body=BODY))
    assert response.status_code == 400
    assert "The text is the same as the published one" in page_text(response)
    assert "board's minutes show" in page_text(response)
    assert db.session.scalars(select(FindingCorrection)).all() == []


def test_a_preview_saves_nothing(seeded_app: Flask, cast: Cast) -> None:
    _published(cast)
    response = post_form(client_for(seeded_app, cast.panel), _url(cast, "/correct"), _correction(action="preview"))
    assert response.status_code == 200
    assert "<strong>2013</strong>" in response.get_data(as_text=True)
    assert db.session.scalars(select(FindingCorrection)).all() == []


def test_a_correction_adds_a_revision_and_a_dated_note(seeded_app: Flask, cast: Cast) -> None:
    finding = _published(cast)
    client = client_for(seeded_app, cast.panel)
    response = post_form(client, _url(cast, "/correct"), _correction())
    assert response.status_code == 303
    db.session.expire_all()
    finding = db.session.get(Finding, finding.id)
    assert finding.status == FindingStatus.PUBLISHED
    assert finding.body == CORRECTED
    assert finding.revision_number == 2
    [correction] = finding.corrections
    assert correction.revision_number == 2
    assert correction.author_id == cast.panel.id
    assert "<strong>2013</strong>" in correction.note_html
    assert finding.revisions[0].body == BODY
    assert finding.revisions[1].message.startswith("Correction: The year was wrong")
    for reader in (client_for(seeded_app, cast.member), client_for(seeded_app)):
        page = reader.get(_url(cast))
        assert page.status_code == 200
        text = page_text(page)
        assert re.search(r"Corrected on \d{1,2} \w+ \d{4}</strong>", text)
        assert "as the board's minutes show" in text
        assert "in 2013." in text
    history = page_text(client.get(_url(cast, "/history")))
    assert re.search(r"Revision 2</a>.*?Correction after publication", history, re.S)
    assert "in 2012." in page_text(client.get(_url(cast, "/history/1")))


def test_the_panel_and_followers_who_may_read_it_are_told(seeded_app: Flask, cast: Cast, sent: list[Mail]) -> None:
    _published(cast)
    second = make_user("second-panel@example.org", name="Sam Second", panels=(cast.review,))
    as_review = make_user("follows-review@example.org")
    as_entry = make_user("follows-entry@example.org")
    elsewhere = make_user("follows-other@example.org")
    for person, target, target_id in (
        (as_review, FollowTarget.REVIEW, cast.review.id),
        (as_entry, FollowTarget.ENTRY, cast.review.id),
        (elsewhere, FollowTarget.REVIEW, cast.other_review.id),
        (cast.panel, FollowTarget.REVIEW, cast.review.id),
    ):
        db.session.add(Follow(user_id=person.id, target_type=target, target_id=target_id))
    db.session.commit()
    response = post_form(client_for(seeded_app, cast.panel), _url(cast, "/correct"), _correction())
    assert response.status_code == 303
    told = db.session.scalars(select(Notification).where(Notification.kind == NotificationKind.CORRECTION)).all()
    assert {notification.user_id for notification in told} == {second.id, as_review.id, as_entry.id}
    finding = db.session.scalar(select(Finding))
    assert {notification.finding_id for notification in told} == {finding.id}
    assert {notification.link for notification in told} == {_url(cast)}
    assert "was corrected" in told[0].message
    assert {mail.to for mail in sent} >= {second.email, as_review.email}
    assert "board's minutes show" in next(mail.body for mail in sent if mail.to == as_review.email)


def test_followers_who_may_not_read_the_finding_are_not_told(seeded_app: Flask, cast: Cast) -> None:
    _published(cast)
    follower = make_user("follows-review@example.org")
    db.session.add(Follow(user_id=follower.id, target_type=FollowTarget.REVIEW, target_id=cast.review.id))
    cast.review.visibility = Visibility.PANEL
    db.session.commit()
    assert client_for(seeded_app, follower).get(_url(cast)).status_code == 404
    response = post_form(client_for(seeded_app, cast.panel), _url(cast, "/correct"), _correction())
    assert response.status_code == 303
    assert db.session.scalars(select(Notification).where(Notification.user_id == follower.id)).all() == []


def test_a_correction_of_a_finding_changed_since_is_refused_with_the_text_kept(seeded_app: Flask, cast: Cast) -> None:
    finding = _published(cast)
    second = make_user("second-panel@example.org", name="Sam Second", panels=(cast.review,))
    mine = client_for(seeded_app, cast.panel)
    opened = mine.get(_url(cast, "/correct")).get_data(as_text=True)
    assert re.search(r'name="base_revision"[^>]*value="1"', opened)
    # Someone else corrects the finding first.
    theirs = post_form(client_for(seeded_app, second), _url(cast, "/correct"), _correction())
    assert theirs.status_code == 303
    # The first corrector's save, from revision 1, is refused: nothing they typed is lost.
    typed = BODY.replace("Providers", "Three providers")
    response = post_form(mine, _url(cast, "/correct"), _correction(body=typed, note="Count the providers."))
    assert response.status_code == 409
    text = page_text(response)
    assert re.search(r"Finding 1 was changed by Sam Second at \d{1,2} \w+ \d{4}, \d\d:\d\d since you opened", text)
    assert re.search(r'<textarea[^>]*name="body"[^>]*>\s*Three providers said', text)
    assert "Count the providers.</textarea>" in text
    assert "as it now reads (revision 2)" in text
    assert "in 2013.</p>" in text
    assert re.search(r'name="base_revision"[^>]*value="2"', text)
    db.session.expire_all()
    assert [c.author_id for c in db.session.scalars(select(FindingCorrection))] == [second.id]
    assert db.session.get(Finding, finding.id).body == CORRECTED
    # Saving again from the refusal, having seen the current text, corrects it.
    again = post_form(mine, _url(cast, "/correct"), _correction(body=typed, note="Count.", base_revision="2"))
    assert again.status_code == 303
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).body == typed
    assert len(db.session.scalars(select(FindingCorrection)).all()) == 2


def test_a_correction_without_its_starting_revision_is_refused(seeded_app: Flask, cast: Cast) -> None:
    _published(cast)
    client = client_for(seeded_app, cast.panel)
    for garbled in ("", "abc", "0"):
        response = post_form(client, _url(cast, "/correct"), _correction(base_revision=garbled))
        assert response.status_code == 409
        assert "since you opened this page" in page_text(response)
    assert db.session.scalars(select(FindingCorrection)).all() == []
