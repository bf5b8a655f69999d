"""Citing evidence from findings: who may cite what, paragraph citations that survive edits, cited-by, export."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, select

from kb.audit.models import AuditEvent
from kb.content.document import parse_document
from kb.content.service import import_directory
from kb.extensions import db
from kb.panels.citation_view import HELD_BY_PANEL, shown_citations
from kb.panels.citations import (
    CitationError,
    add_citation,
    move_citation,
    paper_paragraphs,
    remove_citation,
)
from kb.panels.cited_by import findings_citing
from kb.panels.export import export_review
from kb.panels.service import agree_finding, propose_agreement
from kb.paragraphs import CHANGED, EXACT, GONE
from kb.permissions import ANONYMOUS, PermissionDeniedError, viewer_for
from tests.accounts import Cast, make_user
from tests.citation_factory import (
    CITED,
    PANEL_NOTE_SLUG,
    PARAGRAPHS,
    add_paper_and_lesson,
    draft_finding,
    edit_paper,
    publish,
    second_member,
    submitted_response,
)
from tests.conftest import make_app
from tests.factories import add_comment, entry


def _anchor_of(paper, text: str) -> str:
    return next(paragraph.anchor for paragraph in paper_paragraphs(paper) if paragraph.text == text)


def _resolution(cast: Cast, finding):
    db.session.expire_all()
    (shown,) = shown_citations(viewer_for(cast.panel), finding.citations)
    return shown.resolution


def test_a_cited_paragraph_survives_edits_elsewhere_and_shows_when_it_changes(tmp_path: Path, cast: Cast) -> None:
    paper, _ = add_paper_and_lesson(tmp_path, cast)
    finding = draft_finding(cast)
    anchor = _anchor_of(paper, CITED)
    citation = add_citation(finding, actor=cast.panel, kind="paragraph", entry=paper, anchor=anchor)
    db.session.commit()
    assert (citation.paragraph_anchor, citation.quote) == (anchor, CITED)

    reworded_others = ["A paragraph added before everything else.", "Go-live dates were fixed too early.", CITED]
    edit_paper(tmp_path, cast, [*reworded_others, "Dispatches went up sharply.", "A closing paragraph."])
    resolution = _resolution(cast, finding)
    assert resolution.state == EXACT
    assert resolution.current.anchor == anchor

    changed = "Call handlers followed scripts written for a national service, and lacked local knowledge."
    edit_paper(tmp_path, cast, ["A paragraph added before everything else.", changed])
    resolution = _resolution(cast, finding)
    assert resolution.state == CHANGED
    assert resolution.current.text == changed
    assert resolution.quote == CITED

    edit_paper(tmp_path, cast, ["Only a note on staffing rotas is left in this paper."])
    resolution = _resolution(cast, finding)
    assert resolution.state == GONE
    assert resolution.quote == CITED


def test_only_the_panel_and_staff_cite_and_only_what_they_may_see(tmp_path: Path, cast: Cast) -> None:
    paper, lesson = add_paper_and_lesson(tmp_path, cast)
    finding = draft_finding(cast)
    for outsider in (cast.member, cast.other_panel, cast.author):
        with pytest.raises(PermissionDeniedError):
            add_citation(finding, actor=outsider, kind="entry", entry=lesson)
    other_panels_paper = entry("lessons-review-panel-evidence-to-gather")
    with pytest.raises(PermissionDeniedError):
        add_citation(finding, actor=cast.panel, kind="entry", entry=other_panels_paper)
    assert add_citation(finding, actor=cast.moderator, kind="entry", entry=lesson).position == 0
    assert add_citation(finding, actor=cast.panel, kind="entry", entry=paper).position == 1


def test_bad_citations_are_refused_with_a_reason(tmp_path: Path, cast: Cast) -> None:
    paper, lesson = add_paper_and_lesson(tmp_path, cast)
    finding = draft_finding(cast)
    add_citation(finding, actor=cast.panel, kind="entry", entry=lesson)
    with pytest.raises(CitationError, match="already cites"):
        add_citation(finding, actor=cast.panel, kind="entry", entry=lesson)
    with pytest.raises(CitationError, match="no longer in the paper"):
        add_citation(finding, actor=cast.panel, kind="paragraph", entry=paper, anchor="p-00000000")
    with pytest.raises(CitationError, match="lessons and papers"):
        add_citation(finding, actor=cast.panel, kind="entry", entry=cast.other_review)
    with pytest.raises(CitationError):
        add_citation(finding, actor=cast.panel, kind="nonsense", entry=lesson)


def test_comments_the_citer_may_not_read_are_refused(tmp_path: Path, cast: Cast) -> None:
    _, lesson = add_paper_and_lesson(tmp_path, cast)
    finding = draft_finding(cast)
    visible = add_comment(lesson, cast.member, "The directory was months out of date.")
    hidden = add_comment(lesson, cast.member, "Something a moderator hid.", status="hidden")
    citation = add_citation(finding, actor=cast.panel, kind="comment", comment=visible)
    assert citation.quote == "The directory was months out of date."
    with pytest.raises(PermissionDeniedError):
        add_citation(finding, actor=cast.panel, kind="comment", comment=hidden)


def test_responses_are_cited_only_when_submitted_readable_and_on_this_review(tmp_path: Path, cast: Cast) -> None:
    paper, _ = add_paper_and_lesson(tmp_path, cast)
    finding = draft_finding(cast)
    on_paper = submitted_response(paper, cast.member)
    assert add_citation(finding, actor=cast.panel, kind="response", response=on_paper).response_id == on_paper.id
    draft = submitted_response(cast.review, cast.author, status="draft")
    with pytest.raises(PermissionDeniedError):
        add_citation(finding, actor=cast.panel, kind="response", response=draft)
    elsewhere = submitted_response(cast.other_review, cast.member)
    with pytest.raises(CitationError, match="this review or its papers"):
        add_citation(finding, actor=cast.moderator, kind="response", response=elsewhere)


def test_move_and_remove_renumber_and_are_audited(tmp_path: Path, cast: Cast) -> None:
    paper, lesson = add_paper_and_lesson(tmp_path, cast)
    finding = draft_finding(cast)
    first = add_citation(finding, actor=cast.panel, kind="entry", entry=lesson)
    second = add_citation(finding, actor=cast.panel, kind="entry", entry=paper)
    third = add_citation(finding, actor=cast.panel, kind="paragraph", entry=paper, anchor=_anchor_of(paper, CITED))
    db.session.commit()
    assert move_citation(third, actor=cast.panel, offset=-1)
    assert not move_citation(first, actor=cast.panel, offset=-1)
    assert [c.id for c in sorted(finding.citations, key=lambda c: c.position)] == [first.id, third.id, second.id]
    remove_citation(first, actor=cast.panel)
    db.session.commit()
    assert [(c.id, c.position) for c in sorted(finding.citations, key=lambda c: c.position)] == [
        (third.id, 0),
        (second.id, 1),
    ]
    with pytest.raises(PermissionDeniedError):
        remove_citation(second, actor=cast.member)
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("citation.%"))))
    assert actions == ["citation.add", "citation.add", "citation.add", "citation.move", "citation.remove"]


def test_published_findings_keep_their_citations(tmp_path: Path, cast: Cast) -> None:
    _, lesson = add_paper_and_lesson(tmp_path, cast)
    finding = draft_finding(cast)
    citation = add_citation(finding, actor=cast.panel, kind="entry", entry=lesson)
    db.session.commit()
    publish(cast, finding)
    with pytest.raises(CitationError, match="published"):
        remove_citation(citation, actor=cast.panel)


def test_changing_citations_reopens_agreement(tmp_path: Path, cast: Cast) -> None:
    paper, lesson = add_paper_and_lesson(tmp_path, cast)
    finding = draft_finding(cast)
    citation = add_citation(finding, actor=cast.panel, kind="entry", entry=lesson)
    propose_agreement(finding, actor=cast.panel)
    db.session.commit()
    add_citation(finding, actor=cast.panel, kind="entry", entry=paper)
    assert finding.agreement_proposed_by_id is None
    propose_agreement(finding, actor=cast.panel)
    agree_finding(finding, actor=second_member(cast))
    db.session.commit()
    assert finding.status == "agreed"
    remove_citation(citation, actor=cast.panel)
    db.session.commit()
    assert (finding.status, finding.agreed_by_id) == ("draft", None)


def test_cited_by_shows_only_findings_the_viewer_may_read(tmp_path: Path, cast: Cast) -> None:
    paper, lesson = add_paper_and_lesson(tmp_path, cast)
    finding = draft_finding(cast)
    comment = add_comment(lesson, cast.member, "Seen in our area too.")
    add_citation(finding, actor=cast.panel, kind="entry", entry=lesson)
    add_citation(finding, actor=cast.panel, kind="paragraph", entry=paper, anchor=_anchor_of(paper, CITED))
    add_citation(finding, actor=cast.panel, kind="comment", comment=comment)
    db.session.commit()

    asked = {"entry_ids": [lesson.id, paper.id], "comment_ids": [comment.id]}
    panel = findings_citing(viewer_for(cast.panel), **asked)
    assert [f.number for f in panel.entries[lesson.id]] == [finding.number]
    assert panel.entries[paper.id][0].label == f"finding {finding.number} of {cast.review.title}"
    assert list(panel.paragraphs[paper.id]) == [_anchor_of(paper, CITED)]
    assert panel.comments[comment.id][0].link == f"/reviews/{cast.review.slug}/findings/{finding.number}"
    for outsider in (ANONYMOUS, viewer_for(cast.member), viewer_for(cast.other_panel)):
        seen = findings_citing(outsider, **asked)
        assert (seen.entries, seen.paragraphs, seen.comments) == ({}, {}, {})

    publish(cast, finding)
    member = findings_citing(viewer_for(cast.member), **asked)
    assert [f.number for f in member.entries[lesson.id]] == [finding.number]
    assert member.comments[comment.id][0].link.endswith(f"/report#finding-{finding.number}")


def test_cited_by_is_one_query_however_many_items(tmp_path: Path, seeded_app: Flask, cast: Cast) -> None:
    paper, lesson = add_paper_and_lesson(tmp_path, cast)
    finding = draft_finding(cast)
    comments = [add_comment(lesson, cast.member, f"Comment {n}") for n in range(5)]
    for comment in comments:
        add_citation(finding, actor=cast.panel, kind="comment", comment=comment)
    add_citation(finding, actor=cast.panel, kind="entry", entry=lesson)
    db.session.commit()
    viewer = viewer_for(cast.panel)

    def queries_for(**asked: list[int]) -> int:
        statements: list[str] = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            findings_citing(viewer, **asked)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    one = queries_for(entry_ids=[lesson.id], comment_ids=[comments[0].id])
    many = queries_for(entry_ids=[lesson.id, paper.id], comment_ids=[c.id for c in comments], response_ids=[1, 2])
    assert one == many == 1


def test_readers_see_sources_they_may_not_read_as_held_by_the_panel(tmp_path: Path, cast: Cast) -> None:
    add_paper_and_lesson(tmp_path, cast)
    finding = draft_finding(cast)
    panel_paper = entry(PANEL_NOTE_SLUG)
    add_citation(finding, actor=cast.panel, kind="entry", entry=panel_paper)
    response = submitted_response(cast.review, cast.author)
    add_citation(finding, actor=cast.panel, kind="response", response=response)
    db.session.commit()
    shown = shown_citations(viewer_for(cast.member), finding.citations)
    assert [(item.title, item.link, item.quote) for item in shown] == [
        (HELD_BY_PANEL, None, ""),
        (HELD_BY_PANEL, None, ""),
    ]
    assert shown_citations(viewer_for(cast.panel), finding.citations)[0].title == panel_paper.title


def test_the_export_holds_the_findings_as_footnotes_and_imports_back(
    tmp_path: Path, seeded_database: Path, cast: Cast
) -> None:
    paper, lesson = add_paper_and_lesson(tmp_path / "content", cast)
    finding = draft_finding(cast)
    add_citation(finding, actor=cast.panel, kind="entry", entry=lesson)
    add_citation(finding, actor=cast.panel, kind="paragraph", entry=paper, anchor=_anchor_of(paper, CITED))
    add_citation(finding, actor=cast.panel, kind="entry", entry=entry(PANEL_NOTE_SLUG))
    db.session.commit()
    publish(cast, finding)

    member_zip = zipfile.ZipFile(io.BytesIO(export_review(viewer_for(cast.member), cast.review)))
    names = sorted(member_zip.namelist())
    assert names == sorted([f"reviews/{cast.review.slug}.md", f"lessons/{lesson.slug}.md", f"papers/{paper.slug}.md"])
    review_file = member_zip.read(f"reviews/{cast.review.slug}.md").decode()
    assert "## Findings" in review_file
    assert f"### Finding {finding.number}: {finding.title}" in review_file
    assert f"[^finding-{finding.number}-1]: [[{lesson.slug}]]." in review_file
    assert f"[[{paper.slug}]], the paragraph “{CITED}”" in review_file
    assert f"[^finding-{finding.number}-3]: {HELD_BY_PANEL}." in review_file
    assert PANEL_NOTE_SLUG not in review_file
    for name in names:
        parsed = parse_document(member_zip.read(name).decode(), name)
        assert parsed.problems == []

    folder = tmp_path / "unzipped"
    member_zip.extractall(folder)
    other = make_app(tmp_path / "other", seeded_database)
    with other.app_context():
        report = import_directory(folder)
        assert [str(problem) for problem in report.problems] == []
        db.session.commit()
        review_text = db.session.scalar(select_review_document(cast.review.slug))
        assert f"### Finding {finding.number}" in review_text
        db.session.remove()
        db.engine.dispose()


def select_review_document(slug: str):
    """The current document of the entry with this slug."""
    from kb.entries.models import Entry, Revision

    return (
        select(Revision.document)
        .join(Entry, Entry.id == Revision.entry_id)
        .where(Entry.slug == slug)
        .order_by(Revision.number.desc())
        .limit(1)
    )


def test_panel_members_export_drafts_and_everything_they_may_see(tmp_path: Path, cast: Cast) -> None:
    add_paper_and_lesson(tmp_path, cast)
    finding = draft_finding(cast)
    panel_paper = entry(PANEL_NOTE_SLUG)
    add_citation(finding, actor=cast.panel, kind="entry", entry=panel_paper)
    db.session.commit()
    archive = zipfile.ZipFile(io.BytesIO(export_review(viewer_for(cast.panel), cast.review)))
    assert f"papers/{panel_paper.slug}.md" in archive.namelist()
    assert "(draft)" in archive.read(f"reviews/{cast.review.slug}.md").decode()
    member = zipfile.ZipFile(io.BytesIO(export_review(viewer_for(cast.member), cast.review)))
    assert member.namelist() == [f"reviews/{cast.review.slug}.md"]
    assert "## Findings" not in member.read(f"reviews/{cast.review.slug}.md").decode()


def test_a_second_panel_member_may_cite_too(tmp_path: Path, cast: Cast) -> None:
    _, lesson = add_paper_and_lesson(tmp_path, cast)
    finding = draft_finding(cast)
    colleague = make_user("colleague@example.org", panels=(cast.review,))
    assert add_citation(finding, actor=colleague, kind="entry", entry=lesson).created_by_id == colleague.id
    assert PARAGRAPHS[0] in [p.text for p in paper_paragraphs(entry("panel-evidence-on-call-handling"))]
