"""Hostile and wrong files: refused with a message, or attached with their text failing alone."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kb.documents.errors import DocumentRefusedError
from kb.documents.models import Document
from kb.documents.queries import current_documents
from kb.documents.service import attach_document
from kb.documents.storage import documents_dir
from kb.errors import InvalidInputError
from kb.extensions import db
from kb.states import DocumentTextStatus
from tests.factories import entry
from tests.services import documents_files as files

PAPER = "nhs-alliance-discussion-paper"


def _attach(cast, data: bytes, filename: str) -> Document:
    document = attach_document(entry(PAPER), data, filename=filename, title="A file", actor=cast.moderator)
    db.session.commit()
    return document


def _stored_files() -> list[str]:
    folder = documents_dir()
    return sorted(path.name for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


def _refused(cast, data: bytes, filename: str) -> str:
    with pytest.raises(DocumentRefusedError) as refused:
        attach_document(entry(PAPER), data, filename=filename, title="A file", actor=cast.moderator)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0
    assert _stored_files() == []
    return str(refused.value)


def test_refusal_is_invalid_input():
    assert issubclass(DocumentRefusedError, InvalidInputError)


def test_empty_file_is_refused(cast):
    assert _refused(cast, b"", "minutes.pdf") == "The file is empty."


def test_oversized_file_is_refused_before_it_is_read(cast, seeded_app):
    seeded_app.config["DOCUMENT_MAX_BYTES"] = 2 * 1024 * 1024
    message = _refused(cast, b"Minutes of the meeting.\n" * 100_000, "minutes.txt")
    assert message == "The file is 2.3 MB; kb takes files of up to 2 MB."


def test_wrong_extension_is_refused(cast):
    message = _refused(cast, files.pdf(["Agenda"]), "agenda.docx")
    assert "called .docx" in message
    assert "it is a PDF" in message
    assert "Rename it to end in .pdf" in message


def test_kind_kb_does_not_take_is_refused(cast):
    message = _refused(cast, b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 4, "tool.pdf")
    assert "cannot tell what kind of file this is" in message


def test_web_page_named_as_text_is_refused(cast):
    message = _refused(cast, b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", "notes.txt")
    assert "web page (HTML)" in message


def test_pdf_that_is_also_a_web_page_is_refused(cast):
    polyglot = files.pdf(["Agenda"]) + b"\n<html><body><script>alert(document.cookie)</script></body></html>\n"
    message = _refused(cast, polyglot, "agenda.pdf")
    assert "can also be opened as a web page" in message


def test_picture_that_is_also_a_zip_archive_is_refused(cast):
    polyglot = files.picture("PNG") + files.docx_bytes(["Hidden"])
    message = _refused(cast, polyglot, "photo.png")
    assert message.startswith("The file is a PNG image that can also be opened as a zip archive")


def test_zip_that_is_also_a_pdf_is_refused(cast):
    polyglot = b"%PDF-1.7\n" + files.docx_bytes(["Hidden"])
    # A PDF header in front: the bytes start as a PDF and hold a zip archive.
    message = _refused(cast, polyglot, "agenda.pdf")
    assert "can also be opened as a zip archive" in message


def test_pdf_bomb_fails_alone(cast):
    bomb = _attach(cast, files.pdf_bomb(), "bomb.pdf")
    good = _attach(cast, files.pdf(["Agenda of the board"]), "agenda.pdf")
    assert bomb.text_status == DocumentTextStatus.FAILED
    assert "PDF bomb" in bomb.text_message
    assert bomb.pages == []
    assert good.text_status == DocumentTextStatus.EXTRACTED
    assert [page.text for page in good.pages] == ["Agenda of the board"]
    assert {document.filename for document in current_documents(entry(PAPER))} == {"bomb.pdf", "agenda.pdf"}


def test_zip_bomb_docx_fails_alone_before_it_is_unpacked(cast):
    bomb = files.docx_zip_bomb()
    assert len(bomb) < 2 * 1024 * 1024
    document = _attach(cast, bomb, "minutes.docx")
    assert document.text_status == DocumentTextStatus.FAILED
    assert document.text_message == (
        "The file would unpack to 256 MB, more than the 200 MB kb reads safely; its text was not read."
    )
    assert document.pages == []
    good = _attach(cast, files.docx_bytes(["Minutes"]), "good.docx")
    assert good.text_status == DocumentTextStatus.EXTRACTED


def test_malformed_pdf_fails_alone(cast):
    broken = files.pdf(["Agenda"])[:400] + b"\x00garbage" * 50
    document = _attach(cast, broken, "broken.pdf")
    assert document.text_status == DocumentTextStatus.FAILED
    assert document.text_message


def test_reader_out_of_memory_fails_alone(cast, seeded_app):
    seeded_app.config["DOCUMENT_EXTRACT_MEMORY_MB"] = 16
    document = _attach(cast, files.pdf(["Agenda"]), "agenda.pdf")
    assert document.text_status == DocumentTextStatus.FAILED
    assert document.text_message
    seeded_app.config["DOCUMENT_EXTRACT_MEMORY_MB"] = 768
    assert _attach(cast, files.pdf(["Agenda"]), "again.pdf").text_status == DocumentTextStatus.EXTRACTED


def test_reader_out_of_time_fails_alone(cast, seeded_app, monkeypatch):
    monkeypatch.setattr("kb.documents.extract.WORKER", _sleeper(seeded_app))
    seeded_app.config["DOCUMENT_EXTRACT_SECONDS"] = 1
    document = _attach(cast, files.pdf(["Agenda"]), "agenda.pdf")
    assert document.text_status == DocumentTextStatus.FAILED
    assert (
        document.text_message
        == "Reading the text took longer than kb allows, so it was stopped; the file is not searchable."
    )


def _sleeper(app):
    """A stand-in worker that never answers, as one stuck on a hostile file would."""
    script = documents_dir().parent / "sleeper.py"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text("import time\ntime.sleep(30)\n")
    return script
