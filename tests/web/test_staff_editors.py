"""Staff editors in the browser: write a review or a paper, edit any entry by its fields, preview without script."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from kb.content.document import parse_document
from kb.entries.models import Entry, Lesson, Paper, Review, Revision
from kb.entries.service import current_revision
from kb.extensions import db
from kb.states import EntryKind, EntryStatus, PaperStatus, ReviewStatus, Visibility
from tests.accounts import client_for, page_text
from tests.document_rows import add_document
from tests.web import seed
from tests.web.dom import main_of, parse
from tests.web.test_contributions import PAPER, PUBLIC_LESSON, token_of

REVIEW = {
    "title": "Out-of-hours handover review",
    "summary": "How calls were handed to out-of-hours services in the first month.",
    "commissioning_body": "South West commissioning support unit",
    "review_status": ReviewStatus.IN_PROGRESS,
    "terms_of_reference": "Looks at **handovers** only.\n\n- calls\n- records",
    "body": "The review started in May.",
    "status": EntryStatus.PUBLISHED,
    "visibility": Visibility.MEMBERS,
    "sources-0-title": "Handover audit",
    "sources-0-publisher": "The provider",
    "sources-0-date": "2013-05",
    "sources-0-url": "https://example.org/audit",
    "action": "save",
}
PAPER_FIELDS = {
    "title": "Board minutes of June",
    "summary": "What the programme board agreed about handovers in June.",
    "meeting": "NHS 111 programme board",
    "meeting_date": "2013-06-12",
    "paper_type": "minutes",
    "paper_status": PaperStatus.DRAFT,
    "body": "The board agreed to *weekly* reports.",
    "status": EntryStatus.PUBLISHED,
    "visibility": Visibility.PANEL,
    "action": "save",
}
SCRIPT = "<script>alert('kb')</script>"


def stored(slug: str) -> Entry | None:
    db.session.expire_all()
    return db.session.scalar(select(Entry).where(Entry.slug == slug))


def revisions_of(entry: Entry) -> int:
    return db.session.scalar(select(func.count(Revision.id)).where(Revision.entry_id == entry.id)) or 0


def create(client, path: str, fields: dict[str, str]):
    """GET the empty form at `path`, then POST `fields` with its CSRF token."""
    return client.post(path, data={"csrf_token": token_of(client.get(path).get_data(as_text=True)), **fields})


def form_values(html: bytes) -> MultiDict[str, str]:
    """What the browser would send from the staff form as shown: inputs, checked boxes, chosen options, texts."""
    form = parse(html).one("form", cls="kb-staff-form")
    values: MultiDict[str, str] = MultiDict()
    for element in form.elements():
        name = element.attrs.get("name")
        if not name or element.tag == "button":
            continue
        if element.tag == "input":
            if element.attrs.get("type") in ("checkbox", "radio") and "checked" not in element.attrs:
                continue
            values.add(name, element.attrs.get("value", ""))
        elif element.tag == "textarea":
            values.add(
                name, "".join(child for child in element.children if isinstance(child, str)).removeprefix("\r\n")
            )
        elif element.tag == "select":
            options = element.find_all("option")
            chosen = [option for option in options if "selected" in option.attrs] or options[:1]
            values.add(name, chosen[0].attrs.get("value", "") if chosen else "")
    return values


def edit_with(client, path: str, page=None, **changes: str):
    """Post the staff form of `path` (as `page` showed it, else as it is now) with `changes` made."""
    page = page or client.get(path)
    assert page.status_code == 200, page_text(page)[:500]
    values = form_values(page.data)
    for name, value in changes.items():
        values.setlist(name, [value])
    values.setlist("action", ["save"])
    return client.post(path, data=values)


# --- Who may use the editors ----------------------------------------------------------------


def test_the_new_pages_win_over_the_entry_pages(seeded_app):
    adapter = seeded_app.url_map.bind("localhost")
    assert adapter.match("/reviews/new") == ("contributions.new_review", {})
    assert adapter.match("/papers/new") == ("contributions.new_paper", {})
    assert adapter.match("/reviews/new/edit")[0] == "contributions.edit"


@pytest.mark.parametrize("path", ["/reviews/new", "/papers/new"])
@pytest.mark.parametrize("role", ["member", "author", "panel"])
def test_only_staff_may_write_reviews_and_papers(seeded_app, cast, path, role):
    client = client_for(seeded_app, getattr(cast, role))
    token = token_of(client.get("/lessons/new").get_data(as_text=True))
    assert client.get(path).status_code == 404
    fields = REVIEW if path.startswith("/reviews") else PAPER_FIELDS
    assert client.post(path, data={**fields, "csrf_token": token}).status_code == 404
    assert stored("out-of-hours-handover-review") is None
    assert stored("board-minutes-of-june") is None
    add_links = main_of(client.get(path.removesuffix("/new")).data).hrefs()
    assert path not in add_links


@pytest.mark.parametrize("path", ["/reviews/new", "/papers/new"])
def test_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_members_may_not_edit_by_fields_or_as_a_file(seeded_app, cast):
    member = client_for(seeded_app, cast.member)
    for path in (seed.path_of(PAPER), seed.path_of(PUBLIC_LESSON)):
        assert member.get(f"{path}/edit-file").status_code == 403
        assert member.get(f"{path}/edit").status_code == 403


# --- Writing a review or a paper -------------------------------------------------------------


def test_a_moderator_writes_a_review(seeded_app, cast):
    moderator = client_for(seeded_app, cast.moderator)
    assert "/reviews/new" in main_of(moderator.get("/reviews").data).hrefs()
    response = create(moderator, "/reviews/new", REVIEW)
    assert response.status_code == 303, page_text(response)[:1000]
    review = stored("out-of-hours-handover-review")
    assert isinstance(review, Review)
    assert response.location == review.path
    assert (review.commissioning_body, review.review_status) == (REVIEW["commissioning_body"], "in-progress")
    assert (review.status, review.visibility) == ("published", "members")
    assert review.terms_of_reference == REVIEW["terms_of_reference"]
    assert review.sources[0]["title"] == "Handover audit"
    assert revisions_of(review) == 1
    page = main_of(moderator.get(review.path).data)
    assert page.find("strong", where=lambda e: e.text() == "handovers") is not None
    assert client_for(seeded_app).get(review.path).status_code == 404
    assert client_for(seeded_app, cast.member).get(review.path).status_code == 200


def test_an_admin_writes_a_paper_for_a_reviews_panel(seeded_app, cast):
    admin = client_for(seeded_app, cast.admin)
    form = parse(admin.get("/papers/new").data)
    reviews = [
        option.attrs["value"]
        for option in form.one("select", where=lambda e: e.attrs.get("id") == "review").find_all("option")
    ]
    assert cast.review.slug in reviews
    response = create(admin, "/papers/new", {**PAPER_FIELDS, "review": cast.review.slug})
    assert response.status_code == 303, page_text(response)[:1000]
    paper = stored("board-minutes-of-june")
    assert isinstance(paper, Paper)
    assert (paper.meeting, str(paper.meeting_day), paper.paper_type) == (
        "NHS 111 programme board",
        "2013-06-12",
        "minutes",
    )
    assert str(paper.event_day) == "2013-06-12"  # dated by its meeting, as lists and the year filter show it
    edit = admin.get(f"{paper.path}/edit")
    moved = admin.post(f"{paper.path}/edit", data={**form_values(edit.data), "meeting_date": "2014-01-08"})
    assert moved.status_code == 303, page_text(moved)[:1000]
    db.session.expire_all()
    assert str(stored("board-minutes-of-june").event_day) == "2014-01-08"  # the date follows the meeting
    assert (paper.paper_status, paper.visibility, paper.review_id) == ("draft", "panel", cast.review.id)
    assert client_for(seeded_app, cast.panel).get(paper.path).status_code == 200
    assert client_for(seeded_app, cast.other_panel).get(paper.path).status_code == 404
    assert client_for(seeded_app, cast.member).get(paper.path).status_code == 404


def test_a_title_that_would_take_the_new_address_gets_another_slug(seeded_app, cast):
    moderator = client_for(seeded_app, cast.moderator)
    response = create(moderator, "/papers/new", {**PAPER_FIELDS, "title": "New", "visibility": Visibility.MEMBERS})
    assert response.status_code == 303
    assert response.location != "/papers/new"
    assert moderator.get("/papers/new").status_code == 200
    assert moderator.get(response.location).status_code == 200


def test_a_new_paper_with_mistakes_keeps_what_was_typed(seeded_app, cast):
    moderator = client_for(seeded_app, cast.moderator)
    typed = "Paragraph typed with care. " + SCRIPT
    response = create(
        moderator,
        "/papers/new",
        {**PAPER_FIELDS, "title": "", "meeting_date": "June-ish", "body": typed, "sources-0-url": "example.org"},
    )
    assert response.status_code == 400
    page = parse(response.data)
    assert page.one("title").text().startswith("Error:")
    summary = page.one("div", cls="nhsuk-error-summary")
    assert {"#title", "#meeting_date", "#review", "#sources-0-url", "#sources-0-title"} <= set(summary.hrefs())
    body = page.one("textarea", where=lambda e: e.attrs.get("name") == "body")
    assert typed in body.text()
    assert SCRIPT not in response.get_data(as_text=True)
    values = form_values(response.data)
    assert (values["meeting"], values["meeting_date"], values["paper_status"]) == (
        "NHS 111 programme board",
        "June-ish",
        "draft",
    )
    assert db.session.scalar(select(func.count(Entry.id)).where(Entry.title == "")) == 0


def test_a_review_over_the_limits_is_refused_with_the_limit_named(seeded_app, cast):
    moderator = client_for(seeded_app, cast.moderator)
    response = create(moderator, "/reviews/new", {**REVIEW, "commissioning_body": "B" * 201})
    assert response.status_code == 400
    assert "Commissioning body must be 200 characters or fewer; it has 201" in page_text(response)
    assert stored("out-of-hours-handover-review") is None


def test_an_expired_token_keeps_the_typed_text(seeded_app, cast):
    moderator = client_for(seeded_app, cast.moderator)
    response = moderator.post("/reviews/new", data={**REVIEW, "csrf_token": "stale"})
    assert response.status_code == 303
    assert "draft=" in response.headers["Location"]
    shown = moderator.get(response.headers["Location"])
    assert REVIEW["body"] in page_text(shown)
    assert "Your text was kept and has not been sent yet" in page_text(shown)
    assert stored("out-of-hours-handover-review") is None


def test_another_source_row_is_added_without_saving(seeded_app, cast):
    moderator = client_for(seeded_app, cast.moderator)
    response = create(moderator, "/reviews/new", {**REVIEW, "action": "add-source"})
    assert response.status_code == 200
    rows = parse(response.data).find_all("fieldset", cls="kb-source")
    assert len(rows) == 2
    assert form_values(response.data)["sources-0-title"] == "Handover audit"
    assert stored("out-of-hours-handover-review") is None


# --- The Preview button, without script ---------------------------------------------------------


def test_the_preview_button_shows_the_rendered_text_and_keeps_it(seeded_app, cast):
    moderator = client_for(seeded_app, cast.moderator)
    text = f"The board agreed to **weekly** reports. {SCRIPT}"
    response = create(moderator, "/papers/new", {**PAPER_FIELDS, "body": text, "action": "preview"})
    assert response.status_code == 400  # a panel paper without its review: shown, and the error named
    response = create(
        moderator, "/papers/new", {**PAPER_FIELDS, "review": cast.review.slug, "body": text, "action": "preview"}
    )
    assert response.status_code == 200
    preview = parse(response.data).one("section", cls="kb-preview")
    assert preview.find("strong", where=lambda e: e.text() == "weekly") is not None
    assert not preview.find_all("script")
    assert SCRIPT not in response.get_data(as_text=True)
    assert form_values(response.data)["body"] == text
    assert stored("board-minutes-of-june") is None


def test_every_markdown_field_of_the_entry_forms_is_marked_for_the_live_preview(seeded_app, cast):
    moderator = client_for(seeded_app, cast.moderator)
    pages = {
        "/reviews/new": {"terms_of_reference", "body"},
        "/papers/new": {"body"},
        f"{seed.path_of(PUBLIC_LESSON)}/edit": {"driving_event", "lesson", "recommendation", "evidence"},
        "/lessons/new": {"driving_event", "lesson", "recommendation", "evidence"},
    }
    for path, names in pages.items():
        page = parse(moderator.get(path).data)
        marked = {area.attrs["name"] for area in page.find_all("textarea") if "data-kb-preview" in area.attrs}
        assert marked == names, path
        buttons = page.find_all("button", where=lambda e: e.attrs.get("value") == "preview")
        assert [button.attrs.get("name") for button in buttons] == ["action"], path


# --- Editing by fields ------------------------------------------------------------------------


def _review_path(cast) -> str:
    return f"/reviews/{cast.review.slug}/edit"


def test_a_review_is_edited_by_its_fields_as_a_new_revision(seeded_app, cast):
    moderator = client_for(seeded_app, cast.moderator)
    review = stored(cast.review.slug)
    before = revisions_of(review)
    page = moderator.get(_review_path(cast))
    assert cast.panel.display_name in main_of(page.data).text()
    response = edit_with(
        moderator,
        _review_path(cast),
        page,
        commissioning_body="NHS England (south)",
        review_status=ReviewStatus.CONSULTING,
        terms_of_reference="Only the *launch* weekend.",
        message="Narrowed the terms",
    )
    assert response.status_code == 303, page_text(response)[:1000]
    review = stored(cast.review.slug)
    assert (review.commissioning_body, review.review_status) == ("NHS England (south)", "consulting")
    assert review.terms_of_reference == "Only the *launch* weekend."
    assert revisions_of(review) == before + 1
    history = main_of(moderator.get(f"/reviews/{cast.review.slug}/history").data).text()
    assert "Narrowed the terms" in history


def test_a_paper_is_edited_by_its_fields_and_keeps_what_the_form_does_not_show(seeded_app, cast):
    admin = client_for(seeded_app, cast.admin)
    path = f"{seed.path_of(PAPER)}/edit"
    paper = stored(PAPER.slug)
    before = revisions_of(paper)
    response = edit_with(
        admin, path, meeting="Programme board, extraordinary", meeting_date="2013-07", paper_status=PaperStatus.DRAFT
    )
    assert response.status_code == 303, page_text(response)[:1000]
    paper = stored(PAPER.slug)
    assert (paper.meeting, str(paper.meeting_day), paper.paper_status) == (
        "Programme board, extraordinary",
        "2013-07",
        "draft",
    )
    assert revisions_of(paper) == before + 1
    latest = db.session.scalars(
        select(Revision).where(Revision.entry_id == paper.id).order_by(Revision.number.desc())
    ).first()
    document = parse_document(latest.document, PAPER.slug).document
    assert document is not None
    assert (document.body, document.see_also, document.tags) == (PAPER.body, PAPER.see_also, PAPER.tags)


def test_an_edit_by_fields_stores_the_list_of_the_entrys_documents_as_they_are(seeded_app, cast):
    paper = stored(PAPER.slug)
    add_document(paper, "Minutes of March", ["Page one."], filename="minutes.pdf")
    response = edit_with(client_for(seeded_app, cast.admin), f"{seed.path_of(PAPER)}/edit", meeting="Programme board")
    assert response.status_code == 303, page_text(response)[:1000]
    latest = current_revision(stored(PAPER.slug))
    document = parse_document(latest.document, PAPER.slug).document
    assert document is not None
    listed = [(ref.file, ref.title) for ref in document.attachments]
    assert listed == [(f"{PAPER.slug}/minutes.pdf", "Minutes of March")]


def test_a_lesson_is_edited_by_its_fields(seeded_app, cast):
    moderator = client_for(seeded_app, cast.moderator)
    path = f"{seed.path_of(PUBLIC_LESSON)}/edit"
    page = moderator.get(path)
    form = parse(page.data).one("form", cls="kb-staff-form")
    names = {element.attrs.get("name") for element in form.elements()}
    assert {
        "driving_event",
        "lesson",
        "recommendation",
        "evidence",
        "maturity",
        "region",
        "event_date",
        "tags",
    } <= names
    lesson = stored(PUBLIC_LESSON.slug)
    before = revisions_of(lesson)
    response = edit_with(
        moderator, path, page, recommendation="Test with **real** callers.", maturity="learned", free_tags="rota gaps"
    )
    assert response.status_code == 303, page_text(response)[:1000]
    lesson = stored(PUBLIC_LESSON.slug)
    assert isinstance(lesson, Lesson)
    assert (lesson.recommendation, lesson.maturity) == ("Test with **real** callers.", "learned")
    assert "rota-gaps" in {tag.slug for tag in lesson.tags}
    assert revisions_of(lesson) == before + 1


def test_an_edit_from_an_old_revision_shows_the_other_change_and_keeps_mine(seeded_app, cast):
    moderator, admin = client_for(seeded_app, cast.moderator), client_for(seeded_app, cast.admin)
    path = _review_path(cast)
    old_tab = admin.get(path)
    assert edit_with(moderator, path, commissioning_body="Changed first").status_code == 303
    clash = edit_with(admin, path, old_tab, body="My careful paragraph.")
    assert clash.status_code == 409
    page = parse(clash.data)
    assert page.one("title").text().startswith("Error:")
    assert "Changed first" in page.one("section", cls="kb-conflict").text()
    assert form_values(clash.data)["body"] == "My careful paragraph."
    assert stored(cast.review.slug).commissioning_body == "Changed first"
    again = admin.post(path, data={**form_values(clash.data).to_dict(), "action": "save"})
    assert again.status_code == 303
    assert "My careful paragraph." in main_of(admin.get(stored(cast.review.slug).path).data).text()


def test_a_panel_audience_needs_a_review(seeded_app, cast):
    moderator = client_for(seeded_app, cast.moderator)
    path = f"{seed.path_of(PAPER)}/edit"
    response = edit_with(moderator, path, visibility=Visibility.PANEL, review="")
    assert response.status_code == 400
    assert "Choose the review whose panel may read it." in page_text(response)
    assert stored(PAPER.slug).visibility == PAPER.visibility


def test_the_file_editor_stays_for_staff(seeded_app, cast):
    moderator = client_for(seeded_app, cast.moderator)
    edit = main_of(moderator.get(f"{seed.path_of(PAPER)}/edit").data)
    assert f"{seed.path_of(PAPER)}/edit-file" in edit.hrefs()
    page = moderator.get(f"{seed.path_of(PAPER)}/edit-file")
    assert page.status_code == 200
    text = parse(page.data).one("textarea", where=lambda e: e.attrs.get("name") == "text")
    assert f"kind: {EntryKind.PAPER}" in text.text()
    assert f"{seed.path_of(PAPER)}/edit" in main_of(page.data).hrefs()
