"""The finding editor through the test client: note markers, the notes list, the picker's answers, the warnings."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from kb.content.rerender import rerender_everything
from kb.extensions import db
from kb.panels.models import Finding
from kb.panels.service import agree_finding, propose_agreement
from tests.accounts import Cast, client_for, csrf_token, page_text, post_form
from tests.citation_factory import add_paper_and_lesson, draft_finding, publish, second_member

WARNING = "This will withdraw agreement"


def _url(cast: Cast, tail: str = "") -> str:
    return f"/reviews/{cast.review.slug}/findings/1{tail}"


def _cite_lesson_and_paper(client, cast: Cast, lesson, paper) -> None:
    for cited in (lesson, paper):
        response = post_form(client, _url(cast, "/citations"), {"kind": "entry", "target": str(cited.id)})
        assert response.status_code == 303


def _save(client, cast: Cast, body: str, recommendations: str = "Keep directories current."):
    page = client.get(_url(cast, "/edit")).get_data(as_text=True)
    base = re.search(r'name="base_revision"[^>]*value="(\d+)"', page) or re.search(
        r'value="(\d+)"[^>]*name="base_revision"', page
    )
    assert base
    fields = {
        "csrf_token": csrf_token(page),
        "title": "Scripts did not know the area",
        "body": body,
        "recommendations": recommendations,
        "base_revision": base.group(1),
    }
    return client.post(_url(cast, "/edit"), data=fields)


def test_a_saved_marker_links_to_its_numbered_note_and_back(tmp_path: Path, seeded_app: Flask, cast: Cast) -> None:
    paper, lesson = add_paper_and_lesson(tmp_path, cast)
    draft_finding(cast)
    panel = client_for(seeded_app, cast.panel)
    _cite_lesson_and_paper(panel, cast, lesson, paper)
    body = "Scripts sent people away.[^1] The paper says so.[^2] A third claim.[^3] In code: `[^1]`."
    assert _save(panel, cast, body, "Keep them current.[^2]").status_code == 303
    page = page_text(panel.get(_url(cast)))
    first = '<sup class="kb-note-ref"><a href="#finding-1-note-1" id="finding-1-ref-1">1</a></sup>'
    assert f"Scripts sent people away.{first}" in page
    assert 'id="finding-1-ref-2">2</a></sup>' in page
    # The recommendations refer to note 2 again: linked, without a second copy of the id.
    assert 'Keep them current.<sup class="kb-note-ref"><a href="#finding-1-note-2">2</a></sup>' in page
    assert "A third claim.[^3]" in page
    assert "<code>[^1]</code>" in page
    assert '<li class="kb-citation" id="finding-1-note-1">' in page
    assert '<li class="kb-citation" id="finding-1-note-2">' in page
    assert 'href="#finding-1-ref-1">Back to the text' in page
    assert page.count("Back to the text") == 2
    assert page.count('id="finding-1-ref-2"') == 1


def test_citing_and_unciting_renders_the_markers_again(tmp_path: Path, seeded_app: Flask, cast: Cast) -> None:
    _, lesson = add_paper_and_lesson(tmp_path, cast)
    draft_finding(cast)
    panel = client_for(seeded_app, cast.panel)
    _save(panel, cast, "Typed before citing.[^1]")
    assert "Typed before citing.[^1]" in page_text(panel.get(_url(cast)))
    post_form(panel, _url(cast, "/citations"), {"kind": "entry", "target": str(lesson.id)})
    assert 'Typed before citing.<sup class="kb-note-ref">' in page_text(panel.get(_url(cast)))
    finding = db.session.get(Finding, 1)
    assert finding is not None
    citation = finding.citations[0]
    response = post_form(panel, _url(cast, f"/citations/{citation.id}/remove"), {}, page=_url(cast))
    assert response.status_code == 303
    # The removed citation's marker now says so, as plain text, and links nowhere.
    after = page_text(panel.get(_url(cast)))
    assert "Typed before citing.[citation removed]" in after
    assert "kb-note-ref" not in after


def test_the_editor_lists_the_notes_to_type_without_script(tmp_path: Path, seeded_app: Flask, cast: Cast) -> None:
    paper, lesson = add_paper_and_lesson(tmp_path, cast)
    draft_finding(cast)
    panel = client_for(seeded_app, cast.panel)
    empty = page_text(panel.get(_url(cast, "/edit")))
    assert "This finding cites no evidence yet. Once it does, type <code>[^1]</code>" in empty
    _cite_lesson_and_paper(panel, cast, lesson, paper)
    editor = page_text(panel.get(_url(cast, "/edit")))
    assert "Type <code>[^2]</code> in the text where the claim is" in editor
    assert f'<code>[^1]</code> <span class="kb-muted">Lesson or paper:</span> {lesson.title}' in editor
    assert f'<code>[^2]</code> <span class="kb-muted">Lesson or paper:</span> {paper.title}' in editor
    assert f'href="{_url(cast, "/cite")}" data-kb-picker-link>Find evidence to cite' in editor
    assert 'data-kb-notes="2"' in editor


def test_both_previews_show_markers_as_they_will_be_saved(tmp_path: Path, seeded_app: Flask, cast: Cast) -> None:
    paper, lesson = add_paper_and_lesson(tmp_path, cast)
    draft_finding(cast)
    panel = client_for(seeded_app, cast.panel)
    _cite_lesson_and_paper(panel, cast, lesson, paper)
    page = panel.get(_url(cast, "/edit")).get_data(as_text=True)
    fields = {"csrf_token": csrf_token(page), "title": "T", "body": "Claim.[^2] Not.[^5]", "action": "preview"}
    preview = page_text(panel.post(_url(cast, "/edit"), data={**fields, "recommendations": "", "base_revision": "1"}))
    assert 'Claim.<sup class="kb-note-ref"><a href="#finding-1-note-2" id="finding-1-ref-2">2</a></sup> Not.[^5]' in (
        preview
    )
    assert db.session.get(Finding, 1).body == "Call handlers lacked local knowledge."
    live = panel.post(
        "/preview",
        data={"text": "Claim.[^2] Not.[^5]", "finding": "1", "notes": "2"},
        headers={"X-CSRFToken": csrf_token(page)},
    )
    assert live.status_code == 200
    assert '<a href="#finding-1-note-2" id="finding-1-ref-2">2</a></sup> Not.[^5]' in live.get_data(as_text=True)
    plain = panel.post("/preview", data={"text": "Claim.[^2]"}, headers={"X-CSRFToken": csrf_token(page)})
    assert plain.get_data(as_text=True) == "<p>Claim.[^2]</p>"


def test_the_picker_cites_and_answers_the_note_number(tmp_path: Path, seeded_app: Flask, cast: Cast) -> None:
    paper, lesson = add_paper_and_lesson(tmp_path, cast)
    draft_finding(cast)
    panel = client_for(seeded_app, cast.panel)
    listing = page_text(panel.get(_url(cast, "/picker")))
    assert f'data-kb-picker-open="{_url(cast, "/picker/" + paper.slug)}"' in listing
    parts = page_text(panel.get(_url(cast, f"/picker/{paper.slug}")))
    assert "One paragraph" in parts
    assert 'name="kind" value="paragraph"' in parts
    token = csrf_token(parts)
    first = panel.post(_url(cast, "/picker/cite"), data={"csrf_token": token, "kind": "entry", "target": lesson.id})
    assert first.status_code == 200
    assert first.get_json() == {"number": 1, "marker": "[^1]", "finding": 1, "reopened": False}
    second = panel.post(_url(cast, "/picker/cite"), data={"csrf_token": token, "kind": "entry", "target": paper.id})
    assert second.get_json()["marker"] == "[^2]"
    again = panel.post(_url(cast, "/picker/cite"), data={"csrf_token": token, "kind": "entry", "target": paper.id})
    assert again.status_code == 400
    assert again.get_json() == {"error": "Finding 1 already cites this."}
    assert "Already cited" in page_text(panel.get(_url(cast, f"/picker/{paper.slug}")))
    outsider = client_for(seeded_app, cast.other_panel)
    for url in (_url(cast, "/picker"), _url(cast, f"/picker/{paper.slug}")):
        assert outsider.get(url).status_code == 404


def test_the_editor_warns_before_a_save_that_withdraws_agreement(seeded_app: Flask, cast: Cast) -> None:
    finding = draft_finding(cast)
    panel = client_for(seeded_app, cast.panel)
    assert WARNING not in page_text(panel.get(_url(cast, "/edit")))
    assert WARNING not in page_text(panel.get(_url(cast, "/cite")))
    propose_agreement(finding, actor=cast.panel)
    db.session.commit()
    proposed = page_text(panel.get(_url(cast, "/edit")))
    assert WARNING in proposed
    assert "Saving a change keeps it a draft and withdraws the proposal" in proposed
    assert proposed.index(WARNING) < proposed.index("Save finding")
    assert 'data-kb-agreement-warning="on-change"' in proposed
    agree_finding(finding, actor=second_member(cast))
    db.session.commit()
    agreed = page_text(panel.get(_url(cast, "/edit")))
    assert "Saving a change returns it to draft and withdraws the panel's agreement" in agreed
    assert "Citing evidence returns it to draft" in page_text(panel.get(_url(cast, "/cite")))
    assert "Adding or removing a citation returns it to draft" in page_text(panel.get(_url(cast)))


def test_a_published_findings_editor_shows_it_published_not_proposed(seeded_app: Flask, cast: Cast) -> None:
    finding = draft_finding(cast)
    publish(cast, finding)
    panel = client_for(seeded_app, cast.panel)
    editor = page_text(panel.get(_url(cast, "/edit")))
    assert "Published " in editor
    assert "proposed" not in editor.lower()
    assert WARNING not in editor
    assert "data-kb-picker=" not in editor


def test_rendering_everything_again_links_the_markers_of_existing_findings(
    tmp_path: Path, seeded_app: Flask, cast: Cast
) -> None:
    _, lesson = add_paper_and_lesson(tmp_path, cast)
    draft_finding(cast)
    panel = client_for(seeded_app, cast.panel)
    post_form(panel, _url(cast, "/citations"), {"kind": "entry", "target": str(lesson.id)})
    _save(panel, cast, "Written before notes were linked.[^1]")
    finding = db.session.get(Finding, 1)
    assert finding is not None
    finding.body_html = "<p>Written before notes were linked.[^1]</p>"  # as stored before markers were linked
    db.session.commit()
    rerender_everything()
    db.session.commit()
    assert 'linked.<sup class="kb-note-ref"><a href="#finding-1-note-1" id="finding-1-ref-1">' in finding.body_html
