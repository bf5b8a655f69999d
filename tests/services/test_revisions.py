"""Revisions: numbering, publication time, and links replaced on every save."""

from __future__ import annotations

import dataclasses
import re

from sqlalchemy import select

from kb.content.document import EntryDocument, parse_document, serialise_document
from kb.content.service import import_directory
from kb.entries import queries
from kb.entries.models import EntryLink
from kb.entries.service import apply_document, current_revision, record_revision, render_document
from kb.extensions import db
from kb.markdown import LinkTarget
from tests.factories import entry
from tests.services.content_files import lesson_text, paper_text, write

PARAGRAPH_ID = re.compile(r' id="p-[0-9a-f]{8}(?:-\d+)?"')


def _unanchored(html: str) -> str:
    """A paper's rendered text without its paragraph anchors (`id="p-…"`), which come from each paragraph's words."""
    return PARAGRAPH_ID.sub("", html)


def document_of(slug: str) -> EntryDocument:
    document = parse_document(current_revision(entry(slug)).document, "db").document
    assert document is not None
    return document


def save(document: EntryDocument, *, author: str = "Editor", message: str = "Edit"):
    saved = apply_document(document, entry(document.slug))
    revision = record_revision(saved, document, serialise_document(document), author_name=author, message=message)
    db.session.commit()
    return revision


def backlink_sources(slug: str) -> set[tuple[str, str]]:
    """Every stored link into `slug`, as (source slug, relation)."""
    links = db.session.scalars(select(EntryLink).where(EntryLink.target_id == entry(slug).id))
    return {(link.source.slug, link.relation) for link in links}


def seed(tmp_path, *texts: tuple[str, str]) -> None:
    root = tmp_path / "content"
    for relative, text in texts:
        write(root, relative, text)
    report = import_directory(root)
    assert report.problems == []
    db.session.commit()


def test_revision_numbers_increase(app, tmp_path):
    seed(tmp_path, ("papers/p.md", paper_text("p", body="One.")))
    document = document_of("p")
    numbers = [current_revision(entry("p")).number]
    for text in ("Two.", "Three.", "Four."):
        numbers.append(save(dataclasses.replace(document, body=text), message=f"Now {text}").number)
    assert numbers == [1, 2, 3, 4]
    revisions = entry("p").revisions
    assert [revision.number for revision in revisions] == [1, 2, 3, 4]
    assert [revision.message for revision in revisions[1:]] == ["Now Two.", "Now Three.", "Now Four."]
    assert _unanchored(current_revision(entry("p")).rendered["body"]["html"]) == "<p>Four.</p>"
    assert _unanchored(revisions[0].rendered["body"]["html"]) == "<p>One.</p>"
    times = [revision.created_at for revision in revisions]
    assert times == sorted(times)
    assert [revision.number for revision in queries.revisions_of(entry("p"))] == [4, 3, 2, 1]
    assert queries.revision_of(entry("p"), 2).document.endswith("Two.\n")
    assert queries.revision_of(entry("p"), 5) is None


def test_revision_numbers_are_per_entry(app, tmp_path):
    seed(tmp_path, ("papers/a.md", paper_text("a")), ("papers/b.md", paper_text("b")))
    save(dataclasses.replace(document_of("a"), body="Changed."))
    assert [revision.number for revision in entry("a").revisions] == [1, 2]
    assert [revision.number for revision in entry("b").revisions] == [1]


def test_updated_at_follows_the_latest_revision(app, tmp_path):
    seed(tmp_path, ("papers/p.md", paper_text("p")))
    revision = save(dataclasses.replace(document_of("p"), body="Changed."))
    assert entry("p").updated_at == revision.created_at


def test_published_at_is_set_once(app, tmp_path):
    seed(tmp_path, ("papers/p.md", paper_text("p")))
    first = entry("p").published_at
    assert first is not None
    assert first == entry("p").revisions[0].created_at
    save(dataclasses.replace(document_of("p"), body="Changed."))
    save(dataclasses.replace(document_of("p"), body="Changed again."))
    assert entry("p").published_at == first


def test_published_at_is_set_when_a_draft_is_published(app, tmp_path):
    seed(tmp_path, ("papers/p.md", paper_text("p", status="draft")))
    assert entry("p").published_at is None
    save(dataclasses.replace(document_of("p"), body="Still a draft."))
    assert entry("p").published_at is None
    revision = save(dataclasses.replace(document_of("p"), status="published"))
    assert entry("p").published_at == revision.created_at
    later = save(dataclasses.replace(document_of("p"), body="Later."))
    assert entry("p").published_at == revision.created_at != later.created_at


def test_removing_see_also_removes_the_backlink(app, tmp_path):
    seed(
        tmp_path,
        ("papers/target.md", paper_text("target")),
        ("papers/other.md", paper_text("other")),
        ("lessons/l.md", lesson_text("l", see_also=["target", "other"])),
    )
    assert backlink_sources("target") == {("l", "see_also")}
    assert backlink_sources("other") == {("l", "see_also")}
    save(dataclasses.replace(document_of("l"), see_also=["other"]))
    assert backlink_sources("target") == set()
    assert backlink_sources("other") == {("l", "see_also")}
    # Old links are deleted, not left dangling.
    assert db.session.scalar(select(EntryLink).where(EntryLink.target_id == entry("target").id)) is None


def test_removing_a_mention_removes_the_backlink(app, tmp_path):
    seed(
        tmp_path,
        ("papers/target.md", paper_text("target")),
        ("lessons/l.md", lesson_text("l", evidence="See [[target]].")),
    )
    assert backlink_sources("target") == {("l", "mention")}
    document = document_of("l")
    save(dataclasses.replace(document, sections={**document.sections, "evidence": "No link now."}))
    assert backlink_sources("target") == set()


def test_changing_source_moves_the_backlink(app, tmp_path):
    seed(
        tmp_path,
        ("papers/old.md", paper_text("old")),
        ("papers/new.md", paper_text("new")),
        ("lessons/l.md", lesson_text("l", source="old")),
    )
    save(dataclasses.replace(document_of("l"), source="new"))
    assert backlink_sources("old") == set()
    assert backlink_sources("new") == {("l", "source")}
    assert [(link.target.slug, link.relation) for link in entry("l").outgoing_links] == [("new", "source")]


def test_adding_a_link_in_a_new_revision(app, tmp_path):
    seed(tmp_path, ("papers/target.md", paper_text("target")), ("papers/p.md", paper_text("p")))
    save(dataclasses.replace(document_of("p"), body="Now see [[target]].", see_also=["target"]))
    assert backlink_sources("target") == {("p", "see_also"), ("p", "mention")}


def test_old_revisions_keep_their_own_rendering(app, tmp_path):
    seed(
        tmp_path,
        ("papers/target.md", paper_text("target", "Target paper")),
        ("papers/p.md", paper_text("p", body="See [[target]].")),
    )
    save(dataclasses.replace(document_of("p"), body="Nothing."))
    first, second = entry("p").revisions
    assert 'href="/papers/target"' in first.rendered["body"]["html"]
    assert "Target paper" in first.rendered["body"]["html"]
    assert _unanchored(second.rendered["body"]["html"]) == "<p>Nothing.</p>"


def test_render_document_reports_missing_links_per_text(app, tmp_path):
    seed(tmp_path, ("papers/target.md", paper_text("target", "Target paper")))
    document = parse_document(lesson_text("l", evidence="[[target]] and [[ghost]]"), "x.md").document
    resolver = {"target": LinkTarget("/papers/target", "Target paper")}.get
    rendered, mentioned = render_document(document, resolver)
    assert mentioned == ["target"]
    assert rendered["evidence"]["missing_links"] == ["ghost"]
    assert rendered["lesson"]["missing_links"] == []
    assert '<span class="kb-missing-link">ghost</span>' in rendered["evidence"]["html"]
