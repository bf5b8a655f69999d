"""The admin pages: accounts, organisations, panel seats and the read-only audit log."""

from __future__ import annotations

import datetime as dt
import re
from itertools import pairwise

import pytest
from sqlalchemy import func, select

from kb.audit.models import AuditEvent
from kb.audit.service import record_event
from kb.extensions import db
from kb.users.models import Organisation, User, UserSession
from tests.accounts import login_as, make_user, organisation
from tests.web.dom import main_of, parse

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


# --- Helpers --------------------------------------------------------------------------


def csrf_token(client, url: str = "/admin/users") -> str:
    """A CSRF token for `client`'s session, read from a rendered form."""
    match = CSRF.search(client.get(url).get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def post(client, url: str, data: dict | None = None, token_from: str = "/admin/users"):
    """POST a form with a valid CSRF token, as a browser would."""
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client, token_from)})


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def fresh(user: User) -> User:
    """The user as stored now."""
    db.session.expire_all()
    found = db.session.get(User, user.id)
    assert found is not None
    return found


def error_summary(response) -> str:
    summary = parse(response.data).find("div", cls="nhsuk-error-summary")
    assert summary is not None, "no error summary"
    return summary.text()


def error_links(response) -> dict[str, str]:
    """Each message of the error summary with the field it leads to."""
    summary = parse(response.data).one("div", cls="nhsuk-error-summary")
    return {link.text(): link.attrs["href"] for link in summary.find_all("a")}


def table_rows(response) -> list[list[str]]:
    """The text of every body row of the page's table, cell by cell."""
    table = main_of(response.data).one("table")
    body = table.one("tbody")
    return [
        [cell.text() for cell in row.find_all(where=lambda e: e.tag in ("th", "td"))] for row in body.find_all("tr")
    ]


@pytest.fixture
def admin_client(client, cast):
    return login_as(client, cast.admin)


# --- Who may see the admin area ---------------------------------------------------------


def admin_urls(app, cast) -> list[tuple[str, str]]:
    """Every admin rule as (method, url), with real ids filled in."""
    other = organisation("Another organisation", "commissioner")
    db.session.commit()
    ids = {"user_id": cast.member.id, "organisation_id": other.id, "review_id": cast.review.id}
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        url = re.sub(r"<int:(\w+)>", lambda match: str(ids[match.group(1)]), rule.rule)
        found.extend((method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"}))
    return found


@pytest.mark.parametrize("service_checks", [True, False], ids=["services-check", "routes-alone"])
@pytest.mark.parametrize("who", ["anonymous", "member", "moderator"])
def test_every_admin_route_answers_404_to_non_admins(seeded_app, client, cast, monkeypatch, who, service_checks):
    if not service_checks:
        # The routes must refuse on their own, not only through the services they call.
        monkeypatch.setattr("kb.users.service.require", lambda actor, action: None)
    urls = admin_urls(seeded_app, cast)
    assert len(urls) >= 15, urls
    assert {url for _method, url in urls} >= {"/admin/users", "/admin/organisations", "/admin/audit"}
    if who != "anonymous":
        login_as(client, getattr(cast, who))
    token = csrf_token(client, "/login" if who == "anonymous" else "/")
    before = db.session.scalar(select(func.count(AuditEvent.id)))
    for method, url in urls:
        response = client.open(url, method=method, data={"csrf_token": token, "role": "admin"})
        assert response.status_code == 404, (who, method, url)
    assert db.session.scalar(select(func.count(AuditEvent.id))) == before
    assert fresh(cast.member).role == "member"


def test_admin_link_in_header_only_for_admins(client, cast):
    login_as(client, cast.moderator)
    assert "/admin/users" not in parse(client.get("/").data).one("header").hrefs()
    login_as(client, cast.admin)
    assert "/admin/users" in parse(client.get("/").data).one("header").hrefs()


def test_member_cannot_invite(client, cast, sent):
    login_as(client, cast.member)
    response = post(
        client,
        "/admin/users",
        {"email": "new@example.org", "display_name": "New", "role": "admin", "organisation": ""},
        token_from="/",
    )
    assert response.status_code == 404
    assert db.session.scalar(select(User).where(User.email == "new@example.org")) is None
    assert sent == []


@pytest.mark.parametrize(
    ("url", "heading"),
    [("/admin/users", "Users"), ("/admin/organisations", "Organisations"), ("/admin/audit", "Audit log")],
)
def test_admin_sees_each_page_with_the_admin_navigation(admin_client, url, heading):
    response = admin_client.get(url)
    assert response.status_code == 200
    page = parse(response.data)
    assert page.one("main").one("h1").text() == heading
    nav = page.one("nav", where=lambda e: e.attrs.get("aria-label") == "Admin")
    assert nav.hrefs() == ["/admin/users", "/admin/organisations", "/admin/audit"]
    current = nav.one("a", where=lambda e: "aria-current" in e.attrs)
    assert current.text() == heading


def test_tables_have_captions_and_header_scopes(admin_client, cast):
    record_event("user.role", actor=cast.admin, target=cast.member, old="member", new="moderator")
    db.session.commit()
    for url in ("/admin/users", "/admin/organisations", "/admin/audit"):
        table = main_of(admin_client.get(url).data).one("table")
        assert table.one("caption").text()
        assert all(th.attrs.get("scope") in ("col", "row") for th in table.find_all("th")), url


def test_user_and_organisation_pages_answer_404_for_unknown_ids(admin_client):
    assert admin_client.get("/admin/users/999999").status_code == 404
    assert admin_client.get("/admin/organisations/999999").status_code == 404


# --- The users list ------------------------------------------------------------------------


def test_users_list_shows_each_account_with_status_and_last_sign_in(admin_client, cast):
    invited = make_user("invited@example.org", password=None, name="Ivy Invited")
    gone = make_user("gone@example.org", active=False, name="Gus Gone")
    cast.member.last_login_at = dt.datetime(2025, 7, 1, 9, 5, tzinfo=dt.UTC)
    db.session.commit()
    rows = {row[1]: row for row in table_rows(admin_client.get("/admin/users"))}
    assert rows[invited.email][4] == "Invited, not accepted"
    assert rows[gone.email][4] == "Deactivated"
    member = rows[cast.member.email]
    assert member == [
        cast.member.display_name,
        cast.member.email,
        "Test out-of-hours provider",
        "Member",
        "Active",
        "1 July 2025, 10:05",
    ]
    assert rows[cast.admin.email][3] == "Admin"
    assert rows[invited.email][5] == "Never"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("role=moderator", {"moderator@example.org"}),
        ("status=invited", {"invited@example.org"}),
        ("status=deactivated", {"gone@example.org"}),
        ("q=GONE", {"gone@example.org"}),
        ("q=panel%40example", {"panel@example.org", "other-panel@example.org"}),
        ("q=100%25", set()),
        ("role=member&q=author", {"author@example.org"}),
    ],
)
def test_users_list_filters(admin_client, cast, query, expected):
    make_user("invited@example.org", password=None)
    make_user("gone@example.org", active=False)
    response = admin_client.get(f"/admin/users?{query}")
    assert response.status_code == 200
    emails = {row[1] for row in table_rows(response)} if expected else set()
    assert emails == expected
    if not expected:
        assert "No accounts match these filters" in main_of(response.data).text()


def test_users_list_filters_by_organisation(admin_client, cast):
    other = organisation("Filter test organisation", "commissioner")
    someone = make_user("elsewhere@example.org")
    someone.organisation = other
    db.session.commit()
    rows = table_rows(admin_client.get(f"/admin/users?organisation={other.id}"))
    assert [row[1] for row in rows] == ["elsewhere@example.org"]


def test_users_list_ignores_unknown_filter_values(admin_client, cast):
    response = admin_client.get("/admin/users?role=overlord&status=zombie")
    assert response.status_code == 200
    assert len(table_rows(response)) == 6


@pytest.mark.parametrize("value", ["abc", "-1", "1e3", "1;DROP", "9223372036854775808"])
def test_users_list_refuses_a_malformed_organisation_id(admin_client, cast, value):
    assert admin_client.get(f"/admin/users?organisation={value}").status_code == 400


def test_overlong_search_gets_a_message(admin_client, cast):
    response = admin_client.get("/admin/users?q=" + "x" * 201)
    assert response.status_code == 400
    assert "200 characters or fewer" in error_summary(response)


def test_users_list_is_paginated(admin_client, cast):
    for number in range(50):
        db.session.add(User(email=f"bulk{number:02d}@example.org", display_name=f"Bulk {number:02d}"))
    db.session.commit()
    first = admin_client.get("/admin/users")
    assert len(table_rows(first)) == 50
    assert "of 56 accounts" in main_of(first.data).text()
    second = admin_client.get("/admin/users?page=2")
    assert len(table_rows(second)) == 6


# --- Inviting ------------------------------------------------------------------------------


def test_invite_creates_the_account_records_it_and_mails_the_link(admin_client, cast, sent):
    home = db.session.scalar(select(Organisation).where(Organisation.name == "Test out-of-hours provider"))
    response = post(
        admin_client,
        "/admin/users",
        {
            "email": "New.Person@example.org",
            "display_name": "New Person",
            "organisation": str(home.id),
            "role": "moderator",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "New.Person@example.org"))
    assert user is not None
    assert (user.display_name, user.role, user.organisation_id, user.password_hash) == (
        "New Person",
        "moderator",
        home.id,
        None,
    )
    assert response.headers["Location"].endswith(f"/admin/users/{user.id}")
    [event] = events("invite.send")
    assert (event.actor_id, event.target_id, event.new_value) == (cast.admin.id, user.id, "moderator")
    [mail] = sent
    assert mail.to == "New.Person@example.org"
    assert "/account/invite/" in mail.body
    page = admin_client.get(response.headers["Location"])
    assert "Invitation sent to New.Person@example.org." in page.get_data(as_text=True)
    assert "Invited, not accepted" in main_of(page.data).text()


def test_taken_email_is_shown_at_the_email_field(admin_client, cast, sent):
    response = post(
        admin_client,
        "/admin/users",
        {"email": "Member@Example.org", "display_name": "Again", "organisation": "", "role": "member"},
    )
    assert response.status_code == 400
    assert error_links(response) == {"There is already an account for Member@Example.org.": "#email"}
    field = main_of(response.data).one("input", where=lambda e: e.attrs.get("name") == "email")
    assert "nhsuk-input--error" in field.classes


def test_invite_with_no_organisation(admin_client, cast, sent):
    response = post(
        admin_client,
        "/admin/users",
        {"email": "loner@example.org", "display_name": "Lone", "organisation": "", "role": "member"},
    )
    assert response.status_code == 302
    assert db.session.scalar(select(User).where(User.email == "loner@example.org")).organisation is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"role": "superuser"}, "Choose a role from the list: Member, Moderator, Admin."),
        ({"organisation": "999999"}, "Choose an organisation from the list."),
        ({"email": ""}, "Enter their email address."),
        ({"display_name": "x" * 121}, "The name must be 120 characters or fewer."),
        ({"email": "a" * 250 + "@example.org"}, "The email address must be 254 characters or fewer."),
        ({"email": "not-an-email"}, "Enter an email address like name@example.org."),
        ({"email": "MEMBER@example.org"}, "There is already an account for MEMBER@example.org."),
    ],
)
def test_refused_invite_keeps_what_was_typed_and_says_why(admin_client, cast, sent, data, message):
    form = {"email": "typed@example.org", "display_name": "Typed Name", "organisation": "", "role": "member", **data}
    before = db.session.scalar(select(func.count(User.id)))
    response = post(admin_client, "/admin/users", form)
    assert response.status_code == 400
    assert message in error_summary(response)
    main = main_of(response.data)
    assert (
        main.one("input", where=lambda e: e.attrs.get("name") == "display_name").attrs["value"] == form["display_name"]
    )
    assert db.session.scalar(select(func.count(User.id))) == before
    assert events("invite.send") == []
    assert sent == []


def test_post_without_csrf_token_is_refused(admin_client, cast, sent):
    response = admin_client.post(
        "/admin/users", data={"email": "x@example.org", "display_name": "X", "organisation": "", "role": "member"}
    )
    assert response.status_code == 400
    assert db.session.scalar(select(User).where(User.email == "x@example.org")) is None
    response = admin_client.post(f"/admin/users/{cast.member.id}/deactivate")
    assert response.status_code == 400
    assert fresh(cast.member).active


def test_resend_invitation(admin_client, cast, sent):
    invited = make_user("invited@example.org", password=None, name="Ivy Invited")
    page = main_of(admin_client.get(f"/admin/users/{invited.id}").data)
    assert "Send a new invitation to Ivy Invited" in page.text()
    response = post(admin_client, f"/admin/users/{invited.id}/invitation")
    assert response.status_code == 302
    assert [mail.to for mail in sent] == ["invited@example.org"]
    assert len(events("invite.send")) == 1
    # Someone who has accepted gets no button, and a forced post is refused with the reason.
    assert "Send a new invitation" not in main_of(admin_client.get(f"/admin/users/{cast.member.id}").data).text()
    response = post(admin_client, f"/admin/users/{cast.member.id}/invitation")
    assert response.status_code == 400
    assert "has already accepted their invitation" in error_summary(response)
    assert len(sent) == 1


# --- One account ----------------------------------------------------------------------------


def test_user_page_shows_the_details_and_forms(admin_client, cast):
    response = admin_client.get(f"/admin/users/{cast.panel.id}")
    assert response.status_code == 200
    main = main_of(response.data)
    assert main.one("h1").text() == cast.panel.display_name
    text = main.text()
    assert cast.panel.email in text
    assert f"Remove from panel: {cast.review.title}" in text
    assert f"Deactivate {cast.panel.display_name}" in text
    for name in ("role", "organisation", "review"):
        select_ = main.one("select", where=lambda e, name=name: e.attrs.get("name") == name)
        assert main.one("label", where=lambda e, select_=select_: e.attrs.get("for") == select_.attrs["id"])
    offered = [
        option.text()
        for option in main.one("select", where=lambda e: e.attrs.get("name") == "review").find_all("option")
    ]
    assert cast.review.title not in offered
    assert cast.other_review.title in offered
    headings = [int(h.tag[1]) for h in main.find_all(where=lambda e: re.fullmatch(r"h[1-6]", e.tag) is not None)]
    assert headings[0] == 1
    assert all(later - earlier <= 1 for earlier, later in pairwise(headings))


def test_role_change_ends_sessions_and_is_recorded(seeded_app, admin_client, cast):
    member_client = login_as(seeded_app.test_client(), cast.member)
    assert member_client.get("/account").status_code == 200
    response = post(admin_client, f"/admin/users/{cast.member.id}/role", {"role": "moderator"})
    assert response.status_code == 302
    member = fresh(cast.member)
    assert member.role == "moderator"
    assert db.session.scalars(select(UserSession).where(UserSession.user_id == member.id)).all() == []
    [event] = events("user.role")
    assert (event.actor_id, event.target_id, event.old_value, event.new_value) == (
        cast.admin.id,
        member.id,
        "member",
        "moderator",
    )
    assert member_client.get("/account").status_code == 302  # signed out: sent to sign in
    assert "role is now Moderator" in admin_client.get(response.headers["Location"]).get_data(as_text=True)


def test_unknown_role_is_refused_clearly(admin_client, cast):
    response = post(admin_client, f"/admin/users/{cast.member.id}/role", {"role": "overlord"})
    assert response.status_code == 400
    assert "Choose a role from the list" in error_summary(response)
    assert fresh(cast.member).role == "member"
    assert events("user.role") == []


def test_admin_cannot_demote_themselves(admin_client, cast):
    response = post(admin_client, f"/admin/users/{cast.admin.id}/role", {"role": "member"})
    assert response.status_code == 400
    assert error_links(response) == {"You cannot remove your own admin role; ask another admin.": "#role"}
    assert fresh(cast.admin).role == "admin"
    assert admin_client.get("/account").status_code == 200  # still signed in
    assert events("user.role") == []


def test_deactivate_and_reactivate(seeded_app, admin_client, cast):
    member_client = login_as(seeded_app.test_client(), cast.member)
    response = post(admin_client, f"/admin/users/{cast.member.id}/deactivate")
    assert response.status_code == 302
    assert not fresh(cast.member).active
    assert len(events("user.deactivate")) == 1
    assert member_client.get("/account").status_code == 302
    page = main_of(admin_client.get(f"/admin/users/{cast.member.id}").data).text()
    assert "Deactivated" in page
    assert f"Reactivate {cast.member.display_name}" in page
    response = post(admin_client, f"/admin/users/{cast.member.id}/reactivate")
    assert response.status_code == 302
    assert fresh(cast.member).active
    assert len(events("user.reactivate")) == 1


def test_admin_cannot_deactivate_themselves(admin_client, cast):
    response = post(admin_client, f"/admin/users/{cast.admin.id}/deactivate")
    assert response.status_code == 400
    assert "You cannot deactivate your own account." in error_summary(response)
    assert fresh(cast.admin).active
    assert events("user.deactivate") == []
    assert admin_client.get("/admin/users").status_code == 200


def test_change_organisation(admin_client, cast):
    other = organisation("Second organisation", "commissioner")
    db.session.commit()
    response = post(admin_client, f"/admin/users/{cast.member.id}/organisation", {"organisation": str(other.id)})
    assert response.status_code == 302
    assert fresh(cast.member).organisation_id == other.id
    [event] = events("user.organisation")
    assert (event.old_value, event.new_value) == ("Test out-of-hours provider", "Second organisation")
    response = post(admin_client, f"/admin/users/{cast.member.id}/organisation", {"organisation": ""})
    assert response.status_code == 302
    assert fresh(cast.member).organisation_id is None
    response = post(admin_client, f"/admin/users/{cast.member.id}/organisation", {"organisation": "999999"})
    assert response.status_code == 400
    assert "Choose an organisation from the list." in error_summary(response)


def test_panel_seats_add_and_remove(admin_client, cast):
    response = post(admin_client, f"/admin/users/{cast.member.id}/panels", {"review": str(cast.review.id)})
    assert response.status_code == 302
    assert [seat.review_id for seat in fresh(cast.member).panel_seats] == [cast.review.id]
    [added] = events("panel.add")
    assert added.new_value == cast.review.slug
    page = main_of(admin_client.get(f"/admin/users/{cast.member.id}").data)
    assert cast.review.path in page.hrefs()
    response = post(admin_client, f"/admin/users/{cast.member.id}/panels/{cast.review.id}/remove")
    assert response.status_code == 302
    assert fresh(cast.member).panel_seats == []
    [removed] = events("panel.remove")
    assert removed.old_value == cast.review.slug


def test_panel_seat_for_an_unknown_review_is_refused(admin_client, cast):
    response = post(admin_client, f"/admin/users/{cast.member.id}/panels", {"review": "999999"})
    assert response.status_code == 400
    assert "Choose a review from the list." in error_summary(response)
    assert post(admin_client, f"/admin/users/{cast.member.id}/panels/999999/remove").status_code == 404


# --- Organisations ---------------------------------------------------------------------------


def test_organisations_list_counts_members(admin_client, cast):
    organisation("Empty organisation", "national-body")
    db.session.commit()
    rows = {row[0]: row for row in table_rows(admin_client.get("/admin/organisations"))}
    assert rows["Test out-of-hours provider"][1:3] == ["Out-of-hours provider", "South West"]
    assert rows["Test out-of-hours provider"][3] == "6 accounts at Test out-of-hours provider"
    assert rows["Empty organisation"][3] == "0"


def test_create_organisation(admin_client, cast):
    response = post(
        admin_client,
        "/admin/organisations",
        {"name": " North Ambulance ", "org_type": "ambulance-service", "region": "North East"},
    )
    assert response.status_code == 302
    created = db.session.scalar(select(Organisation).where(Organisation.name == "North Ambulance"))
    assert (created.type, created.region) == ("ambulance-service", "North East")
    [event] = events("organisation.create")
    assert event.target_id == created.id
    assert "North Ambulance has been added." in admin_client.get("/admin/organisations").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "test OUT-OF-HOURS provider"}, "There is already an organisation called Test out-of-hours provider."),
        ({"name": ""}, "Enter the organisation's name."),
        ({"name": "x" * 201}, "The organisation's name must be 200 characters or fewer."),
        ({"org_type": "cult"}, "Choose a type of organisation from the list."),
        ({"region": "r" * 121}, "The region must be 120 characters or fewer."),
    ],
)
def test_refused_organisation_says_why(admin_client, cast, data, message):
    form = {"name": "Fresh organisation", "org_type": "provider", "region": "", **data}
    before = db.session.scalar(select(func.count(Organisation.id)))
    response = post(admin_client, "/admin/organisations", form)
    assert response.status_code == 400
    assert message in error_summary(response)
    assert db.session.scalar(select(func.count(Organisation.id))) == before
    assert events("organisation.create") == []


def test_edit_organisation(admin_client, cast):
    target = organisation("Old name", "provider")
    db.session.commit()
    page = main_of(admin_client.get(f"/admin/organisations/{target.id}").data)
    assert page.one("input", where=lambda e: e.attrs.get("name") == "name").attrs["value"] == "Old name"
    response = post(
        admin_client,
        f"/admin/organisations/{target.id}",
        {"name": "New name", "org_type": "commissioner", "region": ""},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (target.name, target.type, target.region) == ("New name", "commissioner", None)
    [event] = events("organisation.update")
    assert event.old_value == "Old name (provider, South West)"
    assert event.new_value == "New name (commissioner, no region)"


def test_edit_organisation_to_a_taken_name(admin_client, cast):
    target = organisation("Old name", "provider")
    db.session.commit()
    response = post(
        admin_client,
        f"/admin/organisations/{target.id}",
        {"name": "Test Out-Of-Hours Provider", "org_type": "provider", "region": ""},
    )
    assert response.status_code == 400
    assert error_links(response) == {"There is already an organisation called Test out-of-hours provider.": "#name"}
    main = main_of(response.data)
    assert main.one("h1").text() == "Old name"
    assert main.one("input", where=lambda e: e.attrs.get("name") == "name").attrs["value"] == (
        "Test Out-Of-Hours Provider"
    )
    db.session.expire_all()
    assert target.name == "Old name"


# --- The audit log ---------------------------------------------------------------------------


def add_event(action: str, at: dt.datetime, *, actor: User | None = None, target=None, **values) -> AuditEvent:
    event = record_event(action, actor=actor, target=target, **values)
    event.at = at
    db.session.commit()
    return event


@pytest.fixture
def history(cast):
    """Four events on known days, around midnight in London (UTC+1 in summer)."""
    return {
        "old": add_event(
            "login.success", dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC), actor=cast.member, target=cast.member
        ),
        "late": add_event(
            "user.role",
            dt.datetime(2025, 6, 30, 22, 30, tzinfo=dt.UTC),
            actor=cast.admin,
            target=cast.panel,
            old="member",
            new="moderator",
        ),
        "after_midnight": add_event(
            "panel.add",
            dt.datetime(2025, 6, 30, 23, 30, tzinfo=dt.UTC),
            actor=cast.admin,
            target=cast.member,
            new="a-review",
        ),
        "new": add_event(
            "login.failure", dt.datetime(2025, 8, 1, 8, tzinfo=dt.UTC), actor=None, target_label="stranger@example.org"
        ),
    }


def audit_actions(response) -> list[str]:
    return [row[2] for row in table_rows(response)] if main_of(response.data).find("table") else []


def test_audit_log_lists_events_newest_first_with_every_column(admin_client, cast, history):
    response = admin_client.get("/admin/audit")
    assert response.status_code == 200
    rows = table_rows(response)
    assert [row[2] for row in rows] == ["Sign-in failed", "Added to panel", "Changed role", "Signed in"]
    role_row = rows[2]
    assert role_row[0] == "30 June 2025, 23:30"
    assert role_row[1] == f"{cast.admin.display_name} <{cast.admin.email}>"
    assert role_row[3] == cast.panel.email
    assert role_row[4] == "member → changed to moderator"
    assert rows[0][1] == "system"
    assert rows[0][3] == "stranger@example.org"
    assert f"/admin/users/{cast.panel.id}" in main_of(response.data).hrefs()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("action=user.role", ["Changed role"]),
        ("actor=MEMBER%40example", ["Signed in"]),
        ("actor=system", ["Sign-in failed"]),
        ("target=stranger", ["Sign-in failed"]),
        ("target=panel%40", ["Changed role"]),
        ("date_from=2025-07-01", ["Sign-in failed", "Added to panel"]),
        ("date_to=2025-06-30", ["Changed role", "Signed in"]),
        ("date_from=2025-06-30&date_to=2025-06-30", ["Changed role"]),
        ("date_from=2025-06-30&date_to=2025-07-01&actor=admin", ["Added to panel", "Changed role"]),
        ("action=entry.publish", []),
        ("action=no.such.action", ["Sign-in failed", "Added to panel", "Changed role", "Signed in"]),
    ],
)
def test_audit_filters(admin_client, cast, history, query, expected):
    response = admin_client.get(f"/admin/audit?{query}")
    assert response.status_code == 200
    assert audit_actions(response) == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date_from=yesterday", "Date from must be a real date written as YYYY-MM-DD, for example 2025-03-31."),
        ("date_from=2025-02-30", "Date from must be a real date written as YYYY-MM-DD"),
        ("date_to=2025-13-01", "Date to must be a real date written as YYYY-MM-DD"),
        ("date_to=20250101", "Date to must be a real date written as YYYY-MM-DD"),
        ("date_from=2025-07-01&date_to=2025-06-01", "Date to must be the same as or after date from."),
        ("actor=" + "a" * 201, "Who must be 200 characters or fewer."),
    ],
)
def test_bad_audit_filters_get_a_message_not_an_error(admin_client, cast, history, query, message):
    response = admin_client.get(f"/admin/audit?{query}")
    assert response.status_code == 400
    assert message in error_summary(response)
    assert main_of(response.data).one("h1").text() == "Audit log"


def test_bad_date_keeps_the_other_filters(admin_client, cast, history):
    response = admin_client.get("/admin/audit?date_from=nonsense&action=user.role")
    assert response.status_code == 400
    assert audit_actions(response) == ["Changed role"]
    assert (
        main_of(response.data).one("input", where=lambda e: e.attrs.get("name") == "date_from").attrs["value"]
        == "nonsense"
    )


def test_audit_log_pages_hold_fifty_events(admin_client, cast):
    start = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    for minute in range(60):
        record_event("login.success", actor=cast.member, target=cast.member).at = start + dt.timedelta(minutes=minute)
    db.session.commit()
    first = admin_client.get("/admin/audit?action=login.success")
    rows = table_rows(first)
    assert len(rows) == 50
    assert rows[0][0] == "1 March 2025, 00:59"
    second_href = "/admin/audit?action=login.success&page=2"
    assert second_href in main_of(first.data).hrefs()
    second = table_rows(admin_client.get(second_href))
    assert len(second) == 10
    assert second[-1][0] == "1 March 2025, 00:00"


def test_no_route_changes_the_audit_log(seeded_app):
    for rule in seeded_app.url_map.iter_rules():
        if "audit" in rule.rule or "audit" in rule.endpoint:
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule


def test_audit_log_has_no_edit_controls(admin_client, cast, history):
    main = main_of(admin_client.get("/admin/audit").data)
    assert [form.attrs.get("method") for form in main.find_all("form")] == ["get"]
    assert main.find("button", where=lambda e: e.attrs.get("type") == "submit").text() == "Apply filters"
