"""Stored renderings of findings and action evidence: links never name what a reader may not see, and follow targets.

A finding is rendered once when saved and printed from the store, so a `[[slug]]` link in it
shows a title and address only when every reader of the finding may see the target; a
change to the target (its title, its visibility) renders the finding again.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from werkzeug.test import TestResponse

from kb.actions.rules import ActionState
from kb.actions.service import update_action
from kb.extensions import db
from kb.panels.models import Finding
from kb.panels.service import FindingText, create_finding
from tests.accounts import Cast, client_for, page_text
from tests.citation_factory import LESSON_SLUG, LESSON_TEXT, PANEL_NOTE_SLUG, add_paper_and_lesson, publish
from tests.conftest import import_files
from tests.factories import entry

MEMBERS_SLUG = "members-only-lesson-on-rotas"
PANEL_TITLE = "Panel note on the scripts"
MEMBERS_TITLE = "Rotas were drawn up too late"
PUBLIC_TITLE = "Scripts need local knowledge"


def members_lesson(title: str = MEMBERS_TITLE, visibility: str = "members") -> str:
    """A lesson's content file, readable by signed-in members only unless `visibility` says otherwise."""
    return (
        f"---\nkind: lesson\nslug: {MEMBERS_SLUG}\ntitle: {title}\nsummary: Rotas came late.\n"
        f"visibility: {visibility}\n---\n\n## Driving event\n\nRotas.\n\n## Lesson\n\nEarlier rotas.\n\n"
        "## Recommendation\n\nPlan.\n\n## Evidence\n\nRotas.\n"
    )


def action_section(response: TestResponse) -> str:
    """The lesson page's action section, where the evidence of action is shown."""
    page = page_text(response)
    start = page.index('id="lesson-action"')
    return page[start : page.index("</section>", start)]


def linking_finding(tmp_path: Path, cast: Cast) -> Finding:
    """A draft finding of the cast's review linking a panel-only paper, a members-only lesson and a public lesson."""
    add_paper_and_lesson(tmp_path, cast)
    import_files(tmp_path, {f"lessons/{MEMBERS_SLUG}.md": members_lesson()})
    text = f"See [[{PANEL_NOTE_SLUG}]], [[{MEMBERS_SLUG}]] and [[{LESSON_SLUG}]]."
    finding = create_finding(cast.review, FindingText("Scripts", text, f"Read [[{MEMBERS_SLUG}]]."), actor=cast.panel)
    db.session.commit()
    return finding


def test_the_panel_reads_its_drafts_links_to_what_only_it_and_members_may_see(
    tmp_path: Path, seeded_app: Flask, cast: Cast
) -> None:
    finding = linking_finding(tmp_path, cast)
    path = f"/reviews/{cast.review.slug}/findings/{finding.number}"
    for page in (path, f"{path}/history/1"):
        shown = page_text(client_for(seeded_app, cast.panel).get(page))
        assert PANEL_TITLE in shown
        assert MEMBERS_TITLE in shown
        assert PUBLIC_TITLE in shown
        assert f'href="/papers/{PANEL_NOTE_SLUG}"' in shown


def test_a_published_finding_never_names_a_panel_only_or_members_only_entry_to_its_readers(
    tmp_path: Path, seeded_app: Flask, cast: Cast
) -> None:
    assert cast.review.visibility == "public"
    finding = linking_finding(tmp_path, cast)
    publish(cast, finding)
    pages = (f"/reviews/{cast.review.slug}/findings/{finding.number}", f"/reviews/{cast.review.slug}/report")
    for reader in (None, cast.member, cast.other_panel, cast.panel):
        for page in pages:
            response = client_for(seeded_app, reader).get(page)
            assert response.status_code == 200
            shown = page_text(response)
            assert PUBLIC_TITLE in shown
            assert PANEL_TITLE not in shown
            assert f"/papers/{PANEL_NOTE_SLUG}" not in shown
            assert MEMBERS_TITLE not in shown
            assert f"/lessons/{MEMBERS_SLUG}" not in shown
    # The panel's history still shows its draft as the panel read it.
    history = page_text(client_for(seeded_app, cast.panel).get(f"{pages[0]}/history/1"))
    assert PANEL_TITLE in history


def test_renaming_or_opening_a_linked_entry_renders_the_finding_again(
    tmp_path: Path, seeded_app: Flask, cast: Cast
) -> None:
    finding = linking_finding(tmp_path, cast)
    publish(cast, finding)
    renamed = LESSON_TEXT.replace(f"title: {PUBLIC_TITLE}", "title: Scripts need a local directory")
    import_files(tmp_path, {f"lessons/{LESSON_SLUG}.md": renamed, f"lessons/{MEMBERS_SLUG}.md": members_lesson()})
    db.session.expire_all()
    stored = db.session.get(Finding, finding.id)
    assert stored is not None
    assert "Scripts need a local directory" in stored.body_html
    assert PUBLIC_TITLE not in stored.body_html
    assert MEMBERS_TITLE not in stored.body_html + stored.recommendations_html
    reader = page_text(client_for(seeded_app).get(f"/reviews/{cast.review.slug}/report"))
    assert "Scripts need a local directory" in reader
    assert PUBLIC_TITLE not in reader

    import_files(tmp_path, {f"lessons/{MEMBERS_SLUG}.md": members_lesson("Rotas came late", visibility="public")})
    db.session.expire_all()
    stored = db.session.get(Finding, finding.id)
    assert stored is not None
    assert "Rotas came late" in stored.body_html
    assert "Rotas came late" in stored.recommendations_html
    assert entry(MEMBERS_SLUG).visibility == "public"


def test_a_public_lessons_action_evidence_never_names_a_members_only_entry_and_follows_renames(
    tmp_path: Path, seeded_app: Flask, cast: Cast
) -> None:
    add_paper_and_lesson(tmp_path, cast)
    import_files(tmp_path, {f"lessons/{MEMBERS_SLUG}.md": members_lesson()})
    lesson = entry(LESSON_SLUG)
    state = ActionState("accepted", evidence=f"Done: see [[{MEMBERS_SLUG}]] and [[{PANEL_NOTE_SLUG}]].")
    update_action(lesson, state, actor=cast.moderator)
    db.session.commit()
    for reader in (None, cast.member, cast.panel, cast.moderator):
        shown = action_section(client_for(seeded_app, reader).get(f"/lessons/{LESSON_SLUG}"))
        assert "Done: see" in shown
        assert MEMBERS_TITLE not in shown
        assert PANEL_TITLE not in shown
    import_files(tmp_path, {f"lessons/{MEMBERS_SLUG}.md": members_lesson("Rotas came late", visibility="public")})
    shown = action_section(client_for(seeded_app).get(f"/lessons/{LESSON_SLUG}"))
    assert f'href="/lessons/{MEMBERS_SLUG}"' in shown
    assert "Rotas came late</a>" in shown
