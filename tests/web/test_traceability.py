"""Citing from a finding page, cited-by on entries and comments, the matrix, the report and the export, by role."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from kb.extensions import db
from kb.panels.citations import add_citation, paper_paragraphs
from kb.panels.models import Citation
from tests.accounts import Cast, client_for, csrf_token, page_text, post_form
from tests.citation_factory import CITED, PANEL_NOTE_SLUG, add_paper_and_lesson, draft_finding, publish
from tests.factories import add_comment, entry


def _finding_url(cast: Cast, number: int = 1, tail: str = "") -> str:
    return f"/reviews/{cast.review.slug}/findings/{number}{tail}"


def _cite(client: FlaskClient, cast: Cast, **fields: str):
    page = _finding_url(cast, 1, "/cite")
    return post_form(client, _finding_url(cast, 1, "/citations"), fields, page=page)


def _anchor(paper) -> str:
    return next(p.anchor for p in paper_paragraphs(paper) if p.text == CITED)


def test_the_picker_is_for_the_panel_and_staff_only(tmp_path: Path, seeded_app: Flask, cast: Cast) -> None:
    add_paper_and_lesson(tmp_path, cast)
    draft_finding(cast)
    for outsider in (None, cast.member, cast.other_panel):
        client = client_for(seeded_app, outsider)
        assert client.get(_finding_url(cast, 1, "/cite?q=scripts")).status_code == 404
        assert client.get(_finding_url(cast, 1, "/cite/scripts-need-local-knowledge")).status_code == 404
    for insider in (cast.panel, cast.moderator):
        assert client_for(seeded_app, insider).get(_finding_url(cast, 1, "/cite")).status_code == 200


def test_a_panel_member_searches_cites_and_sees_cited_by(tmp_path: Path, seeded_app: Flask, cast: Cast) -> None:
    _, lesson = add_paper_and_lesson(tmp_path, cast)
    draft_finding(cast)
    panel = client_for(seeded_app, cast.panel)
    finding_page = page_text(panel.get(_finding_url(cast)))
    assert "Evidence cited" in finding_page
    assert "This finding cites no evidence yet." in finding_page
    results = page_text(panel.get(_finding_url(cast, 1, "/cite?q=local+directories")))
    assert "Scripts need local knowledge" in results
    assert f'name="target" value="{lesson.id}"' in results

    response = _cite(panel, cast, kind="entry", target=str(lesson.id))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(_finding_url(cast, 1) + "#citations")
    shown = page_text(panel.get(_finding_url(cast)))
    assert f'<a href="{lesson.path}">Scripts need local knowledge</a>' in shown
    assert "Finding 1 now cites it" in shown

    lesson_page = page_text(panel.get(lesson.path))
    assert "Cited by <a" in lesson_page
    assert f"finding 1 of {cast.review.title}" in lesson_page
    for outsider in (None, cast.member, cast.other_panel):
        assert f"finding 1 of {cast.review.title}" not in page_text(client_for(seeded_app, outsider).get(lesson.path))


def test_outsiders_cannot_cite_and_bad_input_comes_back_with_a_message(
    tmp_path: Path, seeded_app: Flask, cast: Cast
) -> None:
    _, lesson = add_paper_and_lesson(tmp_path, cast)
    draft_finding(cast)
    member = client_for(seeded_app, cast.member)
    token = csrf_token(member.get(lesson.path).get_data(as_text=True))
    refused = member.post(
        _finding_url(cast, 1, "/citations"), data={"csrf_token": token, "kind": "entry", "target": str(lesson.id)}
    )
    assert refused.status_code == 404
    panel = client_for(seeded_app, cast.panel)
    for fields in ({"kind": "entry", "target": "abc"}, {"kind": "poem", "target": str(lesson.id)}, {"kind": "entry"}):
        response = _cite(panel, cast, **fields)
        assert response.status_code == 303
        assert response.headers["Location"].endswith("/cite")
    assert "Choose something to cite." in page_text(panel.get(_finding_url(cast, 1, "/cite")))
    hidden = entry("lessons-review-panel-evidence-to-gather")
    assert _cite(panel, cast, kind="entry", target=str(hidden.id)).status_code == 404
    _cite(panel, cast, kind="entry", target=str(lesson.id))
    _cite(panel, cast, kind="entry", target=str(lesson.id))
    assert "Finding 1 already cites this." in page_text(panel.get(_finding_url(cast, 1, "/cite")))
    assert db.session.query(Citation).count() == 1


def test_a_paragraph_is_cited_from_the_paper_and_marked_on_it(tmp_path: Path, seeded_app: Flask, cast: Cast) -> None:
    paper, _ = add_paper_and_lesson(tmp_path, cast)
    draft_finding(cast)
    panel = client_for(seeded_app, cast.panel)
    picker = page_text(panel.get(_finding_url(cast, 1, f"/cite/{paper.slug}")))
    assert CITED in picker
    anchor = _anchor(paper)
    assert f'name="anchor" value="{anchor}"' in picker
    _cite(panel, cast, kind="paragraph", target=str(paper.id), anchor=anchor)
    paper_page = page_text(panel.get(paper.path))
    assert re.search(
        rf'<p id="{anchor}"><strong class="kb-cited-mark">Cited by <a href="[^"]+">finding 1 of ', paper_page
    )
    assert f'href="{paper.path}#{anchor}"' in page_text(panel.get(_finding_url(cast)))
    assert "kb-cited-mark" not in page_text(client_for(seeded_app, cast.member).get(paper.path))


def test_a_cited_comment_says_so_in_the_thread(tmp_path: Path, seeded_app: Flask, cast: Cast) -> None:
    _, lesson = add_paper_and_lesson(tmp_path, cast)
    draft_finding(cast)
    comment = add_comment(lesson, cast.member, "Our directory was a year out of date.")
    panel = client_for(seeded_app, cast.panel)
    assert "Our directory was a year out of date." in page_text(
        panel.get(_finding_url(cast, 1, f"/cite/{lesson.slug}"))
    )
    _cite(panel, cast, kind="comment", target=str(comment.id))
    thread = page_text(panel.get(lesson.path))
    assert re.search(r'class="kb-comment__cited">Cited by <a href="[^"]+">finding 1 of ', thread)
    assert "kb-comment__cited" not in page_text(client_for(seeded_app, cast.member).get(lesson.path))
    branch = f"/comments/{comment.id}/thread"
    assert re.search(r'class="kb-comment__cited">Cited by <a href="[^"]+">finding 1 of ', page_text(panel.get(branch)))
    assert "kb-comment__cited" not in page_text(client_for(seeded_app, cast.member).get(branch))


def test_citations_are_reordered_and_removed(tmp_path: Path, seeded_app: Flask, cast: Cast) -> None:
    paper, lesson = add_paper_and_lesson(tmp_path, cast)
    finding = draft_finding(cast)
    first = add_citation(finding, actor=cast.panel, kind="entry", entry=lesson)
    second = add_citation(finding, actor=cast.panel, kind="entry", entry=paper)
    db.session.commit()
    panel = client_for(seeded_app, cast.panel)
    page = _finding_url(cast)
    moved = post_form(panel, _finding_url(cast, 1, f"/citations/{second.id}/move"), {"direction": "up"}, page=page)
    assert moved.status_code == 303
    text = page_text(panel.get(page))
    assert text.index(paper.title) < text.index("Scripts need local knowledge")
    post_form(panel, _finding_url(cast, 1, f"/citations/{first.id}/remove"), {}, page=page)
    db.session.expire_all()
    assert [c.id for c in db.session.query(Citation)] == [second.id]
    member = client_for(seeded_app, cast.member)
    token = csrf_token(member.get(lesson.path).get_data(as_text=True))
    removal = member.post(_finding_url(cast, 1, f"/citations/{second.id}/remove"), data={"csrf_token": token})
    assert removal.status_code == 404


def _matrix(cast: Cast) -> str:
    return f"/reviews/{cast.review.slug}/matrix"


def test_the_matrix_shows_the_panel_its_drafts_and_readers_only_what_is_published(
    tmp_path: Path, seeded_app: Flask, cast: Cast
) -> None:
    paper, lesson = add_paper_and_lesson(tmp_path, cast)
    finding = draft_finding(cast)
    add_citation(finding, actor=cast.panel, kind="entry", entry=lesson)
    add_citation(finding, actor=cast.panel, kind="paragraph", entry=paper, anchor=_anchor(paper))
    add_citation(finding, actor=cast.panel, kind="entry", entry=entry(PANEL_NOTE_SLUG))
    db.session.commit()
    for outsider in (None, cast.member):
        assert client_for(seeded_app, outsider).get(_matrix(cast)).status_code == 404
    panel = page_text(client_for(seeded_app, cast.panel).get(_matrix(cast)))
    assert "<caption" in panel
    assert '<th scope="col" class="nhsuk-table__header"><abbr title="Finding 1:' in panel
    assert re.search(
        r'<th scope="row" class="nhsuk-table__header kb-matrix__source"><a href="[^"]+">Scripts need', panel
    )
    assert "Cited: 1 paragraph" in panel
    assert "Panel note on the scripts" in panel

    second = draft_finding(cast, "A second finding")
    publish(cast, finding, second)
    member = page_text(client_for(seeded_app, cast.member).get(_matrix(cast)))
    assert "Scripts need local knowledge" in member
    assert "Panel note on the scripts" not in member
    assert "Evidence held by the panel" in member
    assert "Not cited" in member


def test_the_report_is_the_panels_draft_until_published_and_hides_what_readers_may_not_see(
    tmp_path: Path, seeded_app: Flask, cast: Cast
) -> None:
    paper, lesson = add_paper_and_lesson(tmp_path, cast)
    finding = draft_finding(cast)
    add_citation(finding, actor=cast.panel, kind="entry", entry=lesson)
    add_citation(finding, actor=cast.panel, kind="entry", entry=entry(PANEL_NOTE_SLUG))
    add_citation(finding, actor=cast.panel, kind="paragraph", entry=paper, anchor=_anchor(paper))
    db.session.commit()
    report = f"/reviews/{cast.review.slug}/report"
    for anyone in (None, cast.member, cast.other_panel):
        assert client_for(seeded_app, anyone).get(report).status_code == 404
    for insider in (cast.panel, cast.moderator):
        assert "<strong>DRAFT</strong>" in page_text(client_for(seeded_app, insider).get(report))
    publish(cast, finding)
    reader = page_text(client_for(seeded_app).get(report))
    assert "Finding 1: Scripts did not know the area" in reader
    assert "Keep directories current." in reader
    assert '<li id="finding-1-note-1">' in reader
    assert f'<a href="{lesson.path}">Scripts need local knowledge</a>' in reader
    assert '<li id="finding-1-note-2">\n    Evidence held by the panel' in reader
    assert "Panel note on the scripts" not in reader
    assert f'href="{paper.path}#{_anchor(paper)}"' in reader
    assert f"“{CITED}”" in reader
    assert "Panel note on the scripts" in page_text(client_for(seeded_app, cast.panel).get(report))


def test_the_export_is_for_the_panel_until_published_then_for_readers(
    tmp_path: Path, seeded_app: Flask, cast: Cast
) -> None:
    _, lesson = add_paper_and_lesson(tmp_path, cast)
    finding = draft_finding(cast)
    add_citation(finding, actor=cast.panel, kind="entry", entry=lesson)
    add_citation(finding, actor=cast.panel, kind="entry", entry=entry(PANEL_NOTE_SLUG))
    db.session.commit()
    path = f"/reviews/{cast.review.slug}/export.zip"
    assert client_for(seeded_app, cast.member).get(path).status_code == 404
    panel = client_for(seeded_app, cast.panel).get(path)
    assert panel.status_code == 200
    assert panel.mimetype == "application/zip"
    assert f"papers/{PANEL_NOTE_SLUG}.md" in zipfile.ZipFile(io.BytesIO(panel.data)).namelist()
    publish(cast, finding)
    reader = client_for(seeded_app).get(path)
    names = zipfile.ZipFile(io.BytesIO(reader.data)).namelist()
    assert sorted(names) == sorted([f"reviews/{cast.review.slug}.md", f"lessons/{lesson.slug}.md"])


def test_the_workspace_links_to_the_matrix_and_export(seeded_app: Flask, cast: Cast) -> None:
    page = page_text(client_for(seeded_app, cast.panel).get(f"/reviews/{cast.review.slug}/workspace"))
    assert f'href="/reviews/{cast.review.slug}/matrix"' in page
    assert f'href="/reviews/{cast.review.slug}/export.zip"' in page
