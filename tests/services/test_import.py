"""Importing a folder of content files into the database."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kb.content.document import parse_document, serialise_document
from kb.content.service import IMPORT_AUTHOR, display_path, import_directory
from kb.entries.models import Entry, EntryLink, Lesson, Paper, Review, Revision
from kb.entries.service import KindChangeError, apply_document, current_revision, record_revision
from kb.extensions import db
from kb.taxonomy.models import Tag, Theme
from tests.factories import entry
from tests.services.content_files import TAXONOMY, lesson_text, line_of, paper_text, review_text, write


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def links_of(slug: str) -> set[tuple[str, str]]:
    source = entry(slug)
    return {(link.target.slug, link.relation) for link in source.outgoing_links}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A small content folder: taxonomy, a paper, a review and two lessons."""
    root = tmp_path / "import"
    write(root, "taxonomy.yaml", TAXONOMY)
    write(
        root, "papers/board-paper.md", paper_text("board-paper", "Board paper", tags=["go-live"], event_date="2013-05")
    )
    write(
        root,
        "reviews/the-review.md",
        review_text("the-review", "The review", source="board-paper", body="Commissioned at [[board-paper]]."),
    )
    write(
        root,
        "lessons/first-lesson.md",
        lesson_text(
            "first-lesson",
            "First lesson",
            evidence="See [[board-paper|the board paper]].",
            tags=["cost-versus-quality", "Free Tag"],
            source="board-paper",
            see_also=["second-lesson"],
            region="North West",
            event_date="2013-04-01",
            maturity="insight",
        ),
    )
    write(root, "lessons/second-lesson.md", lesson_text("second-lesson", "Second lesson"))
    return root


def import_and_commit(root: Path):
    report = import_directory(root)
    db.session.commit()
    return report


def test_import_creates_everything(app, folder):
    report = import_and_commit(folder)
    assert report.problems == []
    assert report.failed == []
    assert len(report.created) == 4
    assert report.updated == []
    assert report.unchanged == []
    assert report.summary() == "4 files: 4 created, 0 updated, 0 unchanged, 0 failed"

    assert count(Entry) == 4
    assert isinstance(entry("first-lesson"), Lesson)
    assert isinstance(entry("the-review"), Review)
    assert isinstance(entry("board-paper"), Paper)

    lesson = entry("first-lesson")
    assert lesson.title == "First lesson"
    assert lesson.region == "North West"
    assert str(lesson.event_day) == "2013-04-01"
    assert lesson.maturity == "insight"
    assert lesson.action_status == "identified"
    assert lesson.evidence == "See [[board-paper|the board paper]]."
    assert lesson.driving_event == "It happened."
    assert {tag.slug for tag in lesson.tags} == {"cost-versus-quality", "free-tag"}

    themes = db.session.scalars(select(Theme).order_by(Theme.position)).all()
    assert [(theme.slug, theme.position) for theme in themes] == [("procurement", 0), ("readiness", 1)]
    cost = db.session.scalar(select(Tag).where(Tag.slug == "cost-versus-quality"))
    assert cost.theme.slug == "procurement"
    assert cost.label == "Cost versus quality"
    free = db.session.scalar(select(Tag).where(Tag.slug == "free-tag"))
    assert free.theme is None
    assert free.label == "Free tag"

    assert links_of("first-lesson") == {
        ("board-paper", "source"),
        ("second-lesson", "see_also"),
        ("board-paper", "mention"),
    }
    assert links_of("the-review") == {("board-paper", "source"), ("board-paper", "mention")}
    assert links_of("board-paper") == set()

    assert count(Revision) == 4
    for slug in ("first-lesson", "second-lesson", "the-review", "board-paper"):
        [revision] = entry(slug).revisions
        assert revision.number == 1
        assert revision.author_name == IMPORT_AUTHOR == "content import"
        assert revision.message.startswith("Imported from ")
        assert revision.message.endswith(f"/{slug}.md")
        assert entry(slug).published_at is not None
        assert entry(slug).imported_hash


def test_links_keep_the_authors_order(app, folder):
    import_and_commit(folder)
    links = sorted(entry("first-lesson").outgoing_links, key=lambda link: link.position)
    assert [(link.target.slug, link.relation) for link in links] == [
        ("board-paper", "source"),
        ("second-lesson", "see_also"),
        ("board-paper", "mention"),
    ]


def test_body_mention_makes_a_mention_link(app, tmp_path):
    write(tmp_path, "c/papers/p.md", paper_text("p"))
    write(tmp_path, "c/lessons/l.md", lesson_text("l", evidence="Read [[p]]."))
    import_and_commit(tmp_path / "c")
    assert links_of("l") == {("p", "mention")}


def test_stored_revision_document_is_canonical(app, folder):
    import_and_commit(folder)
    revision = current_revision(entry("first-lesson"))
    text = (folder / "lessons/first-lesson.md").read_text()
    document = parse_document(text, "x.md").document
    assert revision.document == serialise_document(document)


def test_stored_rendering_is_on_the_revision(app, folder):
    import_and_commit(folder)
    revision = current_revision(entry("first-lesson"))
    assert set(revision.rendered) == {"driving_event", "lesson", "recommendation", "evidence"}
    evidence = revision.rendered["evidence"]
    assert evidence["html"] == (
        '<p>See <a class="kb-entry-link" href="/papers/board-paper" rel="noopener noreferrer">the board paper</a>.</p>'
    )
    assert evidence["missing_links"] == []
    assert revision.rendered["driving_event"]["html"] == "<p>It happened.</p>"
    review = current_revision(entry("the-review"))
    assert set(review.rendered) == {"body"}
    assert 'href="/papers/board-paper"' in review.rendered["body"]["html"]


def test_pages_show_the_stored_rendering(app, folder):
    """Pages show the HTML saved with the revision; they do not render the text again."""
    import_and_commit(folder)
    revision = current_revision(entry("first-lesson"))
    rendered = {key: dict(value) for key, value in revision.rendered.items()}
    rendered["evidence"]["html"] = '<p class="kb-marker">Stored rendering marker</p>'
    revision.rendered = rendered
    db.session.commit()
    html = app.test_client().get("/lessons/first-lesson").get_data(as_text=True)
    assert "Stored rendering marker" in html
    # The link the text would render to is not there: the page did not render the text itself.
    assert "kb-entry-link" not in html
    assert "the board paper" not in html


def test_reimport_of_unchanged_files_changes_nothing(app, folder):
    import_and_commit(folder)
    before = {
        slug: (e.updated_at, len(e.revisions)) for slug, e in ((e.slug, e) for e in db.session.scalars(select(Entry)))
    }
    report = import_and_commit(folder)
    assert report.created == []
    assert report.updated == []
    assert len(report.unchanged) == 4
    assert report.problems == []
    assert count(Revision) == 4
    after = {e.slug: (e.updated_at, len(e.revisions)) for e in db.session.scalars(select(Entry))}
    assert after == before
    assert count(Theme) == 2
    assert count(Tag) == 3


def test_changed_file_makes_revision_two(app, folder):
    import_and_commit(folder)
    published_at = entry("second-lesson").published_at
    path = folder / "lessons/second-lesson.md"
    path.write_text(path.read_text().replace("Do better.", "Do much better."))
    report = import_and_commit(folder)
    assert report.updated == [display_path(path)]
    assert len(report.unchanged) == 3
    lesson = entry("second-lesson")
    assert [revision.number for revision in lesson.revisions] == [1, 2]
    latest = lesson.revisions[-1]
    assert latest.author_name == "content import"
    assert latest.message == f"Updated from {display_path(path)}"
    assert "Do much better." in latest.document
    assert latest.rendered["recommendation"]["html"] == "<p>Do much better.</p>"
    assert lesson.recommendation == "Do much better."
    assert lesson.published_at == published_at
    assert count(Revision) == 5


def test_whitespace_only_change_to_a_file_makes_no_revision(app, folder):
    import_and_commit(folder)
    path = folder / "lessons/second-lesson.md"
    path.write_text(path.read_text().replace("## Lesson\n", "## Lesson\n\n\n"))
    report = import_and_commit(folder)
    assert report.updated == []
    assert len(entry("second-lesson").revisions) == 1


def test_edit_in_database_is_not_overwritten_by_unchanged_file(app, folder):
    import_and_commit(folder)
    lesson = entry("second-lesson")
    document = parse_document(current_revision(lesson).document, "db").document
    edited = dataclasses.replace(
        document, title="Edited on the site", sections={**document.sections, "lesson": "Edited."}
    )
    apply_document(edited, lesson)
    record_revision(lesson, edited, serialise_document(edited), author_name="Someone", message="Edited on the site")
    db.session.commit()

    report = import_and_commit(folder)
    assert display_path(folder / "lessons/second-lesson.md") in report.unchanged
    lesson = entry("second-lesson")
    assert lesson.title == "Edited on the site"
    assert lesson.lesson_text == "Edited."
    assert [revision.author_name for revision in lesson.revisions] == ["content import", "Someone"]


def test_changed_file_does_replace_a_database_edit(app, folder):
    import_and_commit(folder)
    lesson = entry("second-lesson")
    document = parse_document(current_revision(lesson).document, "db").document
    edited = dataclasses.replace(document, title="Edited on the site")
    apply_document(edited, lesson)
    record_revision(lesson, edited, serialise_document(edited), author_name="Someone", message="Edit")
    db.session.commit()

    path = folder / "lessons/second-lesson.md"
    path.write_text(path.read_text().replace("title: Second lesson", "title: Changed in git"))
    import_and_commit(folder)
    lesson = entry("second-lesson")
    assert lesson.title == "Changed in git"
    assert [revision.number for revision in lesson.revisions] == [1, 2, 3]


def test_kind_change_of_existing_slug_is_refused(app, folder):
    import_and_commit(folder)
    path = folder / "lessons/second-lesson.md"
    text = paper_text("second-lesson", "Now a paper")
    path.write_text(text)
    report = import_and_commit(folder)
    shown = display_path(path)
    assert report.failed == [shown]
    assert [str(problem) for problem in report.problems] == [
        f"{shown}:{line_of(text, 'kind:')}: 'second-lesson' is already a lesson; its kind cannot change to paper"
    ]
    lesson = entry("second-lesson")
    assert isinstance(lesson, Lesson)
    assert lesson.title == "Second lesson"
    assert len(lesson.revisions) == 1


def test_apply_document_refuses_kind_change(app, folder):
    import_and_commit(folder)
    document = parse_document(paper_text("second-lesson"), "x.md").document
    with pytest.raises(KindChangeError):
        apply_document(document, entry("second-lesson"))


def test_free_tags_are_shared_not_duplicated(app, tmp_path):
    root = tmp_path / "c"
    write(root, "lessons/a.md", lesson_text("a", tags=["Shared Tag"]))
    write(root, "lessons/b.md", lesson_text("b", tags=["shared-tag"]))
    import_and_commit(root)
    assert count(Tag) == 1
    assert [tag.slug for tag in entry("a").tags] == [tag.slug for tag in entry("b").tags] == ["shared-tag"]


def test_taxonomy_reimport_updates_labels_and_order(app, tmp_path):
    root = tmp_path / "c"
    write(root, "taxonomy.yaml", TAXONOMY)
    import_and_commit(root)
    swapped = TAXONOMY.replace("label: Procurement\n", "label: Buying services\n")
    first, second = swapped.split("  - slug: readiness")
    write(root, "taxonomy.yaml", "themes:\n  - slug: readiness" + second + first.removeprefix("themes:\n"))
    report = import_and_commit(root)
    assert report.problems == []
    themes = db.session.scalars(select(Theme).order_by(Theme.position)).all()
    assert [(theme.slug, theme.label) for theme in themes] == [
        ("readiness", "Readiness"),
        ("procurement", "Buying services"),
    ]
    assert count(Theme) == 2
    assert count(Tag) == 2


def test_taxonomy_problem_is_reported_with_its_line(app, tmp_path):
    root = tmp_path / "c"
    path = write(root, "taxonomy.yaml", TAXONOMY.replace("slug: go-live", "slug: cost-versus-quality"))
    report = import_and_commit(root)
    assert [str(problem) for problem in report.problems] == [
        f"{display_path(path)}:12: tag 'cost-versus-quality' is listed in more than one place"
    ]
    assert count(Theme) == 2


def test_taxonomy_with_a_repeated_theme_slug_is_reported_not_a_crash(app, tmp_path):
    root = tmp_path / "c"
    write(root, "taxonomy.yaml", TAXONOMY.replace("slug: readiness", "slug: procurement"))
    write(root, "lessons/a.md", lesson_text("a"))
    report = import_directory(root)
    db.session.commit()
    assert report.problems, "a repeated theme slug must be reported"
    assert count(Theme) == 1
    assert count(Entry) == 1


# --- A folder with problems -----------------------------------------------------


@pytest.fixture
def mixed_folder(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """Good files and one bad file per kind of problem."""
    root = tmp_path / "mixed"
    write(root, "taxonomy.yaml", TAXONOMY)
    texts = {
        "papers/good-paper.md": paper_text("good-paper", "Good paper"),
        "lessons/good-lesson.md": lesson_text("good-lesson", "Good lesson", source="good-paper"),
        "reviews/good-review.md": review_text("good-review", "Good review", see_also=["good-lesson"]),
        "lessons/unknown-kind.md": lesson_text("unknown-kind").replace("kind: lesson", "kind: memo"),
        "lessons/missing-title.md": lesson_text("missing-title").replace("title: Lesson missing-title\n", ""),
        "lessons/bad-date.md": lesson_text("bad-date", region="England", event_date="2013-13-01"),
        "lessons/unknown-link.md": lesson_text("unknown-link", evidence="Read [[no-such-entry]]."),
        "lessons/unknown-source.md": lesson_text("unknown-source", source="nowhere"),
        "papers/dup-one.md": paper_text("duplicate"),
        "reviews/dup-two.md": review_text("duplicate"),
        "papers/bad-yaml.md": paper_text("bad-yaml", organisation="NHS: England", region="England"),
    }
    for relative, text in texts.items():
        write(root, relative, text)
    return root, texts


def test_every_bad_file_is_reported_with_its_line(app, mixed_folder):
    root, texts = mixed_folder
    report = import_and_commit(root)
    shown = {relative: display_path(root / relative) for relative in texts}
    problems = {str(problem) for problem in report.problems}

    def expect(relative: str, line: int, message: str) -> None:
        wanted = f"{shown[relative]}:{line}: {message}"
        assert any(problem.startswith(wanted) for problem in problems), f"{wanted!r} not in {sorted(problems)}"

    expect("lessons/unknown-kind.md", 2, "unknown kind: 'memo' is not one of")
    expect("lessons/missing-title.md", 1, "missing title")
    expect("lessons/bad-date.md", line_of(texts["lessons/bad-date.md"], "event_date:"), "event_date: bad date:")
    expect(
        "lessons/unknown-link.md",
        line_of(texts["lessons/unknown-link.md"], "Read [[no-such-entry]]"),
        "link to unknown entry 'no-such-entry'",
    )
    expect(
        "lessons/unknown-source.md",
        line_of(texts["lessons/unknown-source.md"], "source:"),
        "link to unknown entry 'nowhere'",
    )
    expect("papers/dup-one.md", 1, "duplicate slug 'duplicate': also used by " + shown["reviews/dup-two.md"])
    expect("reviews/dup-two.md", 1, "duplicate slug 'duplicate': also used by " + shown["papers/dup-one.md"])
    expect("papers/bad-yaml.md", line_of(texts["papers/bad-yaml.md"], "organisation:"), "bad YAML")

    bad = [relative for relative in texts if not relative.split("/")[1].startswith("good")]
    assert sorted(report.failed) == sorted(shown[relative] for relative in bad)
    assert len(report.failed) == len(set(report.failed))
    assert sorted(report.created) == sorted(shown[r] for r in texts if r.split("/")[1].startswith("good"))
    assert report.summary() == f"{len(texts)} files: 3 created, 0 updated, 0 unchanged, {len(bad)} failed"

    assert {e.slug for e in db.session.scalars(select(Entry))} == {"good-paper", "good-lesson", "good-review"}
    assert links_of("good-lesson") == {("good-paper", "source")}
    assert links_of("good-review") == {("good-lesson", "see_also")}


def test_every_problem_has_path_line_message_form(app, mixed_folder):
    root, _ = mixed_folder
    report = import_and_commit(root)
    assert report.problems
    for problem in report.problems:
        path, line, message = str(problem).split(":", 2)
        assert Path(path).suffix == ".md"
        assert int(line) >= 1
        assert message.startswith(" ")
        assert message.strip()


def test_link_to_a_file_that_failed_is_reported_too(app, tmp_path):
    root = tmp_path / "cascade"
    broken = write(root, "papers/broken.md", paper_text("broken").replace("kind: paper", "kind: memo"))
    middle_text = lesson_text("middle", source="broken")
    middle = write(root, "lessons/middle.md", middle_text)
    top_text = lesson_text("top", evidence="Builds on [[middle]].")
    top = write(root, "lessons/top.md", top_text)
    write(root, "lessons/fine.md", lesson_text("fine"))
    report = import_and_commit(root)
    problems = [str(problem) for problem in report.problems]
    assert any(problem.startswith(f"{display_path(broken)}:2: unknown kind") for problem in problems)
    assert f"{display_path(middle)}:{line_of(middle_text, 'source:')}: link to unknown entry 'broken'" in problems
    assert f"{display_path(top)}:{line_of(top_text, 'Builds on')}: link to unknown entry 'middle'" in problems
    assert sorted(report.failed) == sorted(display_path(path) for path in (broken, middle, top))
    assert {e.slug for e in db.session.scalars(select(Entry))} == {"fine"}


def test_link_to_an_entry_already_in_the_database_is_fine(app, tmp_path):
    write(tmp_path, "first/papers/stored.md", paper_text("stored"))
    import_and_commit(tmp_path / "first")
    write(tmp_path, "second/lessons/new.md", lesson_text("new", source="stored"))
    report = import_and_commit(tmp_path / "second")
    assert report.problems == []
    assert links_of("new") == {("stored", "source")}


def test_links_between_files_in_one_import_resolve_whatever_the_order(app, tmp_path):
    root = tmp_path / "c"
    # "a-lesson" sorts before "z-paper", so the link target is created later in the same import.
    write(root, "lessons/a-lesson.md", lesson_text("a-lesson", evidence="See [[z-paper]]."))
    write(root, "papers/z-paper.md", paper_text("z-paper", "Zed paper", body="Back to [[a-lesson]]."))
    import_and_commit(root)
    lesson_html = current_revision(entry("a-lesson")).rendered["evidence"]["html"]
    paper_html = current_revision(entry("z-paper")).rendered["body"]["html"]
    assert 'href="/papers/z-paper"' in lesson_html
    assert "Zed paper" in lesson_html
    assert "kb-missing-link" not in lesson_html
    assert 'href="/lessons/a-lesson"' in paper_html
    assert links_of("a-lesson") == {("z-paper", "mention")}
    assert links_of("z-paper") == {("a-lesson", "mention")}


def test_link_to_itself_is_not_stored(app, tmp_path):
    write(tmp_path, "c/papers/p.md", paper_text("p", body="This paper: [[p]].", see_also=["p"]))
    report = import_and_commit(tmp_path / "c")
    assert report.problems == []
    assert links_of("p") == set()


def test_file_that_is_not_utf8_is_reported(app, tmp_path):
    root = tmp_path / "c"
    path = root / "papers" / "latin.md"
    path.parent.mkdir(parents=True)
    path.write_bytes(paper_text("latin", "Caf\xe9").encode("latin-1"))
    write(root, "papers/ok.md", paper_text("ok"))
    report = import_and_commit(root)
    assert [str(problem).split(":")[:2] for problem in report.problems] == [[display_path(path), "1"]]
    assert "not UTF-8" in report.problems[0].message
    assert report.failed == [display_path(path)]
    assert {e.slug for e in db.session.scalars(select(Entry))} == {"ok"}


def test_only_markdown_files_are_read(app, tmp_path):
    root = tmp_path / "c"
    write(root, "papers/a.md", paper_text("a"))
    write(root, "papers/notes.txt", "not content")
    write(root, "deep/down/b.md", paper_text("b"))
    report = import_and_commit(root)
    assert len(report.created) == 2
    assert {e.slug for e in db.session.scalars(select(Entry))} == {"a", "b"}


def test_import_does_not_commit(app, folder):
    import_directory(folder)
    db.session.rollback()
    assert count(Entry) == 0


def test_draft_file_gets_no_published_time(app, tmp_path):
    write(tmp_path, "c/papers/d.md", paper_text("d", status="draft"))
    import_and_commit(tmp_path / "c")
    draft = entry("d")
    assert draft.status == "draft"
    assert draft.published_at is None


def test_links_count_per_relation(app, folder):
    import_and_commit(folder)
    relations = dict(db.session.execute(select(EntryLink.relation, func.count()).group_by(EntryLink.relation)).all())
    assert relations == {"source": 2, "see_also": 1, "mention": 2}


@pytest.mark.parametrize("character", ["\x00", "\x1b", "\x7f", "\x85"])
def test_a_file_with_a_forbidden_character_is_reported_with_its_line_and_the_rest_still_load(
    app, folder: Path, character: str
) -> None:
    write(folder, "papers/bad-paper.md", paper_text("bad-paper", "Bad paper", body=f"Fine.\n\nBro{character}ken."))
    report = import_directory(folder)
    (problem,) = [problem for problem in report.problems if "bad-paper" in problem.path]
    assert f"U+{ord(character):04X}" in problem.message
    text = (folder / "papers/bad-paper.md").read_text(encoding="utf-8")
    assert problem.line == next(number for number, line in enumerate(text.split("\n"), 1) if character in line)
    assert any("bad-paper" in path for path in report.failed)
    db.session.commit()
    assert db.session.scalar(select(Entry).where(Entry.slug == "bad-paper")) is None
    assert entry("first-lesson").title == "First lesson"


def test_a_taxonomy_with_a_forbidden_character_is_reported(app, folder: Path) -> None:
    write(folder, "taxonomy.yaml", TAXONOMY + "# a comment with a NUL \x00\n")
    report = import_directory(folder)
    assert any(problem.path.endswith("taxonomy.yaml") and "U+0000" in problem.message for problem in report.problems)
    assert entry("first-lesson").title == "First lesson"


def test_titles_and_tags_lose_invisible_characters_and_fold_case(app, folder: Path) -> None:
    write(
        folder,
        "papers/folded.md",
        paper_text("folded", "Bidi\u202e title\u200b", tags=["Straße", "STRASSE", "İstanbul"]),
    )
    report = import_directory(folder)
    assert not [problem for problem in report.problems if "folded" in problem.path]
    db.session.commit()
    paper = entry("folded")
    assert paper.title == "Bidi title"
    assert sorted(tag.slug for tag in paper.tags) == ["istanbul", "strasse"]


def test_a_panel_paper_shows_its_link_to_another_paper_of_the_same_panel_on_first_import(app, tmp_path):
    """Papers are read before their review; the link must not be judged before either knows its review."""
    root = tmp_path / "panel"
    write(root, "taxonomy.yaml", TAXONOMY)
    panel = {"visibility": "panel", "review": "the-review"}
    write(root, "papers/a-note.md", paper_text("a-note", "A note", body="See [[b-note]].", **panel))
    write(root, "papers/b-note.md", paper_text("b-note", "B note", body="See [[a-note]].", **panel))
    write(root, "reviews/the-review.md", review_text("the-review", "The review"))
    import_and_commit(root)
    for slug, other in (("a-note", "B note"), ("b-note", "A note")):
        html = current_revision(entry(slug)).rendered["body"]["html"]
        assert "kb-restricted-link" not in html, html
        assert f">{other}</a>" in html, html
