"""Every page of the site, as every role, with markup in every name: nothing is printed unescaped.

The module's app holds the seed content plus entries of each kind (a review, papers, a
public, a members-only, a draft and a submitted lesson), a taxonomy theme and tag, users,
an organisation, comments (a reply, an edit), flags, an action record, a recurrence,
findings (edited, cited, published), consultations (open and closed, with questions,
responses, themes and an outcome) and notifications, all made through kb's services, each
name, title, label and note carrying `MARK`. Every GET rule of the app's url_map is then
requested as each role, its path parameters filled from those objects (and a few query
strings where a page only shows the marked data when asked).

A page fails when its body holds the marker's opening unescaped (a tag a browser would
build) or escaped twice (readers would see `&lt;`). A text response that is not HTML (CSV,
calendar, Markdown, JSON) may carry the marker as it is, but must not be served as HTML.
Every GET rule must answer 200 at least once, or be listed in `EXCLUDED` with the reason.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Response

from kb.actions.recurrence import decide_recurrence
from kb.actions.rules import ActionState
from kb.actions.service import update_action
from kb.comments.service import edit_comment, post_comment
from kb.consultations import outcome
from kb.consultations.service import ConsultationDraft, QuestionDraft, open_consultation, save_response
from kb.contributions.service import LessonFields, create_lesson, update_lesson
from kb.dates import utcnow
from kb.documents.service import attach_document, remove_document
from kb.entries.vocabulary import KIND_PLURALS, LESSON_SECTIONS
from kb.extensions import db
from kb.moderation.service import raise_flag
from kb.notifications.service import follow
from kb.notifications.tokens import make_unsubscribe_token
from kb.panels.citations import add_citation, paper_paragraphs
from kb.panels.corrections import correct_finding
from kb.panels.service import (
    FindingText,
    agree_finding,
    create_finding,
    edit_finding,
    propose_agreement,
    publish_findings,
)
from kb.users.models import User
from kb.users.service import invite_link, invite_user, reset_link, save_organisation, set_organisation
from kb.users.work import SECTIONS as WORK_LISTS
from tests.accounts import login_as, make_user, sign_in
from tests.conftest import import_files, make_app
from tests.factories import entry
from tests.outcome_factory import CHOICES, answer, make_consultation, text_answer

MARK = '<i data-x="esc">'
"""Put into every name, title, label and note the test makes."""
RAW = "<i data-x"
"""The marker's opening as it would be printed unescaped: a tag the browser builds."""
DOUBLE = "&amp;lt;i data-x"
"""The marker escaped twice: readers would see `&lt;i data-x...` on the page."""
HTML_TYPES = ("text/html", "application/xhtml+xml", "image/svg+xml")
BINARY_TYPES = (
    "application/zip",
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)
"""Not text: a review's export is a zip of Markdown files, its report a PDF or Word file (tests/web/test_report.py)."""

ROLES = ("anonymous", "member", "panel", "moderator", "admin")

EXCLUDED: dict[str, str] = {
    "static": "files from static/, not rendered from templates",
    "nhsuk_asset": "files of the nhsuk-frontend package, not rendered from templates",
    "comments.permalink": "only redirects to the comment on its entry's page (or its thread), both crawled",
    "auth.sso_callback": "answers only a provider's redirect, with single sign-on set up (tests/web/test_sso.py)",
    "auth.emergency_sign_in": "needs a link printed by `flask users emergency-link` (tests/web/test_sso.py)",
    "panels.merge_finding": "shown when a save comes too late (tests/web/test_finding_merge_page.py); GET only "
    "brings back a kept draft of it, else redirects to the editor",
}
"""GET endpoints the test does not need to see answer 200, and why."""

QUERIES: dict[str, tuple[str, ...]] = {
    "entries.list_kind": ("region=Region+{mark}", "tag=escaping-tag"),
    "entries.compare": ("from=1&to=2",),
    "consultations.new": ("entry=escaping-review", "entry=escaping-paper"),
    "search.results": ("q=escaping", "q={mark}", "tag=escaping-tag"),
    "curation.merge": ("q=escaping", "into=escaping-recurring-lesson", "into=escaping-paper"),
    "panels.compare_findings": ("from=1&to=2",),
    "actions.open_actions": ("owner=Organisation+{mark}",),
    "admin.users": ("q=escaping",),
    "admin.audit": ("q=escaping",),
}
"""Query strings (besides none) that make a page show the marked data; `{mark}` is the marker, quoted."""


def marked(text: str) -> str:
    """`text` with the marker in the middle of it."""
    return f"{text} {MARK} end"


def lesson_file(slug: str, title: str, *, visibility: str = "public", extra: str = "") -> str:
    """A lesson's content file whose every text carries the marker."""
    return (
        f"---\nkind: lesson\nslug: {slug}\ntitle: '{marked(title)}'\nsummary: '{marked('Summary')}'\n"
        f"visibility: {visibility}\nregion: 'Region {MARK}'\nevent_date: 2013-06\n"
        f"organisation: '{marked('Organisation')}'\ntags:\n  - escaping-tag\n  - go-live-deadline\n"
        "see_also:\n  - escaping-paper\n"
        f"sources:\n  - title: '{marked('Source')}'\n    publisher: '{marked('Publisher')}'\n"
        f"{extra}---\n\n"
        f"## Driving event\n\nA {MARK} event about escaping.\n\n## Lesson\n\nEscaping {MARK} matters.\n\n"
        f"## Recommendation\n\nEscape {MARK} everything.\n\n## Evidence\n\nSeen {MARK} in tests.\n"
    )


CONTENT = {
    "taxonomy.yaml": (
        "themes:\n  - slug: escaping-theme\n"
        f"    label: '{marked('Theme')}'\n    description: '{marked('About escaping')}'\n"
        f"    tags:\n      - slug: escaping-tag\n        label: '{marked('Tag')}'\n"
    ),
    "reviews/escaping-review.md": (
        f"---\nkind: review\nslug: escaping-review\ntitle: '{marked('Review')}'\nsummary: '{marked('Summary')}'\n"
        f"region: 'Region {MARK}'\ncommissioning_body: '{marked('Body')}'\ntags:\n  - escaping-tag\n"
        f"terms_of_reference: 'Terms {MARK} of reference'\n---\n\n## Why\n\nEscaping {MARK} review.\n"
    ),
    "papers/escaping-paper.md": (
        f"---\nkind: paper\nslug: escaping-paper\ntitle: '{marked('Paper')}'\nsummary: '{marked('Summary')}'\n"
        f"review: escaping-review\nmeeting: '{marked('Meeting')}'\nmeeting_date: 2013-07\npaper_type: minutes\n"
        f"tags:\n  - escaping-tag\n---\n\nThe first {MARK} paragraph about escaping.\n\n"
        f"The second {MARK} paragraph, cited by a finding.\n"
    ),
    "papers/escaping-panel-paper.md": (
        f"---\nkind: paper\nslug: escaping-panel-paper\ntitle: '{marked('Panel paper')}'\n"
        f"summary: '{marked('Summary')}'\nvisibility: panel\nreview: escaping-review\npaper_type: briefing\n---\n\n"
        f"For the panel {MARK} only.\n"
    ),
    "lessons/escaping-lesson.md": lesson_file("escaping-lesson", "Lesson"),
    "lessons/escaping-members-lesson.md": lesson_file(
        "escaping-members-lesson", "Members lesson", visibility="members"
    ),
    "lessons/escaping-recurring-lesson.md": lesson_file("escaping-recurring-lesson", "Recurring lesson"),
}


def lesson_fields(title: str) -> LessonFields:
    """What a member writes for a lesson, every part marked."""
    return LessonFields(
        title=marked(title),
        summary=marked("Summary"),
        sections={key: marked(f"Section {key}") for key in LESSON_SECTIONS},
        tags=["escaping-tag"],
        region=f"Region {MARK}",
    )


@dataclass
class World:
    """The module's app, a client per role, and every value that fills a path parameter."""

    app: Flask
    clients: dict[str, FlaskClient]
    values: dict[frozenset[str], list[dict[str, object]]] = field(default_factory=dict)


def build(app: Flask, folder: Path) -> dict[frozenset[str], list[dict[str, object]]]:
    """Make the marked data through kb's services; return the values for each set of path parameters."""
    import_files(folder, CONTENT)
    review, paper, lesson = entry("escaping-review"), entry("escaping-paper"), entry("escaping-lesson")
    members_lesson, recurring = entry("escaping-members-lesson"), entry("escaping-recurring-lesson")

    admin = make_user("admin@example.org", role="admin", name=marked("Admin"))
    organisation = save_organisation(None, name=marked("Organisation"), type_="gp-federation", region=None, actor=admin)
    member = make_user("member@example.org", name=marked("Member"))
    panel = make_user("panel@example.org", name=marked("Panel"), panels=(review,))
    second = make_user("second-panel@example.org", name=marked("Second panel"), panels=(review,))
    moderator = make_user("moderator@example.org", role="moderator", name=marked("Moderator"))
    for user in (admin, member, panel, second, moderator):
        set_organisation(user, organisation, actor=admin)
    invited = invite_user(
        "invited@example.org", marked("Invited"), role="member", organisation=organisation, actor=admin
    )
    db.session.commit()

    draft = create_lesson(lesson_fields("Draft lesson"), actor=member)
    submitted = create_lesson(lesson_fields("Submitted lesson"), actor=member, submit=True)
    update_lesson(lesson, lesson_fields("Lesson edited"), actor=moderator, base_number=1, message=marked("Edited"))
    db.session.commit()

    follow(member, "entry", lesson.id)
    comment = post_comment(lesson, marked("A comment with **Markdown**"), actor=member)
    db.session.flush()
    # The reply mentions the member by handle: the mention is marked with their (marked) name.
    reply = post_comment(lesson, marked("A reply to @member-i-data-x-esc-end"), actor=moderator, parent=comment)
    db.session.flush()
    edit_comment(comment, marked("A comment, edited"), actor=member)
    paper_comment = post_comment(paper, marked("On the paper"), actor=panel)
    db.session.flush()
    raise_flag(lesson, actor=member, reason="inaccurate", note=marked("Flag note"))
    raise_flag(lesson, actor=panel, reason="off-topic", note=marked("Comment flag"), comment=reply)
    update_action(
        lesson,
        ActionState(status="accepted", owner=organisation.name, evidence=marked("Evidence"), note=marked("Note")),
        actor=moderator,
        message=marked("Accepted"),
    )
    decide_recurrence(lesson, recurring, "confirmed", actor=moderator, note=marked("Same again"))
    db.session.commit()

    finding = create_finding(review, FindingText(marked("Finding"), marked("Body"), marked("Do this")), actor=panel)
    db.session.flush()
    edit_finding(
        finding,
        FindingText(marked("Finding edited"), marked("Body edited"), marked("Do that")),
        actor=panel,
        base_number=1,
        message=marked("Finding edit"),
    )
    add_citation(
        finding, actor=panel, kind="paragraph", entry=paper, anchor=paper_paragraphs(paper)[1].anchor, note=MARK
    )
    add_citation(finding, actor=panel, kind="entry", entry=lesson, note=marked("Cited lesson"))
    add_citation(finding, actor=panel, kind="comment", comment=paper_comment)
    propose_agreement(finding, actor=panel)
    agree_finding(finding, actor=second)
    publish_findings(review, actor=panel)
    db.session.flush()
    corrected = FindingText(marked("Finding corrected"), marked("Body corrected"), marked("Do that"))
    correct_finding(finding, corrected, marked("Corrected because"), actor=panel, base_number=finding.revision_number)
    draft_finding = create_finding(review, FindingText(marked("Draft finding"), marked("Body"), ""), actor=panel)
    db.session.commit()

    now = utcnow()
    open_one = open_consultation(
        review,
        ConsultationDraft(
            title=marked("Open consultation"),
            introduction=marked("Introduction"),
            opens_at=now - dt.timedelta(days=1),
            closes_at=now + dt.timedelta(days=10),
            questions=(
                QuestionDraft("text", marked("Prompt"), hint=marked("Hint")),
                QuestionDraft("choice", marked("Choose"), options=(marked("One"), marked("Two"))),
            ),
            finding_ids=(finding.id,),
        ),
        actor=panel,
    )
    db.session.flush()
    text_q, choice_q = open_one.questions
    save_response(open_one, {text_q.id: marked("My answer"), choice_q.id: marked("One")}, actor=member, submit=True)
    closed = make_consultation(review, title=marked("Closed consultation"))
    closed.introduction = marked("Introduction")
    for question in closed.questions:
        question.prompt = marked(question.prompt)
    response = answer(
        closed, member, scale="agree", choice=CHOICES[0], text=marked("Answer"), organisation_name=organisation.name
    )
    outcome.tag_answer(text_answer(response), marked("Theme label"), actor=panel)
    outcome.save_outcome(
        closed,
        actor=panel,
        we_asked=marked("We asked"),
        you_said=marked("You said"),
        changes=[outcome.ChangeDraft(marked("Said"), marked("Did"), (response.id,), (finding.id,))],
    )
    outcome.publish_outcome(closed, actor=panel)
    db.session.commit()

    first = attach_document(
        paper, marked("Page one").encode(), filename="notes.txt", title=marked("Notes"), actor=admin
    )
    db.session.flush()
    document = attach_document(
        paper,
        marked("Page one, later").encode(),
        filename="notes.txt",
        title=marked("Notes"),
        actor=admin,
        replaces=first,
    )
    removed = attach_document(paper, b"Name,Note\nA,B\n", filename="table.csv", title=marked("Table"), actor=admin)
    db.session.flush()
    remove_document(removed, actor=admin)
    db.session.commit()

    secret = app.config["SECRET_KEY"]
    entries = [lesson, members_lesson, recurring, review, paper, entry("escaping-panel-paper"), draft, submitted]
    token = urlsplit(invite_link(invited)).path.rsplit("/", 1)[1]
    reset = urlsplit(reset_link(member)).path.rsplit("/", 1)[1]
    findings = [finding.number, draft_finding.number]
    return {
        frozenset(): [{}],
        frozenset({"plural"}): [{"plural": plural} for plural in ("lessons", "reviews", "papers")],
        frozenset({"plural", "slug"}): [{"plural": KIND_PLURALS[e.kind], "slug": e.slug} for e in entries],
        frozenset({"plural", "slug", "number"}): [
            {"plural": KIND_PLURALS[e.kind], "slug": e.slug, "number": n} for e in (lesson, review) for n in (1, 2)
        ],
        frozenset({"plural", "slug", "document_id"}): [
            {"plural": "papers", "slug": paper.slug, "document_id": d.id} for d in (first, document, removed)
        ],
        frozenset({"slug"}): [
            {"slug": slug}
            for slug in (lesson.slug, review.slug, paper.slug, draft.slug, "escaping-tag", "escaping-theme")
        ],
        frozenset({"tag_slug"}): [{"tag_slug": "escaping-tag"}],
        frozenset({"slug", "other_slug"}): [{"slug": lesson.slug, "other_slug": recurring.slug}],
        frozenset({"slug", "number"}): [{"slug": review.slug, "number": n} for n in findings],
        frozenset({"slug", "number", "rev"}): [
            {"slug": review.slug, "number": n, "rev": r} for n in findings for r in (1, 2)
        ],
        frozenset({"slug", "number", "entry_slug"}): [
            {"slug": review.slug, "number": draft_finding.number, "entry_slug": slug}
            for slug in (paper.slug, lesson.slug)
        ],
        frozenset({"comment_id"}): [{"comment_id": c.id} for c in (comment, reply, paper_comment)],
        frozenset({"consultation_id"}): [{"consultation_id": c.id} for c in (open_one, closed)],
        frozenset({"consultation_id", "response_id"}): [{"consultation_id": closed.id, "response_id": response.id}],
        frozenset({"organisation_id"}): [{"organisation_id": organisation.id}],
        frozenset({"listing"}): [{"listing": listing} for listing in WORK_LISTS],
        frozenset({"user_id"}): [{"user_id": user.id} for user in (member, invited)],
        frozenset({"token"}): [
            {"token": value} for value in (token, reset, make_unsubscribe_token(secret, member.id, "replies"))
        ],
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("escaping")
    # The crawl asks for every report file as every role; the download limit is tested on its own.
    app = make_app(folder, seeded_database, REPORT_DOWNLOAD_LIMIT_PER_ADDRESS="100000 per minute")
    with app.app_context(), app.test_request_context():
        values = build(app, folder / "content")
        users = {
            role: db.session.scalar(select(User).where(User.email == f"{role}@example.org"))
            for role in ROLES
            if role != "anonymous"
        }
        clients = {"anonymous": app.test_client()}
        for role, user in users.items():
            assert user is not None
            clients[role] = login_as(app.test_client(), user)
        # Signed in through the form, so the session is fresh enough for the two-step set-up page.
        clients["member"] = app.test_client()
        assert sign_in(clients["member"], "member@example.org").status_code == 302
        # Half-way through signing in (password given, second step to come): the only way to /login/verify.
        clients["signing-in"] = app.test_client()
        sign_in(clients["signing-in"], "moderator@example.org")
        yield World(app, clients, values)
        db.session.remove()
        db.engine.dispose()


@dataclass
class Crawl:
    """What the crawl saw: every URL's status per role, the rules that answered 200, and the problems."""

    statuses: dict[tuple[str, str], int] = field(default_factory=dict)
    answered: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def get_rules(url_map: Map) -> list[Rule]:
    """Every rule of `url_map` that answers GET."""
    return [rule for rule in url_map.iter_rules() if "GET" in (rule.methods or ())]


def urls_for(world: World, rule: Rule) -> list[str]:
    """The URLs to request for `rule`: its path parameters filled every way the world offers, with any queries."""
    adapter = world.app.url_map.bind("localhost")
    mark = MARK.replace("<", "%3C").replace(">", "%3E").replace('"', "%22").replace(" ", "+").replace("=", "%3D")
    queries = ["", *(query.replace("{mark}", mark) for query in QUERIES.get(rule.endpoint, ()))]
    urls = []
    for values in world.values.get(frozenset(rule.arguments), []):
        path = adapter.build(rule.endpoint, values, force_external=False)
        if path is None:
            continue
        urls += [path + (f"?{query}" if query else "") for query in queries]
    return list(dict.fromkeys(urls))


def around(body: str, needle: str) -> str:
    """The text just before and after the first `needle` in `body`, for the failure message."""
    at = body.index(needle)
    return repr(body[max(at - 120, 0) : at + 40])


def check(role: str, url: str, response: Response) -> list[str]:
    """The problems with one response: an unescaped or doubly escaped marker, or a marker served as HTML."""
    kind = response.mimetype or ""
    if kind in BINARY_TYPES:
        return []
    body = response.get_data(as_text=True)
    where = f"{role} {url} ({response.status_code} {kind})"
    if kind in HTML_TYPES:
        found = []
        if RAW in body:
            found.append(f"{where}: unescaped: ...{around(body, RAW)}")
        if DOUBLE in body:
            found.append(f"{where}: escaped twice: ...{around(body, DOUBLE)}")
        return found
    if MARK in body and response.headers.get("X-Content-Type-Options") != "nosniff":
        return [f"{where}: markup in a {kind} response a browser may sniff as HTML"]
    return []


@pytest.fixture(scope="module")
def crawl(world: World) -> Crawl:
    """Request every URL of every GET rule as every role, once for the module."""
    seen = Crawl()
    for rule, role in itertools.product(get_rules(world.app.url_map), world.clients):
        if rule.endpoint in EXCLUDED:
            continue
        for url in urls_for(world, rule):
            response = world.clients[role].get(url)
            seen.statuses[(role, url)] = response.status_code
            if response.status_code == 200:
                seen.answered.add(rule.endpoint)
            seen.problems += check(role, url, response)
    return seen


def uncovered(url_map: Map, answered: set[str]) -> set[str]:
    """GET rules that answered 200 for nobody and are not excluded with a reason."""
    return {rule.rule for rule in get_rules(url_map) if rule.endpoint not in answered and rule.endpoint not in EXCLUDED}


def test_no_page_prints_a_name_unescaped(crawl: Crawl) -> None:
    leaked = {problem.split(" (")[0] for problem in crawl.problems}
    assert crawl.problems == [], f"{len(leaked)} pages failed:\n" + "\n".join(crawl.problems)


def test_every_get_rule_was_seen_answering(world: World, crawl: Crawl) -> None:
    assert uncovered(world.app.url_map, crawl.answered) == set()


def test_no_server_error_anywhere(crawl: Crawl) -> None:
    assert {key: status for key, status in crawl.statuses.items() if status >= 500} == {}


def test_a_new_route_nobody_visits_is_caught(world: World, crawl: Crawl) -> None:
    """The set of rules comes from the app's url_map, so a route added without data to fill it fails the test."""
    rules = [rule.empty() for rule in world.app.url_map.iter_rules()]
    grown = Map([*rules, Rule("/escaping/new-page/<int:thing_id>", endpoint="escaping.new_page", methods=["GET"])])
    assert uncovered(grown, crawl.answered) == {"/escaping/new-page/<int:thing_id>"}


def test_the_marker_reaches_the_pages(world: World) -> None:
    """The check above means something: the marked names are on the pages, escaped once."""
    escaped = "&lt;i data-x=&#34;esc&#34;&gt;"
    for role, url in (("moderator", "/lessons/escaping-lesson/history"), ("anonymous", "/reviews/escaping-review")):
        body = world.clients[role].get(url).get_data(as_text=True)
        assert escaped in body, url


def test_the_check_catches_unescaped_and_double_escaped_markup() -> None:
    def page(body: str, mimetype: str = "text/html", *, nosniff: bool = True) -> Response:
        return Response(body, mimetype=mimetype, headers={"X-Content-Type-Options": "nosniff"} if nosniff else {})

    assert check("r", "/", page(f"<p>{MARK}</p>"))
    assert check("r", "/", page("<p>&amp;lt;i data-x=&amp;#34;esc</p>"))
    assert not check("r", "/", page("<p>&lt;i data-x=&#34;esc&#34;&gt;</p>"))
    assert not check("r", "/", page(f"a,{MARK}", "text/csv"))
    assert check("r", "/", page(f"a,{MARK}", "text/csv", nosniff=False))
