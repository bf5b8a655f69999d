"""Import the real content, export it, and get the same files back."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from kb.config import PROJECT_ROOT
from kb.content.export import export_directory
from kb.content.service import import_directory
from kb.entries.models import Entry, Revision
from kb.extensions import db
from kb.taxonomy.models import Tag, Theme
from tests.services.content_files import TAXONOMY, lesson_text, paper_text, review_text, write

CONTENT = PROJECT_ROOT / "content"


def files_below(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def revision_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Revision)) or 0


def test_real_content_round_trips_byte_for_byte(app, tmp_path):
    report = import_directory(CONTENT)
    db.session.commit()
    assert report.problems == []
    source_files = files_below(CONTENT)
    markdown_count = sum(1 for name in source_files if name.endswith(".md"))
    assert len(report.created) == markdown_count

    out = tmp_path / "export"
    written = export_directory(out)
    assert written == markdown_count
    exported = files_below(out)
    assert sorted(exported) == sorted(source_files)
    for name, data in source_files.items():
        assert exported[name] == data, f"{name} differs after export"


def test_importing_an_export_changes_nothing(app, tmp_path):
    import_directory(CONTENT)
    db.session.commit()
    revisions = revision_count()
    updated = dict(db.session.execute(select(Entry.slug, Entry.updated_at)).all())
    themes = db.session.scalar(select(func.count()).select_from(Theme))
    tags = db.session.scalar(select(func.count()).select_from(Tag))

    out = tmp_path / "export"
    written = export_directory(out)
    report = import_directory(out)
    db.session.commit()
    assert report.problems == []
    assert report.created == []
    assert report.updated == []
    assert report.failed == []
    assert len(report.unchanged) == written
    assert revision_count() == revisions
    assert dict(db.session.execute(select(Entry.slug, Entry.updated_at)).all()) == updated
    assert db.session.scalar(select(func.count()).select_from(Theme)) == themes
    assert db.session.scalar(select(func.count()).select_from(Tag)) == tags


def test_export_writes_files_in_canonical_form(app, tmp_path):
    """Files that are not in canonical form come back canonical, and re-import unchanged."""
    root = tmp_path / "src"
    write(root, "taxonomy.yaml", TAXONOMY)
    write(root, "papers/p.md", paper_text("p", event_date='"2013-05"', tags=["Go Live"]))
    write(root, "reviews/r.md", review_text("r", review_status="consulting"))
    write(root, "lessons/l.md", lesson_text("l", maturity="insight", source="p"))
    import_directory(root)
    db.session.commit()

    out = tmp_path / "out"
    assert export_directory(out) == 3
    paper = (out / "papers/p.md").read_text()
    assert "event_date: 2013-05\n" in paper
    assert "tags:\n  - go-live\n" in paper
    assert "status: published\nvisibility: public\n" in paper
    assert "paper_status: final\n" in paper
    lesson = (out / "lessons/l.md").read_text()
    assert "action_status: identified\n" in lesson
    # The themes come back as written; the regions list the database holds follows them.
    assert (out / "taxonomy.yaml").read_text().startswith(TAXONOMY + "regions:\n")

    revisions = revision_count()
    report = import_directory(out)
    db.session.commit()
    assert report.created == report.updated == []
    assert revision_count() == revisions


def test_export_of_an_edited_entry_writes_the_latest_revision(app, tmp_path):
    root = tmp_path / "src"
    path = write(root, "papers/p.md", paper_text("p", body="First."))
    import_directory(root)
    db.session.commit()
    path.write_text(paper_text("p", body="Second."))
    import_directory(root)
    db.session.commit()
    out = tmp_path / "out"
    export_directory(out)
    assert (out / "papers/p.md").read_text().endswith("\n\nSecond.\n")


def test_export_of_empty_database(app, tmp_path):
    out = tmp_path / "out"
    assert export_directory(out) == 0
    # No entries and no themes: only the regions list every database starts with.
    assert [path.name for path in out.iterdir()] == ["taxonomy.yaml"]
    assert (out / "taxonomy.yaml").read_text().startswith("themes: []\nregions:\n  - name: England\n")
