"""Documents in content files: `attachments:` on import, the files written back on export."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from kb.content.document import parse_document, serialise_document
from kb.content.export import export_directory
from kb.content.service import import_directory
from kb.documents.models import Document
from kb.documents.service import attach_document
from kb.documents.storage import path_of, read_bytes
from kb.entries.models import Revision
from kb.entries.service import apply_document, current_revision, record_revision
from kb.extensions import db
from kb.permissions import ANONYMOUS
from tests.conftest import make_app
from tests.factories import entry
from tests.services.content_files import line_of, paper_text, review_text, write
from tests.services.documents_files import docx_bytes, pdf

ATTACHMENTS = [
    "",
    "  - file: board-paper/minutes.pdf",
    "    title: Minutes of the board",
    "  - file: board-paper/report.docx",
    "    title: 'Report: the go-live'",
]


def paper_with(attachments: list[str]) -> str:
    """The board paper's content file with this `attachments:` block (its lines after the key)."""
    text = paper_text("board-paper", "Board paper")
    head, _, body = text.partition("\n---\n")
    return f"{head}\nattachments:{chr(10).join(attachments)}\n---\n{body}" if attachments else text


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A content folder with a paper listing a PDF and a DOCX beside it, and a second paper."""
    root = tmp_path / "content-in"
    write(root, "papers/board-paper.md", paper_with(ATTACHMENTS))
    (root / "papers/board-paper").mkdir()
    (root / "papers/board-paper/minutes.pdf").write_bytes(pdf(["Page one.", "Page two.", "Page three."]))
    (root / "papers/board-paper/report.docx").write_bytes(docx_bytes(["The service went live."]))
    write(root, "papers/other-paper.md", paper_text("other-paper", "Other paper"))
    return root


def current(slug: str = "board-paper") -> list[Document]:
    query = (
        select(Document)
        .where(Document.entry_id == entry(slug).id, Document.replaced_by_id.is_(None), Document.removed_at.is_(None))
        .order_by(Document.position, Document.id)
    )
    return list(db.session.scalars(query))


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def files_below(folder: Path) -> dict[str, bytes]:
    """The entries' files and their documents below `folder`, leaving out the taxonomy file export always writes."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != "taxonomy.yaml"
    }


def import_and_commit(root: Path):
    report = import_directory(root)
    db.session.commit()
    return report


def test_import_attaches_the_listed_files_with_their_titles(app: Flask, folder: Path) -> None:
    report = import_and_commit(folder)
    assert report.problems == []
    assert (
        report.summary()
        == "2 files: 2 created, 0 updated, 0 unchanged, 0 failed; documents: 2 added, 0 replaced, 0 removed"
    )
    documents = current()
    assert [(d.filename, d.title) for d in documents] == [
        ("minutes.pdf", "Minutes of the board"),
        ("report.docx", "Report: the go-live"),
    ]
    for document in documents:
        source = (folder / "papers/board-paper" / document.filename).read_bytes()
        assert read_bytes(document.stored_name) == source
        assert (document.sha256, document.size) == (hashlib.sha256(source).hexdigest(), len(source))
    assert current("other-paper") == []


def test_import_export_import_round_trips_unchanged(
    app: Flask, folder: Path, tmp_path: Path, empty_database: Path
) -> None:
    import_and_commit(folder)
    revisions, documents = count(Revision), count(Document)

    exported = tmp_path / "export"
    assert export_directory(exported) == 2
    written = files_below(exported)
    assert sorted(written) == sorted(files_below(folder))
    for name in ("papers/board-paper/minutes.pdf", "papers/board-paper/report.docx"):
        assert written[name] == (folder / name).read_bytes()

    again = import_and_commit(exported)
    assert again.problems == []
    assert again.summary() == "2 files: 0 created, 0 updated, 2 unchanged, 0 failed"
    assert (count(Revision), count(Document)) == (revisions, documents)

    # Into a new, empty database: the same entries, documents and files come out again.
    second = make_app(tmp_path / "second", empty_database)
    with second.app_context():
        assert import_and_commit(exported).problems == []
        assert [(d.filename, d.title) for d in current()] == [
            ("minutes.pdf", "Minutes of the board"),
            ("report.docx", "Report: the go-live"),
        ]
        assert export_directory(tmp_path / "export-2") == 2
        db.session.remove()
        db.engine.dispose()
    assert files_below(tmp_path / "export-2") == written


def test_reimporting_unchanged_files_adds_no_document(app: Flask, folder: Path) -> None:
    import_and_commit(folder)
    before = [(d.id, d.stored_name) for d in current()]
    report = import_and_commit(folder)
    assert report.summary() == "2 files: 0 created, 0 updated, 2 unchanged, 0 failed"
    assert [(d.id, d.stored_name) for d in current()] == before
    assert count(Document) == 2


def test_a_changed_file_replaces_its_document_and_keeps_the_old_one(app: Flask, folder: Path) -> None:
    import_and_commit(folder)
    old = next(d for d in current() if d.filename == "minutes.pdf")
    new_bytes = pdf(["Corrected minutes."])
    (folder / "papers/board-paper/minutes.pdf").write_bytes(new_bytes)

    report = import_and_commit(folder)
    assert report.problems == []
    assert report.unchanged == [str(folder / "papers/board-paper.md"), str(folder / "papers/other-paper.md")]
    assert report.documents.replaced == [str(folder / "papers/board-paper/minutes.pdf")]
    new = next(d for d in current() if d.filename == "minutes.pdf")
    assert new.id != old.id
    assert new.sha256 == hashlib.sha256(new_bytes).hexdigest()
    assert [d.filename for d in current()] == ["minutes.pdf", "report.docx"]
    db.session.refresh(old)
    assert old.replaced_by_id == new.id
    assert read_bytes(old.stored_name) != new_bytes  # The earlier version's bytes stay for the history.


def test_a_file_dropped_from_the_list_removes_its_document(app: Flask, folder: Path, tmp_path: Path) -> None:
    import_and_commit(folder)
    docx_row = next(d for d in current() if d.filename == "report.docx")
    write(folder, "papers/board-paper.md", paper_with(ATTACHMENTS[:3]))

    report = import_and_commit(folder)
    assert report.problems == []
    assert report.updated == [str(folder / "papers/board-paper.md")]
    assert report.documents.removed == [str(folder / "papers/board-paper/report.docx")]
    assert [d.filename for d in current()] == ["minutes.pdf"]
    db.session.refresh(docx_row)
    assert docx_row.removed_at is not None  # Still a row, for the entry's history.

    export_directory(tmp_path / "export")
    assert sorted(files_below(tmp_path / "export")) == [
        "papers/board-paper.md",
        "papers/board-paper/minutes.pdf",
        "papers/other-paper.md",
    ]


def test_a_missing_file_is_reported_with_its_path_and_the_rest_still_load(app: Flask, folder: Path) -> None:
    (folder / "papers/board-paper/minutes.pdf").unlink()
    text = (folder / "papers/board-paper.md").read_text(encoding="utf-8")

    report = import_and_commit(folder)
    [problem] = report.problems
    line = line_of(text, "  - file: board-paper/minutes.pdf")
    assert str(problem).startswith(f"{folder / 'papers/board-paper.md'}:{line}: attachment 'board-paper/minutes.pdf'")
    assert str(folder / "papers/board-paper/minutes.pdf") in problem.message
    assert "no such file" in problem.message
    assert sorted(report.created) == [str(folder / "papers/board-paper.md"), str(folder / "papers/other-paper.md")]
    assert [d.filename for d in current()] == ["report.docx"]

    # Once the file is there, importing again attaches it; the text is unchanged.
    (folder / "papers/board-paper/minutes.pdf").write_bytes(pdf(["Found."]))
    again = import_and_commit(folder)
    assert again.problems == []
    assert again.documents.added == [str(folder / "papers/board-paper/minutes.pdf")]
    assert [d.filename for d in current()] == ["minutes.pdf", "report.docx"]


def test_a_refused_file_is_reported_and_keeps_the_document_it_would_replace(app: Flask, folder: Path) -> None:
    import_and_commit(folder)
    kept = next(d for d in current() if d.filename == "report.docx")
    (folder / "papers/board-paper/report.docx").write_bytes(b"")  # An empty file is never attached.

    report = import_and_commit(folder)
    [problem] = report.problems
    assert problem.path == str(folder / "papers/board-paper.md")
    assert problem.message.startswith(
        f"attachment 'board-paper/report.docx' ({folder / 'papers/board-paper/report.docx'}) was not attached: "
    )
    assert [d.id for d in current() if d.filename == "report.docx"] == [kept.id]
    assert report.documents.summary() == ""


def test_export_lists_a_document_attached_on_the_site(app: Flask, folder: Path, tmp_path: Path) -> None:
    write(folder, "papers/board-paper.md", paper_with([]))
    import_and_commit(folder)
    data = docx_bytes(["Agenda item one."])
    attach_document(entry("board-paper"), data, filename="agenda.docx", title="Agenda", actor=None)
    db.session.commit()

    export_directory(tmp_path / "export")
    text = (tmp_path / "export/papers/board-paper.md").read_text(encoding="utf-8")
    assert "attachments:\n  - file: board-paper/agenda.docx\n    title: Agenda\n" in text
    assert (tmp_path / "export/papers/board-paper/agenda.docx").read_bytes() == data


def test_a_file_kb_names_otherwise_is_reported_once_attached_and_matched_on_reimport(app: Flask, folder: Path) -> None:
    (folder / "papers/board-paper/minutes.pdf").rename(folder / "papers/board-paper/minutes.PDF")
    text = paper_with([item.replace("minutes.pdf", "minutes.PDF") for item in ATTACHMENTS])
    write(folder, "papers/board-paper.md", text)

    for attempt in range(2):
        report = import_and_commit(folder)
        [problem] = report.problems
        assert problem.line == line_of(text, "  - file: board-paper/minutes.PDF")
        assert problem.message.startswith("attachment 'board-paper/minutes.PDF' is kept as 'minutes.pdf'")
        assert [d.filename for d in current()] == ["minutes.pdf", "report.docx"]
        assert len(report.documents.added) == (2 if attempt == 0 else 0)
    assert count(Document) == 2


def test_the_commands_report_documents_and_a_missing_file(app: Flask, folder: Path, tmp_path: Path) -> None:
    (folder / "papers/board-paper/report.docx").unlink()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["content", "import", str(folder)])
    assert result.exit_code == 1
    missing = folder / "papers/board-paper/report.docx"
    assert f"attachment 'board-paper/report.docx': no such file: {missing}" in result.stderr
    assert (
        "Import finished: 2 files: 2 created, 0 updated, 0 unchanged, 0 failed; "
        "documents: 1 added, 0 replaced, 0 removed." in result.stdout
    )

    exported = runner.invoke(args=["content", "export", str(tmp_path / "export")])
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / "export/papers/board-paper/minutes.pdf").read_bytes() == (
        folder / "papers/board-paper/minutes.pdf"
    ).read_bytes()
    assert not (tmp_path / "export/papers/board-paper/report.docx").exists()
    assert "report.docx" not in (tmp_path / "export/papers/board-paper.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("hidden", ["status: draft", "visibility: panel\nreview: the-review"])
def test_an_export_for_a_reader_leaves_out_the_documents_of_entries_they_cannot_see(
    app: Flask, folder: Path, tmp_path: Path, hidden: str
) -> None:
    text = paper_with(ATTACHMENTS).replace("kind: paper\n", f"kind: paper\n{hidden}\n")
    write(folder, "papers/board-paper.md", text)
    write(folder, "reviews/the-review.md", review_text("the-review"))
    assert import_and_commit(folder).problems == []
    assert len(current()) == 2

    assert export_directory(tmp_path / "export", visible_to=ANONYMOUS) == 2
    assert sorted(files_below(tmp_path / "export")) == ["papers/other-paper.md", "reviews/the-review.md"]
    assert export_directory(tmp_path / "archive") == 3
    assert "papers/board-paper/minutes.pdf" in files_below(tmp_path / "archive")


def test_an_export_names_a_document_whose_file_is_gone(app: Flask, folder: Path, tmp_path: Path) -> None:
    import_and_commit(folder)
    gone = next(d for d in current() if d.filename == "report.docx")
    path_of(gone.stored_name).unlink()

    result = app.test_cli_runner().invoke(args=["content", "export", str(tmp_path / "export")])
    assert result.exit_code == 1
    assert f"the export stopped: board-paper/report.docx has no file at {path_of(gone.stored_name)}" in result.stderr


def test_an_entry_edited_on_the_site_keeps_its_documents_when_its_file_is_unchanged(app: Flask, folder: Path) -> None:
    import_and_commit(folder)
    paper = entry("board-paper")
    document = parse_document(current_revision(paper).document, "db").document
    assert document is not None
    edited = dataclasses.replace(document, title="Edited on the site")
    apply_document(edited, paper)
    record_revision(paper, edited, serialise_document(edited), author_name="Someone", message="Edited")
    db.session.commit()
    before = [(d.id, d.sha256) for d in current()]
    (folder / "papers/board-paper/minutes.pdf").write_bytes(pdf(["Changed since."]))

    report = import_and_commit(folder)
    assert report.problems == []
    assert report.documents.summary() == ""
    assert [(d.id, d.sha256) for d in current()] == before
