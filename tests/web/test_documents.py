"""An entry's documents in the browser: attach, replace, remove, download, the text view and its history.

Files go through the real service (sniffed, stored on disk, read in a separate process);
the pages are read as HTML. Who may see an entry's documents at all is the visibility
matrix's business (`tests/web/test_visibility_matrix.py`); here, who may change them.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kb.contributions.forms import EXPIRED_MESSAGE
from kb.contributions.service import LessonFields, create_lesson
from kb.documents import service
from kb.documents.extract import first_pages_only
from kb.documents.models import Document
from kb.entries.vocabulary import LESSON_SECTIONS
from kb.extensions import db
from kb.states import DocumentTextStatus
from tests.accounts import client_for, csrf_token, page_text
from tests.upload_files import pdf_with_pages, pdf_without_text, upload
from tests.web import seed
from tests.web.dom import main_of, parse

PAPER = "nhs-alliance-discussion-paper"
OTHER_PAPER = "nhs-alliance-crisis-meeting"
PAGES = ("The agenda for the meeting.", "Apologies were received.", "A phrase found only on page three.")


def documents_url(slug: str = PAPER, plural: str = "papers") -> str:
    return f"/{plural}/{slug}/documents"


def send(client, path: str, data: bytes, filename: str, *, page: str | None = None, **fields: str):
    """GET `page` (default `path`) for the form's token, then POST the file to `path`."""
    token = csrf_token(client.get(page or path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **upload(data, filename, **fields)})


def attach(client, data: bytes = b"", filename: str = "minutes.pdf", slug: str = PAPER, **fields: str) -> Document:
    """Attach a file through the form (a three-page PDF by default) and return its row."""
    response = send(client, f"{documents_url(slug)}/new", data or pdf_with_pages(*PAGES), filename, **fields)
    assert response.status_code == 303, page_text(response)
    assert response.headers["Location"] == f"/papers/{slug}#documents"
    db.session.expire_all()
    document = db.session.scalar(select(Document).order_by(Document.id.desc()).limit(1))
    assert document is not None
    return document


@pytest.fixture
def moderator(seeded_app, cast):
    return client_for(seeded_app, cast.moderator)


def test_the_upload_form_has_a_labelled_file_input_and_a_title(seeded_app, moderator):
    response = moderator.get(f"{documents_url()}/new")
    assert response.status_code == 200
    form = main_of(response.data).one("form", cls="kb-document-upload")
    assert form.attrs["enctype"] == "multipart/form-data"
    file_input = form.one("input", where=lambda e: e.attrs.get("type") == "file")
    assert form.one("label", where=lambda e: e.attrs.get("for") == file_input.attrs["id"]).text() == "File"
    assert "25 MB" in form.text()
    assert form.one("input", where=lambda e: e.attrs.get("name") == "title").attrs["id"] == "title"


def test_a_moderator_attaches_a_pdf_and_the_paper_lists_it(seeded_app, moderator):
    document = attach(moderator, title="Minutes of the May meeting")
    assert (document.title, document.filename, document.page_count) == ("Minutes of the May meeting", "minutes.pdf", 3)
    page = moderator.get(f"/papers/{PAPER}")
    section = main_of(page.data).one("section", cls="kb-documents")
    row = section.one("tbody").one("tr")
    cells = [cell.text() for cell in row.find_all("td")]
    assert cells[0].startswith("Minutes of the May meeting minutes.pdf")
    assert cells[1:4] == [
        "PDF",
        f"{round(document.size / 1024)} KB" if document.size >= 1024 else f"{document.size} bytes",
        "3",
    ]
    assert f"{documents_url()}/{document.id}" in row.hrefs()
    assert f"{documents_url()}/{document.id}/download" in row.hrefs()
    # Readers see it too, without the editor's buttons.
    reader = main_of(seeded_app.test_client().get(f"/papers/{PAPER}").data).one("section", cls="kb-documents")
    assert "Minutes of the May meeting" in reader.text()
    assert "Remove" not in reader.text()
    assert "Add a document" not in reader.text()


def test_the_text_view_has_one_section_per_page(seeded_app, moderator):
    document = attach(moderator, title="Minutes")
    response = seeded_app.test_client().get(f"{documents_url()}/{document.id}")
    assert response.status_code == 200
    main = main_of(response.data)
    sections = main.find_all("section", cls="kb-document-page")
    assert [section.attrs["id"] for section in sections] == ["page-1", "page-2", "page-3"]
    assert [section.one("h2").text() for section in sections] == ["Page 1", "Page 2", "Page 3"]
    assert "only on page three" in sections[2].text()
    assert "only on page three" not in sections[0].text() + sections[1].text()
    assert "#page-3" in main.one("nav", cls="kb-document-pages").hrefs()


def test_a_pdf_downloads_inline_with_its_true_type(seeded_app, moderator):
    data = pdf_with_pages(*PAGES)
    document = attach(moderator, data, "Board minutes (final).pdf")
    response = seeded_app.test_client().get(f"{documents_url()}/{document.id}/download")
    assert response.status_code == 200
    assert response.data == data
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == f"inline; filename={document.filename}"
    assert re.fullmatch(r"[A-Za-z0-9._-]+\.pdf", document.filename)


def test_other_kinds_download_as_attachments_under_their_listed_name(seeded_app, moderator):
    text = b"Name,Role\nAsha,Chair\n"
    document = attach(moderator, text, "attendance.csv", title="Who came")
    response = seeded_app.test_client().get(f"{documents_url()}/{document.id}/download")
    assert response.status_code == 200
    assert response.data == text
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == "attachment; filename=attendance.csv"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_refused_file_shows_the_form_again_with_the_error_and_the_title(seeded_app, moderator):
    response = send(moderator, f"{documents_url()}/new", b"MZ\x90\x00 not a document", "agenda.pdf", title="Agenda")
    assert response.status_code == 400
    page = parse(response.data)
    assert page.one("title").text().startswith("Error: ")
    summary = main_of(response.data).one("div", cls="nhsuk-error-summary")
    assert summary.one("a").attrs["href"] == "#file"
    assert (
        main_of(response.data).one("input", where=lambda e: e.attrs.get("name") == "title").attrs["value"] == "Agenda"
    )
    assert "Error:" in main_of(response.data).one("span", cls="nhsuk-error-message").text()
    assert db.session.scalar(select(Document.id)) is None


def test_no_file_chosen_is_a_field_error(seeded_app, moderator):
    token = csrf_token(moderator.get(f"{documents_url()}/new").get_data(as_text=True))
    response = moderator.post(f"{documents_url()}/new", data={"csrf_token": token, "title": "Agenda"})
    assert response.status_code == 400
    assert "Choose a file to upload." in page_text(response)
    assert 'value="Agenda"' in response.get_data(as_text=True)


def test_a_stale_form_token_shows_the_form_again_and_saves_nothing(seeded_app, moderator):
    data = {"csrf_token": "stale", "title": "Agenda", **upload(pdf_with_pages("A."), "agenda.pdf")}
    response = moderator.post(f"{documents_url()}/new", data=data)
    assert response.status_code == 400
    assert EXPIRED_MESSAGE in page_text(response)
    assert 'value="Agenda"' in response.get_data(as_text=True)
    assert db.session.scalar(select(Document.id)) is None


def test_an_upload_larger_than_the_sites_form_limit_is_taken(seeded_app, moderator):
    """Forms elsewhere stop at 2 MB; a document may be as large as DOCUMENT_MAX_BYTES."""
    assert seeded_app.config["MAX_CONTENT_LENGTH"] < 3 * 1024 * 1024 < seeded_app.config["DOCUMENT_MAX_BYTES"]
    line = "Line of the attendance register, kept for the record.\n"
    data = (line * (3 * 1024 * 1024 // len(line) + 1)).encode()
    document = attach(moderator, data, "register.txt", title="Register")
    assert document.size == len(data) > 3 * 1024 * 1024


def test_an_upload_over_the_document_limit_gets_the_form_and_a_message(seeded_app, moderator):
    seeded_app.config["DOCUMENT_MAX_BYTES"] = 100 * 1024
    # Over the limit but within the room left for the form: the service refuses it, and the title is kept.
    response = send(moderator, f"{documents_url()}/new", b"a" * (120 * 1024), "notes.txt", title="Notes")
    assert response.status_code == 400
    assert "kb takes files of up to 0.1 MB" in page_text(response)
    assert 'value="Notes"' in response.get_data(as_text=True)
    # Far over it: the body is not read; the form comes back with the limit, not a bare 413.
    response = send(moderator, f"{documents_url()}/new", b"a" * (400 * 1024), "notes.txt", title="Notes")
    assert response.status_code == 413
    assert parse(response.data).one("title").text().startswith("Error: Add a document")
    assert "The file is larger than 0.1 MB, the largest kb takes." in page_text(response)
    assert main_of(response.data).one("form", cls="kb-document-upload") is not None
    assert db.session.scalar(select(Document.id)) is None


def test_a_replaced_file_stays_in_the_history(seeded_app, moderator):
    first = attach(moderator, title="Minutes (draft)")
    first_id = first.id
    replace_page = f"{documents_url()}/{first_id}/replace"
    form = moderator.get(replace_page)
    assert 'value="Minutes (draft)"' in form.get_data(as_text=True)
    response = send(moderator, replace_page, pdf_with_pages("Final minutes."), "minutes.pdf", title="Minutes")
    assert response.status_code == 303
    db.session.expire_all()
    old = db.session.get(Document, first_id)
    assert old is not None
    assert old.replaced_by is not None
    new_id = old.replaced_by.id
    listed = main_of(moderator.get(f"/papers/{PAPER}").data).one("section", cls="kb-documents")
    assert "Minutes (draft)" not in listed.one("tbody").text()
    assert documents_url() in listed.hrefs()  # "Earlier versions and removed documents"
    history = main_of(moderator.get(documents_url()).data)
    assert "Replaced by a newer version" in history.text()
    assert f"{documents_url()}/{first_id}/download" in history.hrefs()
    new_view = main_of(moderator.get(f"{documents_url()}/{new_id}").data)
    assert f"{documents_url()}/{first_id}" in new_view.one("section", cls="kb-document-earlier").hrefs()
    old_view = main_of(moderator.get(f"{documents_url()}/{first_id}").data)
    assert "This is an earlier version." in old_view.text()
    assert documents_url() in main_of(moderator.get(f"/papers/{PAPER}/history").data).hrefs()
    assert seeded_app.test_client().get(f"{documents_url()}/{first_id}/download").status_code == 200
    # An earlier version cannot be replaced or removed again.
    assert moderator.get(f"{documents_url()}/{first_id}/replace").status_code == 404


def test_a_removed_file_leaves_the_page_but_not_the_history(seeded_app, moderator):
    document = attach(moderator, title="Agenda")
    page = moderator.get(f"/papers/{PAPER}").get_data(as_text=True)
    token = csrf_token(page)
    response = moderator.post(f"{documents_url()}/{document.id}/remove", data={"csrf_token": token})
    assert response.status_code == 303
    section = main_of(moderator.get(f"/papers/{PAPER}").data).one("section", cls="kb-documents")
    assert section.find("tbody") is None
    history = main_of(seeded_app.test_client().get(documents_url()).data)
    assert "Removed" in history.text()
    assert "Agenda" in history.text()
    removed = page_text(seeded_app.test_client().get(f"{documents_url()}/{document.id}"))
    assert "This document was removed from the meeting paper on " in " ".join(removed.split()), removed
    assert seeded_app.test_client().get(f"{documents_url()}/{document.id}/download").status_code == 200


def test_removing_needs_the_form_token(seeded_app, moderator):
    document = attach(moderator)
    response = moderator.post(f"{documents_url()}/{document.id}/remove")
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Document, document.id).removed_at is None


def test_only_those_who_may_edit_the_entry_change_its_files(seeded_app, cast, moderator):
    document = attach(moderator)
    new, replace = f"{documents_url()}/new", f"{documents_url()}/{document.id}/replace"
    remove = f"{documents_url()}/{document.id}/remove"
    for user in (cast.member, cast.panel, cast.author):
        client = client_for(seeded_app, user)
        assert client.get(new).status_code == 403
        assert client.get(replace).status_code == 403
        token = csrf_token(client.get(f"/papers/{PAPER}").get_data(as_text=True))
        assert client.post(new, data={"csrf_token": token, **upload(b"text", "a.txt")}).status_code == 403
        assert client.post(remove, data={"csrf_token": token}).status_code == 403
    anonymous = seeded_app.test_client()
    assert anonymous.get(new).status_code == 302
    assert "/login" in anonymous.get(new).headers["Location"]
    db.session.expire_all()
    assert db.session.get(Document, document.id).is_current


def test_a_lessons_author_attaches_to_their_draft(seeded_app, cast):
    sections = {key: f"Text of {key}." for key in LESSON_SECTIONS}
    lesson = create_lesson(
        LessonFields(title="Handover notes went missing", summary="S.", sections=sections, tags=[]),
        actor=cast.author,
    )
    db.session.commit()
    author = client_for(seeded_app, cast.author)
    path = f"/lessons/{lesson.slug}/documents/new"
    response = send(author, path, b"Handover notes, as kept.\n", "handover.txt", title="Handover notes")
    assert response.status_code == 303
    assert (
        "Handover notes"
        in main_of(author.get(f"/lessons/{lesson.slug}").data).one("section", cls="kb-documents").text()
    )
    assert client_for(seeded_app, cast.member).get(path).status_code == 404  # a draft: not theirs to see


def test_a_document_is_found_only_under_its_own_entry(seeded_app, moderator):
    document = attach(moderator)
    reader = seeded_app.test_client()
    for suffix in ("", "/download"):
        assert reader.get(f"{documents_url()}/{document.id}{suffix}").status_code == 200
        assert reader.get(f"{documents_url(OTHER_PAPER)}/{document.id}{suffix}").status_code == 404
        assert reader.get(f"{documents_url(PAPER, 'lessons')}/{document.id}{suffix}").status_code == 404
        assert reader.get(f"{documents_url()}/{document.id + 1000}{suffix}").status_code == 404
    assert moderator.get(f"{documents_url(OTHER_PAPER)}/{document.id}/replace").status_code == 404
    token = csrf_token(moderator.get(f"/papers/{OTHER_PAPER}").get_data(as_text=True))
    assert (
        moderator.post(f"{documents_url(OTHER_PAPER)}/{document.id}/remove", data={"csrf_token": token}).status_code
        == 404
    )


def test_a_scanned_pdf_says_it_has_no_text_to_search(seeded_app, moderator):
    document = attach(moderator, pdf_without_text(2), "scan.pdf", title="Scanned letter")
    assert document.text_status == DocumentTextStatus.NO_TEXT
    text = page_text(seeded_app.test_client().get(f"{documents_url()}/{document.id}"))
    assert "This file has no text that can be searched." in text


@pytest.mark.parametrize(
    ("status", "message", "shown"),
    [
        (DocumentTextStatus.PENDING, None, "has not been read yet"),
        (DocumentTextStatus.FAILED, "The file is damaged.", "kb could not read the text of this file"),
    ],
)
def test_a_document_without_text_says_why(seeded_app, moderator, status, message, shown):
    document = attach(moderator)
    document.text_status, document.text_message = status, message
    db.session.commit()
    text = page_text(seeded_app.test_client().get(f"{documents_url()}/{document.id}"))
    assert shown in text
    if message:
        assert message in text


def test_a_document_read_only_in_part_says_so_on_its_text_view(seeded_app, moderator):
    document = attach(moderator)
    document.text_message = first_pages_only(5000)
    db.session.commit()
    text = page_text(seeded_app.test_client().get(f"{documents_url()}/{document.id}"))
    assert "Only the first 5,000 pages were read; the pages after them cannot be searched." in text
    assert "A phrase found only on page three." in text


def test_the_file_is_read_while_no_database_transaction_is_open(seeded_app, moderator, monkeypatch):
    """An upload holds no connection in a transaction while its text is read, however long that takes."""
    read_in_transaction: list[bool] = []
    extract_text = service.extract_text

    def watched(*args):
        read_in_transaction.append(db.session().in_transaction())
        return extract_text(*args)

    monkeypatch.setattr("kb.documents.service.extract_text", watched)
    document = attach(moderator, title="Minutes")
    assert read_in_transaction == [False]
    assert (document.title, document.page_count) == ("Minutes", 3)
    refused = send(moderator, f"{documents_url()}/new", b"MZ\x90\x00 not a document", "agenda.pdf")
    assert refused.status_code == 400
    message = main_of(refused.data).one("span", cls="nhsuk-error-message").text()
    assert "kb cannot tell what kind of file this is. kb takes PDF, Word (.docx)" in message
    replaced = send(moderator, f"{documents_url()}/{document.id}/replace", pdf_with_pages("New minutes"), "m.pdf")
    assert replaced.status_code == 303
    assert read_in_transaction == [False, False]


def test_the_entry_page_offers_editors_an_upload_link(seeded_app, moderator):
    """An entry with no documents shows readers nothing of them, and editors the way to add one."""
    assert PAPER in seed.documents()  # public: anyone reads it
    section = main_of(moderator.get(f"/papers/{PAPER}").data).one("section", cls="kb-documents")
    assert f"{documents_url()}/new" in section.hrefs()
    assert main_of(seeded_app.test_client().get(f"/papers/{PAPER}").data).find("section", cls="kb-documents") is None
