"""The `content import` and `content export` commands."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from kb.config import PROJECT_ROOT
from kb.content.document import parse_document, serialise_document
from kb.content.service import display_path
from kb.entries.models import Entry, Revision
from kb.extensions import db
from tests.services.content_files import TAXONOMY, lesson_text, line_of, paper_text, write

SUMMARY = re.compile(
    r"^Import finished: (\d+) files: (\d+) created, (\d+) updated, (\d+) unchanged, (\d+) failed\.$", re.M
)


def entry_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Entry)) or 0


def summary_of(output: str) -> tuple[int, ...]:
    match = SUMMARY.search(output)
    assert match, output
    return tuple(int(number) for number in match.groups())


def test_import_command(app, tmp_path):
    root = tmp_path / "content"
    write(root, "taxonomy.yaml", TAXONOMY)
    write(root, "papers/p.md", paper_text("p"))
    write(root, "lessons/l.md", lesson_text("l", source="p"))
    result = app.test_cli_runner().invoke(args=["content", "import", str(root)])
    assert result.exit_code == 0, result.output
    assert summary_of(result.stdout) == (2, 2, 0, 0, 0)
    assert "Import finished: 2 files: 2 created, 0 updated, 0 unchanged, 0 failed." in result.stdout
    assert entry_count() == 2

    again = app.test_cli_runner().invoke(args=["content", "import", str(root)])
    assert again.exit_code == 0, again.output
    assert summary_of(again.stdout) == (2, 0, 0, 2, 0)
    assert db.session.scalar(select(func.count()).select_from(Revision)) == 2


def test_import_command_with_a_bad_file(app, tmp_path):
    root = tmp_path / "content"
    write(root, "papers/good.md", paper_text("good"))
    bad_text = lesson_text("bad", region="England", event_date="May 2013")
    bad = write(root, "lessons/bad.md", bad_text)
    result = app.test_cli_runner().invoke(args=["content", "import", str(root)])
    assert result.exit_code == 1
    expected = f"{display_path(bad)}:{line_of(bad_text, 'event_date:')}: event_date: bad date:"
    assert expected in result.stderr
    assert expected not in result.stdout
    assert summary_of(result.stdout) == (2, 1, 0, 0, 1)
    # The good file is loaded and committed even though the command failed.
    assert entry_count() == 1


def test_import_command_with_only_a_taxonomy_problem_fails(app, tmp_path):
    root = tmp_path / "content"
    write(root, "taxonomy.yaml", TAXONOMY.replace("label: Readiness", "label: ''"))
    write(root, "papers/p.md", paper_text("p"))
    result = app.test_cli_runner().invoke(args=["content", "import", str(root)])
    assert result.exit_code == 1
    assert re.search(r"taxonomy\.yaml:\d+: a theme needs a slug", result.stderr)


def test_import_command_default_folder_is_content_dir(app, tmp_path):
    root = tmp_path / "content"  # CONTENT_DIR in the test settings
    assert app.config["CONTENT_DIR"] == str(root)
    write(root, "papers/p.md", paper_text("p"))
    result = app.test_cli_runner().invoke(args=["content", "import"])
    assert result.exit_code == 0, result.output
    assert summary_of(result.stdout) == (1, 1, 0, 0, 0)


def test_import_command_with_missing_folder(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["content", "import", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "no such folder" in result.output
    assert entry_count() == 0


def test_export_command(app, tmp_path):
    root = tmp_path / "content"
    write(root, "taxonomy.yaml", TAXONOMY)
    paper = write(root, "papers/p.md", paper_text("p"))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["content", "import", str(root)]).exit_code == 0
    out = tmp_path / "exported"
    result = runner.invoke(args=["content", "export", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Export finished: 1 entries written to {out}." in result.stdout
    canonical = serialise_document(parse_document(paper.read_text(), "p.md").document)
    assert (out / "papers" / "p.md").read_text() == canonical
    # The regions list is in every database (its migration fills it), so the file gains it.
    exported = (out / "taxonomy.yaml").read_text()
    assert exported.startswith(TAXONOMY)
    assert "\nregions:\n  - name: England\n" in exported


def test_import_then_export_of_real_content(app, tmp_path):
    runner = app.test_cli_runner()
    content = PROJECT_ROOT / "content"
    result = runner.invoke(args=["content", "import", str(content)])
    assert result.exit_code == 0, result.output
    files = len(list(content.rglob("*.md")))
    assert summary_of(result.stdout) == (files, files, 0, 0, 0)
    out = tmp_path / "exported"
    assert runner.invoke(args=["content", "export", str(out)]).exit_code == 0
    for path in content.rglob("*"):
        if path.is_file():
            assert (out / path.relative_to(content)).read_bytes() == path.read_bytes(), path
