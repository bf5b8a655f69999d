"""A content file's `replaces:` keeps merged-away slugs working, on a database that had them and on a fresh one."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from sqlalchemy import func, select

from kb.audit.models import AuditEvent
from kb.comments.models import Comment
from kb.config import PROJECT_ROOT
from kb.content.document import parse_document
from kb.content.export import export_directory
from kb.content.service import import_directory
from kb.entries.models import Entry, EntryLink, Revision
from kb.entries.service import current_revision
from kb.extensions import db
from kb.notifications.models import Follow
from kb.panels.citations import add_citation
from kb.panels.models import Citation
from tests.accounts import make_cast, make_user
from tests.citation_factory import draft_finding
from tests.factories import add_comment, entry
from tests.services.content_files import lesson_text, paper_text, write

CONTENT = PROJECT_ROOT / "content"
OLD = "unprecedented-pressure-from-the-centre"
NEW = "providers-pressed-to-go-live-before-ready"
_REPLACES = re.compile(r"^replaces:\n(?:  - .*\n)+", re.MULTILINE)


def replacements() -> dict[str, str]:
    """Every slug the seed content replaces, and the lesson that replaces it."""
    found = {}
    for path in sorted(CONTENT.rglob("*.md")):
        document = parse_document(path.read_text(encoding="utf-8"), str(path)).document
        assert document is not None
        found.update(dict.fromkeys(document.replaces, document.slug))
    return found


def old_content(folder: Path) -> Path:
    """The seed content as it was before the merges: no `replaces:`, and a lesson file for each old slug."""
    shutil.copytree(CONTENT, folder)
    for path in folder.rglob("*.md"):
        path.write_text(_REPLACES.sub("", path.read_text(encoding="utf-8")), encoding="utf-8")
    for old in replacements():
        write(folder, f"lessons/{old}.md", lesson_text(old, event_date="2013-05"))
    return folder


def files_below(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_no_replaced_slug_of_the_seed_content_still_has_a_file() -> None:
    merges = replacements()
    assert merges[OLD] == NEW
    assert not (set(merges) & {path.stem for path in CONTENT.rglob("*.md")}), "a replaced slug still has a file"


def test_importing_the_new_content_over_the_old_merges_each_old_lesson_and_moves_what_hung_on_it(
    app, tmp_path: Path
) -> None:
    report = import_directory(old_content(tmp_path / "old"))
    assert report.problems == []
    db.session.commit()
    cast = make_cast()
    old = entry(OLD)
    comment = add_comment(old, cast.member, "A comment on the old lesson.")
    db.session.add(Follow(user_id=cast.member.id, target_type="entry", target_id=old.id))
    finding = draft_finding(cast)
    citation = add_citation(finding, actor=cast.panel, kind="entry", entry=old)
    db.session.commit()
    old_id, comment_id, citation_id = old.id, comment.id, citation.id

    report = import_directory(CONTENT)
    db.session.commit()
    assert report.problems == []
    assert report.failed == []

    new = entry(NEW)
    for slug, target in replacements().items():
        merged = entry(slug)
        assert (merged.status, merged.merged_into.slug) == ("merged", target)
    assert db.session.get(Comment, comment_id).entry_id == new.id
    assert db.session.scalar(select(Follow.target_id).where(Follow.user_id == cast.member.id)) == new.id
    assert db.session.get(Citation, citation_id).entry_id == new.id
    merges = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "entry.merge")).all()
    assert {(event.target_id, event.actor_id) for event in merges} >= {(old_id, None)}
    assert len(merges) == len(replacements())

    response = app.test_client().get(f"/lessons/{OLD}")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/lessons/{NEW}")

    # The merged database exports the new content exactly, and importing it again changes nothing.
    out = tmp_path / "export"
    export_directory(out)
    assert files_below(out) == files_below(CONTENT)
    revisions = db.session.scalar(select(func.count()).select_from(Revision))
    again = import_directory(CONTENT)
    db.session.commit()
    assert (again.problems, again.created, again.updated) == ([], [], [])
    assert db.session.scalar(select(func.count()).select_from(Revision)) == revisions


def test_a_fresh_import_gives_each_replaced_slug_a_redirect_and_its_links_lead_to_the_replacement(
    app, tmp_path: Path
) -> None:
    folder = tmp_path / "content"
    shutil.copytree(CONTENT, folder)
    write(folder, "papers/note-on-pressure.md", paper_text("note-on-pressure", body=f"See [[{OLD}]]."))
    report = import_directory(folder)
    db.session.commit()
    assert report.problems == []

    client = app.test_client()
    for slug, target in replacements().items():
        placeholder = entry(slug)
        assert (placeholder.status, placeholder.merged_into.slug) == ("merged", target)
        assert current_revision(placeholder) is None
        response = client.get(f"/lessons/{slug}")
        assert response.status_code == 301, slug
        assert response.headers["Location"].endswith(f"/lessons/{target}")

    note, new = entry("note-on-pressure"), entry(NEW)
    html = current_revision(note).rendered["body"]["html"]
    assert f'href="/lessons/{NEW}"' in html
    assert db.session.scalar(select(EntryLink.target_id).where(EntryLink.source_id == note.id)) == new.id
    assert export_directory(tmp_path / "export") == len(files_below(folder)) - 1  # the taxonomy is not an entry


def test_a_replaced_slug_another_file_uses_or_an_entry_of_another_kind_has_is_refused(app, tmp_path: Path) -> None:
    write(tmp_path, "one/lessons/d.md", lesson_text("d"))
    assert import_directory(tmp_path / "one").problems == []
    folder = tmp_path / "two"
    write(folder, "lessons/a.md", lesson_text("a", replaces=["b"]))
    write(folder, "lessons/b.md", lesson_text("b"))
    write(folder, "papers/c.md", paper_text("c", replaces=["d"]))
    report = import_directory(folder)
    db.session.commit()
    assert [(Path(problem.path).name, problem.line, problem.message) for problem in report.problems] == [
        ("a.md", 6, f"'b' is also the slug of, or replaced by, {folder / 'lessons/b.md'}"),
        ("c.md", 6, "'d' is a lesson; a paper cannot replace it"),
    ]
    assert set(db.session.scalars(select(Entry.slug))) == {"b", "d"}
    assert entry("d").status == "published"


def test_an_entry_cannot_replace_itself() -> None:
    result = parse_document(lesson_text("a", replaces=["a"]), "a.md")
    assert result.document is None
    assert [str(problem) for problem in result.problems] == [
        "a.md:6: an entry cannot replace itself; 'replaces:' lists the slugs of others"
    ]


def test_an_entry_whose_merge_was_refused_is_still_exported(app, tmp_path: Path) -> None:
    write(tmp_path, "one/lessons/b.md", lesson_text("b", visibility="members"))
    import_directory(tmp_path / "one")
    add_comment(entry("b"), make_user("member@example.org"), "Written for members only.")
    db.session.commit()
    write(tmp_path, "two/lessons/a.md", lesson_text("a", replaces=["b"]))
    import_directory(tmp_path / "two")
    db.session.commit()
    assert entry("b").status != "merged", "a merge that would show members' comments to everyone is refused"
    exported = tmp_path / "export"
    export_directory(exported)
    assert (exported / "lessons/b.md").is_file(), "the entry that was not merged keeps its file"
    assert (exported / "lessons/a.md").is_file()
