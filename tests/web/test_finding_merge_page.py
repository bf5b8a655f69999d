"""Two panel members save the same finding: the later save gets the merge page, settled clash by clash."""

from __future__ import annotations

import re
from html import unescape

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kb.drafts.models import FormDraft
from kb.extensions import db
from kb.panels.models import Finding
from kb.panels.service import FindingText, create_finding, edit_finding
from tests.accounts import Cast, client_for, make_user, page_text

BODY = "Providers said they were not ready.\n\nThe date did not move.\n\nNobody wrote down why."
RECOMMENDATIONS = "Agree a readiness test."
INPUT = re.compile(r"<input\b[^>]*>")
TEXTAREA = re.compile(r"<textarea\b[^>]*\bname=\"([^\"]+)\"[^>]*>\r?\n?(.*?)</textarea>", re.S)


def _attribute(tag: str, name: str) -> str | None:
    match = re.search(rf'\b{name}="([^"]*)"', tag)
    return unescape(match.group(1)) if match else None


def _fields(html: str, form_id: str) -> dict[str, str]:
    """The fields a browser would send from the form `form_id`: inputs, checked radios and textareas."""
    form = re.search(rf'<form\b[^>]*id="{form_id}".*?</form>', html, re.S)
    assert form, f"no form {form_id}"
    fields: dict[str, str] = {}
    for tag in INPUT.findall(form.group(0)):
        name = _attribute(tag, "name")
        kind = _attribute(tag, "type")
        if name is None or kind == "submit" or (kind == "radio" and " checked" not in tag):
            continue
        fields[name] = _attribute(tag, "value") or ""
    for name, text in TEXTAREA.findall(form.group(0)):
        fields[name] = unescape(text)
    return fields


def _url(cast: Cast, tail: str = "") -> str:
    return f"/reviews/{cast.review.slug}/findings/1{tail}"


def _finding() -> Finding:
    db.session.expire_all()
    finding = db.session.scalar(select(Finding))
    assert finding is not None
    return finding


def _stale_save(seeded_app: Flask, cast: Cast, theirs: FindingText, yours: FindingText) -> tuple[FlaskClient, str]:
    """A finding saved by the first panel member while the second edits revision 1; returns the second's 409 page."""
    create_finding(
        cast.review, FindingText("Go-live dates came before readiness", BODY, RECOMMENDATIONS), actor=cast.panel
    )
    db.session.commit()
    second = make_user("second-panel@example.org", name="Sam Second", panels=(cast.review,))
    client = client_for(seeded_app, second)
    form = _fields(client.get(_url(cast, "/edit")).get_data(as_text=True), "merged-form")
    assert form["base_revision"] == "1"
    edit_finding(_finding(), theirs, actor=cast.panel, base_number=1, message="Their edit")
    db.session.commit()
    form.update(title=yours.title, body=yours.body, recommendations=yours.recommendations, message="My edit")
    response = client.post(_url(cast, "/edit"), data=form)
    assert response.status_code == 409
    return client, response.get_data(as_text=True)


CLASHING_THEIRS = FindingText(
    "Their title", BODY.replace("The date did not move.", "The date never moved."), RECOMMENDATIONS
)
CLASHING_YOURS = FindingText(
    "Your title",
    BODY.replace("The date did not move.", "The date stayed fixed.").replace("Nobody wrote", "Nobody at all wrote"),
    RECOMMENDATIONS + "\n\nPublish the test.",
)


def test_a_stale_save_shows_each_clash_side_by_side_without_markers(seeded_app: Flask, cast: Cast) -> None:
    _, html = _stale_save(seeded_app, cast, CLASHING_THEIRS, CLASHING_YOURS)
    text = unescape(html)
    assert "<<<<<<<" not in text
    assert "=======" not in text
    assert ">>>>>>>" not in text
    assert "Merge your changes into finding 1" in text
    assert "saved revision 2 at" in text
    assert "2 places where you both changed the same text need you to choose" in text
    for legend in ("Title, clash 1 of 1", "Finding, clash 1 of 1"):
        assert f'<legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">{legend}</legend>' in text
    clash = re.search(r'id="clash-body-1".*?</fieldset>', text, re.S)
    assert clash is not None
    assert re.search(
        r"Theirs: revision 2 by .*?The date never moved\..*?Yours: what you typed.*?The date stayed fixed\.",
        clash.group(0),
        re.S,
    )
    for label in ("Keep mine", "Keep theirs", "Keep both", "Edit"):
        assert f">{label}" in clash.group(0)
    # The edit box starts with both versions.
    assert "The date never moved.\n\nThe date stayed fixed.</textarea>" in clash.group(0)
    # Changes made by one side only are applied without asking, and listed.
    automatic = re.search(r'aria-labelledby="automatic-heading">.*?</section>', text, re.S)
    assert automatic is not None
    assert "Nobody at all wrote down why." in automatic.group(0)
    assert "Publish the test." in automatic.group(0)
    assert "your change" in automatic.group(0)


def test_the_typed_text_is_kept_as_a_draft_of_the_editor(seeded_app: Flask, cast: Cast) -> None:
    client, _ = _stale_save(seeded_app, cast, CLASHING_THEIRS, CLASHING_YOURS)
    drafts = list(db.session.scalars(select(FormDraft).where(FormDraft.path == _url(cast, "/edit"))))
    assert len(drafts) == 1
    assert drafts[0].fields["body"] == [CLASHING_YOURS.body]
    editor = page_text(client.get(_url(cast, "/edit")))
    assert "You have text in this form that was not sent" in editor


def test_choosing_keep_theirs_mine_and_both_saves_the_right_text(seeded_app: Flask, cast: Cast) -> None:
    client, html = _stale_save(seeded_app, cast, CLASHING_THEIRS, CLASHING_YOURS)
    form = _fields(html, "merge-form")
    assert form["their_revision"] == "2"
    assert form["base_revision"] == "1"
    form.update({"choice-title-1": "theirs", "choice-body-1": "both"})
    response = client.post(_url(cast, "/merge"), data=form)
    assert response.status_code == 303
    finding = _finding()
    assert finding.revision_number == 3
    assert finding.title == "Their title"
    assert "The date never moved.\n\nThe date stayed fixed." in finding.body
    assert "Nobody at all wrote down why." in finding.body
    assert finding.recommendations == RECOMMENDATIONS + "\n\nPublish the test."
    assert finding.revisions[-1].message == "My edit"
    assert "with both sets of changes" in page_text(client.get(_url(cast)))
    # Settled: the editor no longer offers the text kept when the clash was found.
    assert db.session.scalar(select(FormDraft).where(FormDraft.path == _url(cast, "/edit"))) is None


def test_keep_mine_and_an_edit(seeded_app: Flask, cast: Cast) -> None:
    client, html = _stale_save(seeded_app, cast, CLASHING_THEIRS, CLASHING_YOURS)
    form = _fields(html, "merge-form")
    form.update(
        {"choice-title-1": "mine", "choice-body-1": "edit", "edited-body-1": "The date was fixed by the board."}
    )
    assert client.post(_url(cast, "/merge"), data=form).status_code == 303
    finding = _finding()
    assert finding.title == "Your title"
    assert finding.body == (
        "Providers said they were not ready.\n\nThe date was fixed by the board.\n\nNobody at all wrote down why."
    )


def test_a_refused_merge_keeps_the_comparison_and_every_choice(seeded_app: Flask, cast: Cast) -> None:
    client, html = _stale_save(seeded_app, cast, CLASHING_THEIRS, CLASHING_YOURS)
    form = _fields(html, "merge-form")
    # No choice for the title, and a marker line typed by hand into the edit box.
    form.update({"choice-body-1": "edit", "edited-body-1": "My own words.\n=======\nMore words."})
    response = client.post(_url(cast, "/merge"), data=form)
    assert response.status_code == 400
    text = page_text(response)
    assert re.search(r"<title>\s*Error: Merge your changes", text)
    assert '<a href="#choice-title-1-1">Choose which version to keep for the title, clash 1.</a>' in text
    assert "The date never moved." in text
    assert "The date stayed fixed." in text
    kept = _fields(response.get_data(as_text=True), "merge-form")
    assert kept["choice-body-1"] == "edit"
    assert kept["edited-body-1"] == "My own words.\n=======\nMore words."
    assert kept["body"] == CLASHING_YOURS.body
    # With a title chosen, the hand-typed marker is refused by the save, the page kept again.
    kept["choice-title-1"] = "mine"
    response = client.post(_url(cast, "/merge"), data=kept)
    assert response.status_code == 400
    assert "conflict marker" in page_text(response)
    again = _fields(response.get_data(as_text=True), "merge-form")
    assert again["edited-body-1"] == "My own words.\n=======\nMore words."
    assert again["choice-title-1"] == "mine"
    assert _finding().revision_number == 2
    again["edited-body-1"] = "My own words."
    assert client.post(_url(cast, "/merge"), data=again).status_code == 303
    assert "My own words." in _finding().body
    assert "=======" not in _finding().body


def test_a_merge_saved_after_yet_another_save_is_merged_again(seeded_app: Flask, cast: Cast) -> None:
    client, html = _stale_save(seeded_app, cast, CLASHING_THEIRS, CLASHING_YOURS)
    form = _fields(html, "merge-form")
    form.update({"choice-title-1": "mine", "choice-body-1": "mine"})
    third = FindingText("A third title", CLASHING_THEIRS.body, RECOMMENDATIONS)
    edit_finding(_finding(), third, actor=cast.panel, base_number=2)
    db.session.commit()
    response = client.post(_url(cast, "/merge"), data=form)
    assert response.status_code == 409
    text = page_text(response)
    assert "Someone saved this finding again while you were choosing" in text
    assert "saved revision 3" in text
    again = _fields(response.get_data(as_text=True), "merge-form")
    assert again["their_revision"] == "3"
    assert again["base_revision"] == "2"
    # Your version is now what you chose: your title against the third one.
    assert again["title"] == "Your title"
    assert "The date stayed fixed." in again["body"]
    again["choice-title-1"] = "theirs"
    assert client.post(_url(cast, "/merge"), data=again).status_code == 303
    finding = _finding()
    assert finding.revision_number == 4
    assert finding.title == "A third title"
    assert "The date stayed fixed." in finding.body


def test_changes_to_different_lines_need_no_choice(seeded_app: Flask, cast: Cast) -> None:
    theirs = FindingText(
        "Go-live dates came before readiness", BODY.replace("Providers said", "Every provider said"), RECOMMENDATIONS
    )
    yours = FindingText(
        "Go-live dates came before readiness", BODY.replace("down why.", "down why, or who decided."), RECOMMENDATIONS
    )
    client, html = _stale_save(seeded_app, cast, theirs, yours)
    assert "You changed different parts, so there is nothing to choose" in unescape(html)
    assert 'type="radio"' not in html
    assert client.post(_url(cast, "/merge"), data=_fields(html, "merge-form")).status_code == 303
    body = _finding().body
    assert body.startswith("Every provider said")
    assert body.endswith("or who decided.")


def test_the_merge_page_is_for_the_panel_and_comes_back_from_a_draft(seeded_app: Flask, cast: Cast) -> None:
    client, html = _stale_save(seeded_app, cast, CLASHING_THEIRS, CLASHING_YOURS)
    form = _fields(html, "merge-form")
    assert client.get(_url(cast, "/merge")).status_code == 302
    for outsider in (cast.member, cast.other_panel):
        response = client_for(seeded_app, outsider).post(_url(cast, "/merge"), data=form)
        assert response.status_code in (303, 404)
        assert _finding().revision_number == 2
    # A stale form token keeps the page's fields as a draft; the page comes back with them.
    form.update({"csrf_token": "stale", "choice-body-1": "edit", "edited-body-1": "Kept words."})
    response = client.post(_url(cast, "/merge"), data=form)
    assert response.status_code == 303
    back = client.get(response.headers["Location"])
    assert back.status_code == 200
    kept = _fields(back.get_data(as_text=True), "merge-form")
    assert kept["edited-body-1"] == "Kept words."
    assert kept["choice-body-1"] == "edit"
    assert "The date never moved." in page_text(back)
