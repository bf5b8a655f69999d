"""The workspace as the panel's hub, through the test client: the pen, the review's material, consultations,
open actions, recent activity, what each viewer is shown, and the "My panels" page."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from sqlalchemy import delete, event, select

from kb.audit.models import AuditEvent
from kb.consultations.models import Consultation
from kb.entries.models import Lesson, Review
from kb.extensions import db
from kb.panels.holders import hand_pen
from kb.panels.models import Finding
from kb.panels.service import FindingText, agree_finding, create_finding, propose_agreement
from kb.users.models import PanelMembership, User
from tests.accounts import Cast, client_for, csrf_token, make_user, page_text
from tests.citation_factory import PANEL_NOTE_SLUG, add_paper_and_lesson, second_member
from tests.document_rows import add_document
from tests.factories import add_comment

NOW = dt.datetime.now(dt.UTC)


def _workspace(cast: Cast, review=None) -> str:
    return f"/reviews/{(review or cast.review).slug}/workspace"


def _draft(cast: Cast, title: str, author: User | None = None) -> Finding:
    finding = create_finding(cast.review, FindingText(title, "Text.", "Do better."), actor=author or cast.panel)
    db.session.commit()
    return finding


def _words(html: str) -> str:
    """The page's text with tags taken out and white space folded, as a reader reads it."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _row(html: str, number: int) -> str:
    match = re.search(rf'<tr class="nhsuk-table__row" id="finding-{number}">(.*?)</tr>', html, re.S)
    assert match, number
    return _words(match.group(1))


def _hand(client, cast: Cast, number: int, holder: object):
    token = csrf_token(client.get(_workspace(cast)).get_data(as_text=True))
    url = f"/reviews/{cast.review.slug}/findings/{number}/holder"
    return client.post(url, data={"csrf_token": token, "holder": str(holder)})


def _holder(finding: Finding) -> int | None:
    db.session.expire_all()
    return db.session.get(Finding, finding.id).holder_id  # type: ignore[union-attr]


# --- The pen -----------------------------------------------------------------------------------------


def test_each_finding_shows_who_holds_the_pen_and_it_changes_hands(seeded_app: Flask, cast: Cast) -> None:
    second = second_member(cast)
    finding = _draft(cast, "Go-live dates came before readiness")
    panel = client_for(seeded_app, cast.panel)
    html = page_text(panel.get(_workspace(cast)))
    assert "Panel (you)" in _row(html, 1)
    assert "Take the pen" not in _row(html, 1)
    assert f'<option value="{second.id}">{second.display_name}</option>' in html

    other = client_for(seeded_app, second)
    response = _hand(other, cast, 1, second.id)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{_workspace(cast)}#finding-1")
    assert _holder(finding) == second.id
    html = page_text(other.get(_workspace(cast)))
    assert "You hold the pen on finding 1." in html
    assert f"{second.display_name} (you)" in _row(html, 1)

    # The holder hands it back to the first member.
    _hand(other, cast, 1, cast.panel.id)
    assert _holder(finding) == cast.panel.id
    assert f"{cast.panel.display_name} now holds the pen on finding 1." in page_text(other.get(_workspace(cast)))
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "finding.hand")).all()
    assert [(event.old_value, event.new_value) for event in events] == [
        ("Panel", second.display_name),
        (second.display_name, "Panel"),
    ]


def test_the_pen_goes_only_to_someone_on_the_panel(seeded_app: Flask, cast: Cast) -> None:
    finding = _draft(cast, "A finding")
    panel = client_for(seeded_app, cast.panel)
    refused = (
        "Only someone on this review&#39;s panel can hold the pen. Choose a member of the panel to hand finding 1 to."
    )
    for person, name in (
        (cast.member, "Marguerite Quill"),
        (cast.other_panel, "Osric Vane"),
        (cast.admin, "Ada Stone"),
    ):
        person.display_name = name
    db.session.commit()
    # The same words for an account off the panel, one that does not exist and garbage: they name nobody.
    for stranger in (cast.member.id, cast.other_panel.id, cast.admin.id, "abc", 99999):
        response = _hand(panel, cast, 1, stranger)
        assert response.status_code == 303
        page = panel.get(_workspace(cast)).get_data(as_text=True)
        assert refused in page
        for name in ("Marguerite Quill", "Osric Vane", "Ada Stone"):
            assert name not in page
        assert _holder(finding) == cast.panel.id
    # Staff may take the pen themselves.
    moderator = client_for(seeded_app, cast.moderator)
    _hand(moderator, cast, 1, cast.moderator.id)
    assert _holder(finding) == cast.moderator.id


def test_only_the_panel_and_staff_may_move_the_pen(seeded_app: Flask, cast: Cast) -> None:
    finding = _draft(cast, "A finding")
    url = f"/reviews/{cast.review.slug}/findings/1/holder"
    for user in (cast.member, cast.other_panel, cast.author):
        client = client_for(seeded_app, user)
        token = csrf_token(client.get("/").get_data(as_text=True))
        response = client.post(url, data={"csrf_token": token, "holder": str(user.id)})
        assert response.status_code == 404, user.email
    anonymous = client_for(seeded_app)
    token = csrf_token(anonymous.get("/login").get_data(as_text=True))
    assert anonymous.post(url, data={"csrf_token": token, "holder": "1"}).status_code in (302, 303)
    panel = client_for(seeded_app, cast.panel)
    assert panel.post(url, data={"holder": str(cast.panel.id)}).status_code == 400  # no CSRF token
    assert panel.post(f"/reviews/{cast.review.slug}/findings/9/holder", data={}).status_code in (400, 404)
    assert _holder(finding) == cast.panel.id


# --- What the hub shows --------------------------------------------------------------------------------


def test_the_hub_lists_material_documents_and_marks_what_is_panel_only(
    seeded_app: Flask, cast: Cast, tmp_path: Path
) -> None:
    paper, _ = add_paper_and_lesson(tmp_path, cast)
    add_document(paper, "Call handling statistics", ["page one", "page two"])
    add_document(cast.review, "Terms of reference", ["the terms"])
    hidden = db.session.scalars(select(Lesson).where(Lesson.status == "published").order_by(Lesson.id)).first()
    assert hidden is not None
    hidden.review_id, hidden.status, hidden.author_id = cast.review.id, "submitted", cast.author.id
    db.session.commit()

    html = page_text(client_for(seeded_app, cast.panel).get(_workspace(cast)))
    text = _words(html)
    assert "Panel evidence on call handling (meeting paper) Call handling statistics (2 pages)" in text
    assert "Documents of the review Terms of reference (1 page)" in text
    assert "Panel note on the scripts (meeting paper) Panel only" in text
    assert hidden.title not in text

    staff = _words(page_text(client_for(seeded_app, cast.moderator).get(_workspace(cast))))
    assert f"{hidden.title} (lesson, submitted for publication) Panel only" in staff
    assert PANEL_NOTE_SLUG in html


def test_the_hub_shows_consultations_open_actions_and_recent_activity(
    seeded_app: Flask, cast: Cast, tmp_path: Path
) -> None:
    second = second_member(cast)
    first = _draft(cast, "Go-live dates came before readiness")
    _draft(cast, "Scripts did not know the area", author=second)
    propose_agreement(first, actor=cast.panel)
    agree_finding(first, actor=second)
    comment = add_comment(cast.review, second, "Should we cite the minutes?", commit=False)
    comment.finding_id = first.id
    db.session.add_all(
        [
            Consultation(
                entry_id=cast.review.id,
                title="Consultation on the draft findings",
                opens_at=NOW - dt.timedelta(days=1),
                closes_at=NOW + dt.timedelta(days=5),
            ),
            Consultation(
                entry_id=cast.other_review.id,
                title="Another review's consultation",
                opens_at=NOW - dt.timedelta(days=1),
                closes_at=NOW + dt.timedelta(days=5),
            ),
        ]
    )
    _, own = add_paper_and_lesson(tmp_path, cast)
    own.review_id, own.action_status, own.action_owner = cast.review.id, "accepted", "Test out-of-hours provider"
    own.action_due = (NOW - dt.timedelta(days=3)).date()
    db.session.commit()

    html = page_text(client_for(seeded_app, cast.panel).get(_workspace(cast)))
    text = _words(html)
    assert "Consultation on the draft findings Open" in text
    assert "Another review's consultation" not in text
    assert re.search(r"Scripts need local knowledge Accepted Test out-of-hours provider \d+ \w+ \d{4} Overdue", text)
    activity = _words(html.split('id="activity-heading"')[1].split("</section>")[0])
    assert f"{second.display_name} commented on finding 1: Go-live dates came before readiness" in activity
    assert f"{second.display_name} agreed finding 1" in activity
    assert f"{second.display_name} drafted finding 2: Scripts did not know the area" in activity
    assert "Panel drafted finding 1" in activity
    # Each entry is listed once.
    assert activity.count("commented on") == 1


def _activity(cast: Cast, second: User, count: int, start: int) -> None:
    """Draft `count` findings numbered from `start`, each by a new panel member, agreed and commented on; committed.

    Everyone differs from finding to finding, so loading people one by one would show in the count.
    Each writer leaves the panel afterwards, so nothing else on the page loads them.
    """
    for number in range(start, start + count):
        writer = make_user(f"writer-{number}@example.org", name=f"Writer {number}", panels=(cast.review,))
        finding = _draft(cast, f"Finding {number}", author=writer)
        propose_agreement(finding, actor=writer)
        agree_finding(finding, actor=second)
        add_comment(cast.review, writer, f"Comment {number}", commit=False).finding_id = finding.id
        keeper = make_user(f"keeper-{number}@example.org", name=f"Keeper {number}", panels=(cast.review,))
        hand_pen(finding, keeper, actor=writer)
        # Both then leave the panel, so the panel's list does not load them either.
        db.session.execute(delete(PanelMembership).where(PanelMembership.user_id.in_((writer.id, keeper.id))))
    db.session.commit()


def _statements(client, url: str) -> list[str]:
    """The statements one workspace request runs, starting from an empty session as a real request does."""
    db.session.expunge_all()
    with counted() as statements:
        assert client.get(url).status_code == 200
    return statements


def test_ten_findings_cost_no_more_queries_than_two(seeded_app: Flask, cast: Cast) -> None:
    second = second_member(cast)
    ids = (cast.review.id, cast.panel.id, second.id)
    url = _workspace(cast)
    _activity(cast, second, 2, 0)
    panel = client_for(seeded_app, cast.panel)
    before = _statements(panel, url)
    review, first, other = (db.session.get(kind, key) for kind, key in zip((Review, User, User), ids, strict=True))
    _activity(Cast(**{**cast.__dict__, "review": review, "panel": first}), other, 8, 2)
    after = _statements(panel, url)
    assert len(after) == len(before), "\n".join(sorted(set(after) - set(before)))


@contextmanager
def counted() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args) -> None:
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


# --- My panels ---------------------------------------------------------------------------------------


def test_my_panels_lists_a_members_reviews_with_counts(seeded_app: Flask, cast: Cast) -> None:
    _draft(cast, "One")
    _draft(cast, "Two")
    db.session.add(
        Consultation(
            entry_id=cast.review.id,
            title="Open now",
            opens_at=NOW - dt.timedelta(days=1),
            closes_at=NOW + dt.timedelta(days=1),
        )
    )
    db.session.commit()
    panel = client_for(seeded_app, cast.panel)
    html = page_text(panel.get("/"))
    assert '<a class="nhsuk-header__navigation-link" href="/panels">' in html
    text = _words(page_text(panel.get("/panels")))
    assert f"{cast.review.title} : workspace Review status" in text
    assert "Findings Draft: 2 Open consultations 1" in text
    assert cast.other_review.title not in text
    assert f'href="{_workspace(cast)}"' in page_text(panel.get("/panels"))


def test_staff_see_every_review_with_a_panel_and_members_see_none(seeded_app: Flask, cast: Cast) -> None:
    seated = make_user("seated-moderator@example.org", role="moderator", panels=(cast.other_review,))
    text = _words(page_text(client_for(seeded_app, seated).get("/panels")))
    assert cast.review.title in text
    assert cast.other_review.title in text
    assert text.count("You sit on this panel") == 1
    assert text.index("You sit on this panel") > text.index(cast.other_review.title)

    member = client_for(seeded_app, cast.member)
    assert 'href="/panels"' not in member.get("/").get_data(as_text=True)
    text = _words(page_text(member.get("/panels")))
    assert "You do not sit on any review panel." in text
    assert cast.review.title not in text
    assert client_for(seeded_app).get("/panels").status_code == 302
