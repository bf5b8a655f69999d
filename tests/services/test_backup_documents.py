"""Backup and restore carry the documents: every version's bytes go into the archive and come back."""

from __future__ import annotations

import hashlib
import io
import shutil
import tarfile
import warnings
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import exc as sa_exc
from sqlalchemy import select

from kb.backup.archive import DOCUMENTS_FOLDER, read_manifest
from kb.backup.service import SUFFIXES, BackupError, backup_database, restore_database
from kb.content.service import import_directory
from kb.documents.models import Document
from kb.documents.storage import documents_dir, path_of, read_bytes
from kb.extensions import db
from tests.backup_data import every_row
from tests.conftest import make_app
from tests.services.content_files import paper_text, write
from tests.services.documents_files import docx_bytes, pdf

ATTACHED = (
    "attachments:\n  - file: minutes/minutes.pdf\n    title: Minutes\n  - file: minutes/report.docx\n    title: Report"
)


@pytest.fixture(autouse=True)
def _quiet_reflection():
    """Reflecting a functional index (lower(email)) only warns that SQLAlchemy skips it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=sa_exc.SAWarning, message=".*expression-based index")
        yield


def backup_path(folder: Path) -> Path:
    return folder / f"backup{SUFFIXES[db.engine.url.get_backend_name()]}"


def documents_by_hash() -> dict[str, bytes]:
    """Every document version the database names, with the bytes found on disk for it."""
    return {row.sha256: read_bytes(row.stored_name) for row in db.session.scalars(select(Document))}


@pytest.fixture
def with_documents(app: Flask, tmp_path: Path) -> dict[str, bytes]:
    """A paper with a PDF and a DOCX, the PDF replaced once: three versions, two current."""
    root = tmp_path / "content"
    head, _, body = paper_text("minutes", "Minutes").partition("\n---\n")
    write(root, "papers/minutes.md", f"{head}\n{ATTACHED}\n---\n{body}")
    files = root / "papers/minutes"
    files.mkdir()
    (files / "report.docx").write_bytes(docx_bytes(["The report."]))
    for text in ("First minutes.", "Corrected minutes."):
        (files / "minutes.pdf").write_bytes(pdf([text, "Second page."]))
        report = import_directory(root)
        assert report.problems == []
        db.session.commit()
    stored = documents_by_hash()
    assert len(stored) == 3
    return stored


def test_a_backup_restored_on_a_new_host_brings_every_document_version(
    with_documents: dict[str, bytes], tmp_path: Path, empty_database: Path
) -> None:
    before = every_row(db.engine)
    report = backup_database(db.engine, backup_path(tmp_path / "backups"))
    assert report.documents == 3
    assert {item.sha256 for item in read_manifest(report.path).documents} == set(with_documents)
    assert "3 documents" in report.summary()
    db.session.remove()
    db.engine.dispose()

    other = make_app(tmp_path / "other-host", empty_database)
    with other.app_context():
        assert not documents_dir().exists()
        restored = restore_database(db.engine, report.path)
        assert restored.documents == 3
        assert every_row(db.engine) == before
        assert documents_by_hash() == with_documents
        for digest, data in with_documents.items():
            assert hashlib.sha256(data).hexdigest() == digest
        assert not [path for path in documents_dir().iterdir() if path.name.startswith(".restore-")]
        db.session.remove()
        db.engine.dispose()


def test_a_backup_is_refused_when_a_document_file_is_missing(with_documents: dict[str, bytes], tmp_path: Path) -> None:
    gone = db.session.scalars(select(Document).order_by(Document.id)).first()
    assert gone is not None
    path_of(gone.stored_name).unlink()
    target = backup_path(tmp_path / "backups")
    with pytest.raises(BackupError, match=rf"the document file {path_of(gone.stored_name)} is missing"):
        backup_database(db.engine, target)
    assert not target.exists()
    assert not list(target.parent.glob("*.partial"))


def test_an_archive_with_an_altered_document_is_refused_and_nothing_changes(
    with_documents: dict[str, bytes], tmp_path: Path
) -> None:
    backup = backup_database(db.engine, backup_path(tmp_path / "backups")).path
    altered = backup.with_name(f"altered{SUFFIXES[db.engine.url.get_backend_name()]}")
    with tarfile.open(backup) as source, tarfile.open(altered, "w", format=tarfile.PAX_FORMAT) as target:
        flipped = False
        for member in source.getmembers():
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name.startswith(f"{DOCUMENTS_FOLDER}/") and not flipped:
                data, flipped = data[:-1] + bytes([data[-1] ^ 1]), True  # Same size, other bytes.
            target.addfile(member, io.BytesIO(data))
    assert flipped
    before = every_row(db.engine)
    shutil.rmtree(documents_dir())
    db.session.remove()

    with pytest.raises(BackupError, match=r"is damaged: documents/\w+ does not match its size and SHA-256"):
        restore_database(db.engine, altered, force=True)
    assert every_row(db.engine) == before
    assert [path for path in documents_dir().rglob("*") if path.is_file()] == []
