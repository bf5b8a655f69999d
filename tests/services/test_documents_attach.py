"""Attaching documents: each kind read page by page, replacing keeps history, removing, permissions, indexing."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from kb.audit.models import AuditEvent
from kb.documents import storage
from kb.documents.errors import DocumentRefusedError
from kb.documents.extract import NO_TEXT, first_pages_only
from kb.documents.models import Document
from kb.documents.queries import current_documents, document_history, document_of_entry, entry_documents_history
from kb.documents.service import attach_document, prepare_document, remove_document
from kb.errors import ConflictError, NotFoundError
from kb.extensions import db
from kb.permissions import PermissionDeniedError
from kb.search.models import SearchQueueItem
from kb.states import DocumentTextStatus
from tests.factories import entry
from tests.services import documents_files as files

PAPER = "nhs-alliance-discussion-paper"


def _attach(cast, data: bytes, filename: str, *, title: str = "A file", replaces: Document | None = None) -> Document:
    document = attach_document(
        entry(PAPER), data, filename=filename, title=title, actor=cast.moderator, replaces=replaces
    )
    db.session.commit()
    return document


def _pages(document: Document) -> list[tuple[int, str]]:
    return [(page.number, page.text.strip()) for page in document.pages]


def test_pdf_is_read_page_by_page(cast):
    data = files.pdf(["Agenda of the board", "Minutes of the last meeting", "Only on page three: waiting times"])
    document = _attach(cast, data, "Board papers (final).pdf", title="  Board   papers ")
    assert document.filename == "Board-papers-final.pdf"
    assert document.title == "Board papers"
    assert document.media_type == "application/pdf"
    assert document.size == len(data)
    assert document.text_status == DocumentTextStatus.EXTRACTED
    assert document.text_message is None
    assert document.page_count == 3
    assert _pages(document) == [
        (1, "Agenda of the board"),
        (2, "Minutes of the last meeting"),
        (3, "Only on page three: waiting times"),
    ]
    assert storage.read_bytes(document.stored_name) == data
    assert document.uploaded_by_id == cast.moderator.id


def test_scanned_pdf_says_it_has_no_text(cast):
    document = _attach(cast, files.scanned_pdf(pages=2), "scan.pdf")
    assert document.text_status == DocumentTextStatus.NO_TEXT
    assert document.text_message == NO_TEXT
    assert document.page_count == 2
    assert document.pages == []


@pytest.mark.parametrize("kind", ["PNG", "JPEG"])
def test_pictures_are_attached_but_not_read(cast, kind):
    ending = ".png" if kind == "PNG" else ".jpg"
    document = _attach(cast, files.picture(kind), f"photo{ending}")
    assert document.media_type == f"image/{kind.lower()}"
    assert document.text_status == DocumentTextStatus.NO_TEXT
    assert "does not read text in images" in (document.text_message or "")


def test_docx_pages_split_at_page_breaks(cast):
    document = _attach(cast, files.docx_bytes(["Terms of reference", "Membership of the panel"]), "terms.docx")
    assert document.text_status == DocumentTextStatus.EXTRACTED
    assert _pages(document) == [
        (1, "Terms of reference"),
        (2, "Membership of the panel\nTable cell one\nTable cell two"),
    ]


@pytest.mark.parametrize("hard_breaks", [True, False])
def test_docx_pages_as_word_saves_them(cast, hard_breaks):
    document = _attach(cast, files.docx_as_word_saves_it(["One", "Two", "Three"], hard_breaks=hard_breaks), "w.docx")
    assert _pages(document) == [(1, "One"), (2, "Two"), (3, "Three")]


def test_odt_pages_split_at_page_breaks(cast):
    document = _attach(cast, files.odt_bytes(["Opening remarks", "Closing remarks"]), "remarks.odt")
    assert document.media_type == "application/vnd.oasis.opendocument.text"
    assert _pages(document) == [(1, "Opening remarks"), (2, "Closing remarks")]


def test_xlsx_has_one_page_per_sheet(cast):
    data = files.xlsx_bytes(
        {"Calls": [["Month", "Calls"], ["April", 1200]], "Staff": [["Role", "Count"], ["Nurse", 9]]}
    )
    document = _attach(cast, data, "figures.xlsx")
    assert _pages(document) == [(1, "Calls\nMonth\tCalls\nApril\t1200"), (2, "Staff\nRole\tCount\nNurse\t9")]


def test_csv_is_a_table_read_in_pages(cast):
    rows = "".join(f"{n},Region {n},{n * 3}\n" for n in range(1, 601))
    document = _attach(cast, ("id,region,calls\n" + rows).encode(), "calls.csv")
    assert document.media_type == "text/csv"
    assert (document.page_count or 0) > 1
    text = "".join(page.text for page in document.pages)
    assert text.startswith("id,region,calls\n1,Region 1,3\n")
    assert text.endswith("600,Region 600,1800\n")
    assert all(len(page.text) <= 4000 for page in document.pages)


def test_plain_text_is_read_in_pages_at_line_ends(cast):
    lines = [f"Line {n} of the notes about the go-live." for n in range(1, 401)]
    document = _attach(cast, "\n".join(lines).encode(), "notes.txt")
    assert document.media_type == "text/plain"
    assert (document.page_count or 0) > 1
    read = [line for page in document.pages for line in page.text.splitlines()]
    assert read == lines


def test_upload_queues_the_entry_for_the_index(cast):
    paper = entry(PAPER)
    before = db.session.scalar(select(SearchQueueItem.id).order_by(SearchQueueItem.id.desc()).limit(1)) or 0
    _attach(cast, files.pdf(["Agenda"]), "agenda.pdf")
    queued = db.session.scalars(select(SearchQueueItem).where(SearchQueueItem.id > before))
    assert [item.entry_id for item in queued] == [paper.id]


def test_replace_keeps_the_earlier_version_in_history(cast):
    first = _attach(cast, files.pdf(["Draft minutes"]), "minutes.pdf", title="Minutes")
    second = _attach(cast, files.pdf(["Final minutes", "Actions"]), "minutes.pdf", title="Minutes", replaces=first)
    db.session.refresh(first)
    assert first.replaced_by_id == second.id
    assert not first.is_current
    assert second.is_current
    assert first.removed_at is None
    assert [document.id for document in current_documents(entry(PAPER))] == [second.id]
    assert [version.id for version in document_history(second)] == [first.id, second.id]
    assert [version.id for version in document_history(first)] == [first.id, second.id]
    assert {version.id for version in entry_documents_history(entry(PAPER))} == {first.id, second.id}
    assert storage.read_bytes(first.stored_name) != storage.read_bytes(second.stored_name)
    assert [page.text for page in first.pages] == ["Draft minutes"]
    assert second.position == first.position
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("document.%")))
    assert sorted(actions) == ["document.attach", "document.replace"]


def test_replacing_an_old_version_is_a_conflict(cast):
    first = _attach(cast, files.pdf(["One"]), "minutes.pdf")
    _attach(cast, files.pdf(["Two"]), "minutes.pdf", replaces=first)
    with pytest.raises(ConflictError):
        attach_document(
            entry(PAPER), files.pdf(["Three"]), filename="minutes.pdf", title="M", actor=None, replaces=first
        )


def test_a_listed_name_is_not_taken_twice(cast):
    _attach(cast, files.pdf(["One"]), "minutes.pdf")
    with pytest.raises(DocumentRefusedError, match=r"already has a file called minutes\.pdf"):
        attach_document(entry(PAPER), files.pdf(["Two"]), filename="minutes.pdf", title="M", actor=cast.moderator)


def test_remove_keeps_the_row_and_the_file(cast):
    document = _attach(cast, files.pdf(["Agenda"]), "agenda.pdf")
    later = _attach(cast, files.pdf(["Budget"]), "budget.pdf")
    remove_document(document, actor=cast.moderator)
    db.session.commit()
    assert document.removed_at is not None
    assert [kept.id for kept in current_documents(entry(PAPER))] == [later.id]
    assert document in entry_documents_history(entry(PAPER))
    assert storage.read_bytes(document.stored_name)
    with pytest.raises(ConflictError):
        remove_document(document, actor=cast.moderator)
    # The name is free again once its file is removed.
    assert _attach(cast, files.pdf(["Agenda again"]), "agenda.pdf").is_current


def test_members_may_not_attach_to_a_paper_or_remove(cast):
    with pytest.raises(PermissionDeniedError):
        attach_document(entry(PAPER), files.pdf(["Agenda"]), filename="a.pdf", title="A", actor=cast.member)
    document = _attach(cast, files.pdf(["Agenda"]), "agenda.pdf")
    with pytest.raises(PermissionDeniedError):
        remove_document(document, actor=cast.member)


def test_kb_itself_attaches_without_an_actor(cast):
    document = attach_document(entry(PAPER), files.pdf(["Imported"]), filename="imported.pdf", title="I", actor=None)
    db.session.commit()
    assert document.uploaded_by_id is None
    assert document.text_status == DocumentTextStatus.EXTRACTED


def test_rolled_back_upload_leaves_no_file(cast):
    document = attach_document(entry(PAPER), files.pdf(["Agenda"]), filename="a.pdf", title="A", actor=cast.moderator)
    path = storage.path_of(document.stored_name)
    assert path.exists()
    db.session.rollback()
    assert not path.exists()
    assert db.session.scalar(select(Document.id)) is None


def test_document_of_entry_finds_only_that_entrys_documents(cast):
    document = _attach(cast, files.pdf(["Agenda"]), "agenda.pdf")
    assert document_of_entry(entry(PAPER), document.id) is document
    with pytest.raises(NotFoundError):
        document_of_entry(entry("nhs-alliance-crisis-meeting"), document.id)
    with pytest.raises(NotFoundError):
        document_of_entry(entry(PAPER), document.id + 1000)


def test_control_characters_are_left_out_of_page_text(cast):
    document = _attach(cast, b"Bell\x07 rings\rOld Mac line\r\nWindows line\x1b\n", "notes.txt")
    assert [page.text for page in document.pages] == ["Bell rings\nOld Mac line\nWindows line\n"]


def test_preparing_reads_the_file_without_the_database_and_attaching_does_not_read_it_again(cast, monkeypatch):
    data = files.pdf(["Agenda of the board", "Minutes"])
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        prepared = prepare_document(data, "Board papers.PDF")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert statements == []
    assert (prepared.filename, prepared.extraction.status) == ("Board-papers.pdf", DocumentTextStatus.EXTRACTED)

    def no_second_reading(*_args):
        raise AssertionError("the prepared file was read again inside the transaction")

    monkeypatch.setattr("kb.documents.service.extract_text", no_second_reading)
    document = attach_document(
        entry(PAPER), data, filename="Board papers.PDF", title="", actor=cast.moderator, prepared=prepared
    )
    db.session.commit()
    assert (document.filename, document.title, document.page_count) == ("Board-papers.pdf", "Board-papers.pdf", 2)
    assert _pages(document) == [(1, "Agenda of the board"), (2, "Minutes")]
    with pytest.raises(ValueError, match="other bytes"):
        attach_document(entry(PAPER), b"Other text\n", filename="o.txt", title="", actor=None, prepared=prepared)


def test_a_refused_file_is_refused_when_prepared(cast):
    with pytest.raises(DocumentRefusedError, match="kb takes files of up to"):
        prepare_document(b"x" * (25 * 1024 * 1024 + 1), "big.txt")
    assert db.session.scalar(select(Document.id)) is None


def test_only_the_first_pages_of_a_longer_text_file_are_read_and_it_says_so(cast, monkeypatch):
    monkeypatch.setattr("kb.documents.extract.MAX_PAGES", 3)
    line = "Waiting times at the front door. " * 30 + "\n"  # About 1,000 characters: four lines fill a page.
    text = "".join(f"Line {number}: {line}" for number in range(4 * 5))
    document = _attach(cast, text.encode(), "long-notes.txt")
    assert document.text_status == DocumentTextStatus.EXTRACTED
    assert document.page_count == 3
    assert document.text_message == "Only the first 3 pages were read; the pages after them cannot be searched."
    assert document.pages[0].text.startswith("Line 0: ")
    assert document.pages[2].text.startswith("Line 8: ")


def test_only_the_first_pages_of_a_longer_pdf_are_read(cast, monkeypatch):
    monkeypatch.setattr("kb.documents.extract.MAX_PAGES", 2)
    document = _attach(cast, files.pdf(["One", "Two", "Three", "Four"]), "long.pdf")
    assert document.text_status == DocumentTextStatus.EXTRACTED
    assert _pages(document) == [(1, "One"), (2, "Two")]
    assert document.text_message == first_pages_only(2)


def test_a_file_of_exactly_the_most_pages_read_has_no_message(cast, monkeypatch):
    monkeypatch.setattr("kb.documents.extract.MAX_PAGES", 2)
    document = _attach(cast, files.pdf(["One", "Two"]), "two.pdf")
    assert (document.page_count, document.text_message) == (2, None)


def test_the_page_cap_message_names_the_number_as_people_write_it():
    assert first_pages_only(5000) == "Only the first 5,000 pages were read; the pages after them cannot be searched."
