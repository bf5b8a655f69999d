"""Contributing in the browser: write, preview, submit, moderate, edit, and bad input."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from kb.audit.models import AuditEvent
from kb.contributions.forms import SECTION_MAX
from kb.documents.models import Document
from kb.drafts.keeping import EXPIRED_MESSAGE as KEPT_EXPIRED_MESSAGE
from kb.entries.models import Entry, Revision
from kb.entries.service import current_revision
from kb.extensions import db
from kb.taxonomy.models import Tag
from tests.accounts import client_for, page_text
from tests.document_rows import add_document
from tests.web import seed
from tests.web.dom import main_of, parse

PUBLIC_LESSON = seed.a_lesson_with_a_source_paper()
PAPER = seed.documents()[PUBLIC_LESSON.source]
TOKEN = re.compile(r'name="([\w-]*csrf_token)"[^>]*value="([^"]+)"')
LESSON = {
    "title": "Rota gaps went unreported for weeks",
    "summary": "Gaps in the clinical rota were known locally but never reached the commissioner.",
    "driving_event": "In April the provider ran with half its clinicians on several nights.",
    "lesson": "Staffing gaps that are not reported cannot be fixed.",
    "recommendation": "Report rota gaps to the commissioner every week.",
    "evidence": "Minutes of the April contract meeting.",
    "tags": "provider-readiness",
    "free_tags": "rota gaps, night shifts",
    "region": "South West",
    "event_date": "2013-04",
}
SLUG = "rota-gaps-went-unreported-for-weeks"


def token_of(html: str, prefix: str = "") -> str:
    """The CSRF token of the form whose token field is named `<prefix>csrf_token`."""
    for name, value in TOKEN.findall(html):
        if name == f"{prefix}csrf_token":
            return value
    raise AssertionError(f"no {prefix}csrf_token in the page")


def post_page(client, path: str, data: dict, *, page: str | None = None, prefix: str = ""):
    """GET `page` (default `path`), then POST `data` to `path` with that page's CSRF token."""
    html = client.get(page or path).get_data(as_text=True)
    return client.post(path, data={f"{prefix}csrf_token": token_of(html, prefix), **data})


def write(client, action: str = "save", **changes):
    return post_page(client, "/lessons/new", {**LESSON, "action": action, **changes})


def entry(slug: str = SLUG) -> Entry | None:
    db.session.expire_all()
    return db.session.scalar(select(Entry).where(Entry.slug == slug))


def decide(client, slug: str, decision: str, **fields):
    found = entry(slug)
    prefix = f"{decision}-{found.id}-"
    data = {f"{prefix}{name}": value for name, value in fields.items()}
    return post_page(client, f"/moderation/{slug}/{decision}", data, page="/moderation", prefix=prefix)


def audit_actions(slug: str) -> list[str]:
    target = entry(slug)
    query = select(AuditEvent.action).where(AuditEvent.target_id == target.id).order_by(AuditEvent.id)
    return list(db.session.scalars(query))


# --- Routes and access ----------------------------------------------------------------------


def test_lessons_new_wins_over_the_entry_page_route(seeded_app):
    adapter = seeded_app.url_map.bind("localhost")
    assert adapter.match("/lessons/new") == ("contributions.new_lesson", {})
    assert adapter.match(f"/lessons/{PUBLIC_LESSON.slug}")[0] == "entries.show"
    assert adapter.match(f"/papers/{PAPER.slug}/edit") == (
        "contributions.edit",
        {"plural": "papers", "slug": PAPER.slug},
    )


@pytest.mark.parametrize("path", ["/lessons/new", "/account/contributions", f"/lessons/{PUBLIC_LESSON.slug}/edit"])
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_anonymous_posts_are_not_saved(client):
    response = client.post("/lessons/new", data={**LESSON, "action": "save"})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=")
    assert entry() is None


@pytest.mark.parametrize("role", [None, "member", "author", "panel"])
def test_the_moderation_queue_is_hidden_from_all_but_staff(seeded_app, cast, role):
    client = client_for(seeded_app, getattr(cast, role) if role else None)
    assert client.get("/moderation").status_code == 404


def test_the_form_offers_controlled_tags_by_theme(seeded_app, cast):
    response = client_for(seeded_app, cast.member).get("/lessons/new")
    assert response.status_code == 200
    form = main_of(response.data).one("form", cls="kb-lesson-form")
    legends = [legend.text() for legend in form.find_all("legend")]
    assert seed.themes()[0].label in legends
    boxes = {box.attrs["value"] for box in form.find_all("input", where=lambda e: e.attrs.get("name") == "tags")}
    assert boxes == {tag.slug for theme in seed.themes() for tag in theme.tags}
    buttons = [button.text() for button in form.find_all("button")]
    assert buttons == ["Preview", "Save draft", "Submit for publication"]
    assert not form.find_all(where=lambda e: e.attrs.get("name") in ("status", "visibility", "author", "slug"))


# --- From draft to published ----------------------------------------------------------------


def test_a_draft_is_seen_only_by_its_author(seeded_app, cast):
    author = client_for(seeded_app, cast.author)
    response = write(author)
    assert response.status_code == 303
    assert response.location == f"/lessons/{SLUG}"
    page = author.get(f"/lessons/{SLUG}")
    assert page.status_code == 200
    assert "Not published: draft" in main_of(page.data).text()
    saved = entry()
    assert (saved.status, saved.visibility, saved.author_id) == ("draft", "members", cast.author.id)
    assert {tag.slug for tag in saved.tags} == {"provider-readiness", "rota-gaps", "night-shifts"}
    assert str(saved.event_day) == "2013-04"
    revision = db.session.scalar(select(Revision).where(Revision.entry_id == saved.id))
    assert (revision.number, revision.author_name, revision.author_id) == (1, cast.author.display_name, cast.author.id)
    history = main_of(author.get(f"/lessons/{SLUG}/history").data).text()
    assert f"{cast.author.display_name} ({cast.author.organisation.name})" in history
    for other in (None, cast.member, cast.panel):
        assert client_for(seeded_app, other).get(f"/lessons/{SLUG}").status_code == 404
    assert client_for(seeded_app, cast.member).get(f"/lessons/{SLUG}/edit").status_code == 404
    assert SLUG not in client_for(seeded_app).get("/lessons?sort=title").get_data(as_text=True)


def test_submit_publish_and_the_author_is_told(seeded_app, cast, sent):
    seeded_app.config["SITE_URL"] = "https://kb.example.org"
    author = client_for(seeded_app, cast.author)
    write(author)
    mine = author.get("/account/contributions")
    response = post_page(author, f"/lessons/{SLUG}/submit", {}, page="/account/contributions")
    assert response.status_code == 303
    assert entry().status == "submitted"
    assert "Submitted for publication" in main_of(author.get("/account/contributions").data).text()
    assert "Draft" in main_of(mine.data).text()

    moderator = client_for(seeded_app, cast.moderator)
    queue = main_of(moderator.get("/moderation").data)
    item = queue.one("li", cls="kb-queue__item")
    assert LESSON["title"] in item.text()
    assert cast.author.display_name in item.text()
    assert cast.author.organisation_name in item.text()
    assert [b.text() for b in item.find_all("button")] == ["Publish", "Return to author", "Reject"]

    response = decide(moderator, SLUG, "publish", visibility="public")
    assert response.status_code == 303
    published = entry()
    assert (published.status, published.visibility) == ("published", "public")
    assert published.published_at is not None
    assert client_for(seeded_app).get(f"/lessons/{SLUG}").status_code == 200
    assert "Nothing is waiting" in main_of(moderator.get("/moderation").data).text()
    assert audit_actions(SLUG) == ["entry.create", "entry.submit", "entry.publish", "entry.visibility"]
    [mail] = sent
    assert mail.to == cast.author.email
    assert f"https://kb.example.org/lessons/{SLUG}" in mail.body
    assert "published" in main_of(author.get("/account/contributions").data).text().lower()


def test_return_with_a_reason_then_submit_again(seeded_app, cast, sent):
    author = client_for(seeded_app, cast.author)
    write(author, action="submit")
    assert entry().status == "submitted"
    moderator = client_for(seeded_app, cast.moderator)
    response = decide(moderator, SLUG, "return", reason="")
    assert response.status_code == 400
    assert "Give a reason" in main_of(response.data).text()
    assert entry().status == "submitted"

    reason = "Say which April meeting, and add the minutes."
    assert decide(moderator, SLUG, "return", reason=reason).status_code == 303
    assert entry().status == "returned"
    mine = main_of(author.get("/account/contributions").data)
    assert "Returned to author" in mine.text()
    assert reason in mine.one(cls="kb-status-note").text()
    [mail] = sent
    assert reason in mail.body
    assert f"/lessons/{SLUG}/edit" in mail.body
    page = author.get(f"/lessons/{SLUG}")
    assert reason in main_of(page.data).text()

    edit = author.get(f"/lessons/{SLUG}/edit")
    assert edit.status_code == 200
    assert reason in main_of(edit.data).text()
    base = current_base(edit)
    html = edit.get_data(as_text=True)
    response = author.post(
        f"/lessons/{SLUG}/edit",
        data={
            **LESSON,
            "evidence": "Minutes of 9 April 2013.",
            "base_revision": base,
            "action": "submit",
            "csrf_token": token_of(html),
        },
    )
    assert response.status_code == 303
    assert entry().status == "submitted"
    assert entry().evidence == "Minutes of 9 April 2013."


def test_reject_with_a_reason(seeded_app, cast, sent):
    author = client_for(seeded_app, cast.author)
    write(author, action="submit")
    moderator = client_for(seeded_app, cast.moderator)
    assert decide(moderator, SLUG, "reject", reason="Already covered elsewhere.").status_code == 303
    assert entry().status == "rejected"
    assert "Already covered elsewhere." in main_of(author.get("/account/contributions").data).text()
    assert author.get(f"/lessons/{SLUG}/edit").status_code == 403
    assert client_for(seeded_app, cast.member).get(f"/lessons/{SLUG}").status_code == 404
    assert [mail.to for mail in sent] == [cast.author.email]
    assert "entry.reject" in audit_actions(SLUG)


def test_publishing_for_a_panel_needs_a_review(seeded_app, cast):
    write(client_for(seeded_app, cast.author), action="submit")
    moderator = client_for(seeded_app, cast.moderator)
    response = decide(moderator, SLUG, "publish", visibility="panel", review="")
    assert response.status_code == 400
    assert "Choose the review" in main_of(response.data).text()
    response = decide(moderator, SLUG, "publish", visibility="panel", review=cast.review.slug)
    assert response.status_code == 303
    assert client_for(seeded_app, cast.panel).get(f"/lessons/{SLUG}").status_code == 200
    assert client_for(seeded_app, cast.other_panel).get(f"/lessons/{SLUG}").status_code == 404


def test_a_submitted_lesson_page_shows_moderation_to_staff_only(seeded_app, cast):
    author = client_for(seeded_app, cast.author)
    write(author, action="submit")
    for_author = main_of(author.get(f"/lessons/{SLUG}").data)
    assert "Moderate this lesson" not in for_author.text()
    assert "Not published: submitted for publication" in for_author.text()
    assert not for_author.find_all("a", where=lambda e: e.attrs.get("href", "").endswith("/edit"))
    moderator = client_for(seeded_app, cast.moderator)
    page = moderator.get(f"/lessons/{SLUG}")
    assert "Moderate this lesson" in main_of(page.data).text()
    response = decide(moderator, SLUG, "publish", visibility="members")
    assert response.status_code == 303
    assert entry().visibility == "members"


# --- Bad input ------------------------------------------------------------------------------


def test_fields_a_member_may_not_set_are_ignored(seeded_app, cast):
    author = client_for(seeded_app, cast.author)
    response = write(
        author,
        status="published",
        visibility="public",
        author=str(cast.admin.id),
        author_id=str(cast.admin.id),
        slug="chosen-slug",
    )
    assert response.status_code == 303
    assert entry("chosen-slug") is None
    saved = entry()
    assert (saved.status, saved.visibility, saved.author_id) == ("draft", "members", cast.author.id)
    assert client_for(seeded_app).get(f"/lessons/{SLUG}").status_code == 404
    notice = main_of(author.get(response.location).data).text()
    assert "status, visibility, author, author_id, slug" in notice
    assert "ignored" in notice


def test_an_oversized_field_is_refused_with_its_text_kept(seeded_app, cast):
    author = client_for(seeded_app, cast.author)
    long_text = "Night after night. " * 1100
    response = write(author, driving_event=long_text)
    assert response.status_code == 400
    text = page_text(response)
    assert "Driving event must be 20,000 characters or fewer; it has 20,900" in text
    assert long_text.strip() in text
    assert LESSON["recommendation"] in text
    assert entry() is None


def test_a_bad_date_and_a_missing_section_are_named(seeded_app, cast):
    response = write(client_for(seeded_app, cast.author), event_date="April 2013", lesson="")
    assert response.status_code == 400
    summary = parse(response.data).one(cls="nhsuk-error-summary").text()
    assert "Enter the date as a year" in summary
    assert "Enter the lesson." in summary
    assert entry() is None


def test_a_section_heading_inside_a_section_is_refused(seeded_app, cast):
    response = write(client_for(seeded_app, cast.author), evidence="Intro.\n\n## Sneaky section\n\nText.")
    assert response.status_code == 400
    assert "line 3" in page_text(response)
    response = write(client_for(seeded_app, cast.author), evidence="Intro.\n\n### A heading\n\nText.")
    assert response.status_code == 303


def test_a_stale_form_keeps_everything_typed(seeded_app, cast):
    author = client_for(seeded_app, cast.author)
    author.get("/lessons/new")
    response = author.post(
        "/lessons/new", data={**LESSON, "action": "submit", "csrf_token": "stale"}, follow_redirects=True
    )
    assert response.status_code == 200
    text = page_text(response)
    assert KEPT_EXPIRED_MESSAGE in text
    for name in ("title", "summary", "driving_event", "lesson", "recommendation", "evidence", "free_tags"):
        assert LESSON[name] in text, name
    assert 'value="provider-readiness" checked' in response.get_data(as_text=True)
    assert entry() is None
    again = author.post(
        "/lessons/new", data={**LESSON, "action": "submit", "csrf_token": token_of(response.get_data(as_text=True))}
    )
    assert again.status_code == 303
    assert entry().status == "submitted"


def test_a_missing_token_is_refused_the_same_way(seeded_app, cast):
    author = client_for(seeded_app, cast.author)
    response = author.post("/lessons/new", data={**LESSON, "action": "save"}, follow_redirects=True)
    assert response.status_code == 200
    assert KEPT_EXPIRED_MESSAGE in page_text(response)
    assert LESSON["evidence"] in page_text(response)


def test_preview_uses_the_sanitiser_and_saves_nothing(seeded_app, cast):
    author = client_for(seeded_app, cast.author)
    evidence = f"**Minutes** <script>alert('x')</script> and [[{PUBLIC_LESSON.slug}]]."
    response = write(author, action="preview", evidence=evidence)
    assert response.status_code == 200
    preview = parse(response.data).one("section", cls="kb-preview")
    html = response.get_data(as_text=True)
    assert "<strong>Minutes</strong>" in html
    assert "<script>alert" not in html
    assert f"/lessons/{PUBLIC_LESSON.slug}" in preview.hrefs()
    assert "Rota gaps went unreported for weeks" in preview.text()
    assert evidence in page_text(response)
    assert entry() is None


def test_preview_refuses_an_over_long_section_before_rendering_it(seeded_app, cast, monkeypatch):
    def rendered(*args, **kwargs):
        raise AssertionError("an over-long text was rendered")

    monkeypatch.setattr("kb.contributions.routes.preview_lesson", rendered)
    author = client_for(seeded_app, cast.author)
    evidence = "[" * (SECTION_MAX + 1)
    response = write(author, action="preview", evidence=evidence)
    assert response.status_code == 400
    assert f"must be {SECTION_MAX:,} characters or fewer; it has {SECTION_MAX + 1:,}" in page_text(response)
    assert not parse(response.data).find_all("section", cls="kb-preview")
    assert evidence in response.get_data(as_text=True)
    assert entry() is None


# --- Editing and conflicts ------------------------------------------------------------------


def current_base(response) -> str:
    field = parse(response.data).one("input", where=lambda e: e.attrs.get("name") == "base_revision")
    return field.attrs["value"]


def test_two_saves_from_the_same_revision_conflict(seeded_app, cast):
    author = client_for(seeded_app, cast.author)
    write(author)
    first_tab = author.get(f"/lessons/{SLUG}/edit")
    second_tab = author.get(f"/lessons/{SLUG}/edit")
    assert current_base(first_tab) == current_base(second_tab) == "1"

    def save(tab, **changes):
        data = {**LESSON, "base_revision": current_base(tab), "action": "save", **changes}
        return author.post(f"/lessons/{SLUG}/edit", data={**data, "csrf_token": token_of(tab.get_data(as_text=True))})

    assert save(first_tab, lesson="Gaps must be reported the same week.").status_code == 303
    clash = save(second_tab, recommendation="Publish rota gaps on the provider's website.")
    assert clash.status_code == 409
    page = parse(clash.data)
    conflict = page.one("section", cls="kb-conflict")
    assert "Gaps must be reported the same week." in conflict.text()
    assert [ins.text() for ins in conflict.find_all("ins")]
    assert "Publish rota gaps on the provider's website." in page_text(clash)
    assert current_base(clash) == "2"
    assert entry().recommendation == LESSON["recommendation"]
    assert save(clash, recommendation="Publish rota gaps on the provider's website.").status_code == 303
    saved = entry()
    assert saved.recommendation == "Publish rota gaps on the provider's website."
    numbers = db.session.scalars(select(Revision.number).where(Revision.entry_id == saved.id)).all()
    assert sorted(numbers) == [1, 2, 3]


def test_members_cannot_edit_what_is_not_theirs(seeded_app, cast):
    member = client_for(seeded_app, cast.member)
    assert member.get(f"/lessons/{PUBLIC_LESSON.slug}/edit").status_code == 403
    response = post_page(
        member, f"/lessons/{PUBLIC_LESSON.slug}/edit", {**LESSON, "action": "save"}, page="/lessons/new"
    )
    assert response.status_code == 403
    assert member.get(f"/papers/{PAPER.slug}/edit").status_code == 403
    assert member.get("/lessons/no-such-lesson/edit").status_code == 404
    assert member.get(f"/papers/{PUBLIC_LESSON.slug}/edit").status_code == 404
    page = main_of(member.get(f"/lessons/{PUBLIC_LESSON.slug}").data)
    assert "Edit" not in [link.text() for link in page.find_all("a")]


def test_staff_see_an_edit_button_everywhere(seeded_app, cast):
    moderator = client_for(seeded_app, cast.moderator)
    for path in (seed.path_of(PUBLIC_LESSON), seed.path_of(PAPER)):
        links = main_of(moderator.get(path).data).hrefs()
        assert f"{path}/edit" in links


# --- The document editor --------------------------------------------------------------------


def test_the_document_editor_reports_problems_by_line(seeded_app, cast):
    moderator = client_for(seeded_app, cast.moderator)
    path = f"{seed.path_of(PAPER)}/edit-file"
    page = moderator.get(path)
    assert page.status_code == 200
    textarea = parse(page.data).one("textarea", where=lambda e: e.attrs.get("name") == "text")
    text = textarea.children[0].removeprefix("\r\n")
    assert text.startswith("---\nkind: paper\n")
    broken = text.replace("paper_type: ", "paper_type: memo-")
    line = next(number for number, row in enumerate(broken.split("\n"), 1) if row.startswith("paper_type:"))
    response = moderator.post(
        path,
        data={"text": broken, "base_revision": current_base(page), "csrf_token": token_of(page.get_data(as_text=True))},
    )
    assert response.status_code == 400
    problems = parse(response.data).one("ul", cls="kb-document-problems").text()
    assert f"Line {line}:" in problems
    assert "memo-" in problems
    assert broken.split("\n")[line - 1] in page_text(response)


def _with_front_matter(text: str, key: str, value: str) -> str:
    """The document with one front-matter field replaced (or added before the closing ---)."""
    head, rest = text.split("\n---\n", 1)
    lines = head.split("\n")
    kept, skipping = [], False
    for line in lines:
        if line.startswith(f"{key}:"):
            skipping = True
            continue
        if skipping and line.startswith((" ", "-")):
            continue
        skipping = False
        kept.append(line)
    return "\n".join([*kept, f"{key}: {value}"]) + "\n---\n" + rest


def _save_document(moderator, path: str, change):
    page = moderator.get(path)
    textarea = parse(page.data).one("textarea", where=lambda e: e.attrs.get("name") == "text")
    text = change(textarea.children[0].removeprefix("\r\n"))
    data = {"text": text, "base_revision": current_base(page), "csrf_token": token_of(page.get_data(as_text=True))}
    return moderator.post(path, data=data)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("tags", "[" + ",".join(f"t{n}" for n in range(10_000)) + "]", "at most 10 tags from outside"),
        ("tags", "[" + ", ".join(f"tag-{n}" for n in range(11)) + "]", "this has 11"),
        ("tags", "[" + "t" * 61 + "]", "each tag must be 60 characters or fewer"),
        ("title", "A" * 301, "the title must be 300 characters or fewer; it has 301"),
    ],
)
def test_the_document_editor_holds_an_entry_to_the_lesson_forms_limits(seeded_app, cast, key, value, message):
    moderator = client_for(seeded_app, cast.moderator)
    path = f"{seed.path_of(PUBLIC_LESSON)}/edit-file"
    revisions = db.session.scalar(select(func.count(Revision.id)))
    response = _save_document(moderator, path, lambda text: _with_front_matter(text, key, value))
    assert response.status_code == 400
    problems = parse(response.data).one("ul", cls="kb-document-problems").text()
    assert message in problems
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Revision.id))) == revisions


def test_the_document_editor_accepts_what_the_lesson_form_accepts(seeded_app, cast):
    moderator = client_for(seeded_app, cast.moderator)
    controlled = list(db.session.scalars(select(Tag.slug).where(Tag.theme_id.is_not(None))))
    tags = controlled + [f"own-tag-{n}" for n in range(10)] + ["t" * 60]
    tags.remove(tags[-2])  # ten of the member's own, one of them 60 characters long
    title = "B" * 300
    response = _save_document(
        moderator,
        f"{seed.path_of(PUBLIC_LESSON)}/edit-file",
        lambda text: _with_front_matter(_with_front_matter(text, "tags", "[" + ", ".join(tags) + "]"), "title", title),
    )
    assert response.status_code == 303, page_text(response)[:2000]
    db.session.expire_all()
    assert entry(PUBLIC_LESSON.slug).title == title
    assert len(entry(PUBLIC_LESSON.slug).tags) == len(tags)


def test_the_document_editor_changes_visibility_with_an_audit_record(seeded_app, cast):
    admin = client_for(seeded_app, cast.admin)
    path = f"{seed.path_of(PAPER)}/edit-file"
    page = admin.get(path)
    text = (
        parse(page.data).one("textarea", where=lambda e: e.attrs.get("name") == "text").children[0].removeprefix("\r\n")
    )
    assert "visibility: public" in text
    response = admin.post(
        path,
        data={
            "text": text.replace("visibility: public", "visibility: members"),
            "message": "Members only for now",
            "base_revision": current_base(page),
            "csrf_token": token_of(page.get_data(as_text=True)),
        },
    )
    assert response.status_code == 303
    assert entry(PAPER.slug).visibility == "members"
    assert client_for(seeded_app).get(seed.path_of(PAPER)).status_code == 404
    assert audit_actions(PAPER.slug)[-2:] == ["entry.edit", "entry.visibility"]
    history = main_of(admin.get(f"{seed.path_of(PAPER)}/history").data).text()
    assert "Members only for now" in history
    assert cast.admin.display_name in history


def test_the_document_editor_lists_the_entrys_documents_and_keeps_the_list_in_step(seeded_app, cast):
    paper = entry(PAPER.slug)
    document = add_document(paper, "Minutes of March", ["Page one."], filename="minutes.pdf")
    moderator = client_for(seeded_app, cast.moderator)
    path = f"{seed.path_of(PAPER)}/edit-file"
    page = moderator.get(path)
    assert parse(page.data).one("a", where=lambda e: e.attrs.get("href") == f"{paper.path}/documents")
    assert "Add, replace or remove files on its Documents page" in main_of(page.data).text()
    listed = f"attachments:\n  - file: {PAPER.slug}/minutes.pdf\n    title: Minutes of March\n"
    textarea = parse(page.data).one("textarea", where=lambda e: e.attrs.get("name") == "text")
    assert listed in textarea.children[0]
    revisions = db.session.scalar(select(func.count(Revision.id)))

    # A list that differs from the entry's documents is refused, the text kept as typed.
    changed = textarea.children[0].removeprefix("\r\n").replace("minutes.pdf", "agenda.pdf")
    csrf = token_of(page.get_data(as_text=True))
    response = moderator.post(path, data={"text": changed, "base_revision": current_base(page), "csrf_token": csrf})
    assert response.status_code == 400
    assert re.search(r"<title>\s*Error:", response.get_data(as_text=True))
    problems = parse(response.data).one("ul", cls="kb-document-problems").text()
    line = next(number for number, row in enumerate(changed.split("\n"), 1) if row.startswith("attachments:"))
    assert f"Line {line}: attachments: the list must name this entry's documents as they are now" in problems
    assert f"({PAPER.slug}/minutes.pdf)" in problems
    assert "Documents page" in problems
    assert f"{PAPER.slug}/agenda.pdf" in page_text(response)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Revision.id))) == revisions

    # Saved as shown, the stored file names the document.
    response = _save_document(moderator, path, lambda text: text)
    assert response.status_code == 303, page_text(response)[:2000]
    db.session.expire_all()
    assert listed in current_revision(db.session.get(Document, document.id).entry).document


def test_an_author_whose_lesson_was_submitted_meanwhile_keeps_their_text(seeded_app, cast):
    author = client_for(seeded_app, cast.author)
    write(author)
    tab = author.get(f"/lessons/{SLUG}/edit")
    post_page(author, f"/lessons/{SLUG}/submit", {}, page="/account/contributions")
    data = {
        **LESSON,
        "evidence": "Evidence typed in the old tab.",
        "base_revision": current_base(tab),
        "action": "save",
    }
    response = author.post(f"/lessons/{SLUG}/edit", data={**data, "csrf_token": token_of(tab.get_data(as_text=True))})
    assert response.status_code == 403
    assert "You can no longer change this lesson" in page_text(response)
    assert "Evidence typed in the old tab." in page_text(response)
    assert entry().evidence == LESSON["evidence"]


def test_moderators_see_how_many_submissions_wait(seeded_app, cast):
    moderator = client_for(seeded_app, cast.moderator)
    assert "waiting)" not in moderator.get("/").get_data(as_text=True)
    write(client_for(seeded_app, cast.author), action="submit")
    assert "Moderation (1 waiting)" in moderator.get("/").get_data(as_text=True)
    assert "waiting)" not in client_for(seeded_app, cast.member).get("/").get_data(as_text=True)
