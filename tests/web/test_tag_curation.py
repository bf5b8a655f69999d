"""Curating tags in the browser: the unthemed list, rename, merge, move into a theme, and who may."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kb.audit.models import AuditEvent
from kb.content.export import export_directory
from kb.content.service import import_directory
from kb.entries.queries import revision_count
from kb.entries.service import current_revision
from kb.extensions import db
from kb.moderation.revisions import add_tags
from kb.taxonomy.models import Tag, TagAlias
from tests.accounts import Cast, client_for, page_text, post_form
from tests.factories import entry, reloaded_entry

PUBLIC_LESSON = "procurement-weighted-towards-cost"
MEMBERS_LESSON = "good-idea-badly-implemented"
LIST = "/moderation/tags"


def tag_free(cast: Cast, slug: str, *entry_slugs: str) -> None:
    """Give entries a free tag the way a moderator's edit does: a new revision each."""
    for entry_slug in entry_slugs:
        add_tags(entry(entry_slug), [slug], actor=cast.moderator, message="tagged")
    db.session.commit()


def tag_slugs(entry_slug: str) -> list[str]:
    return [tag.slug for tag in reloaded_entry(entry_slug).tags]


def stored_tag(slug: str) -> Tag | None:
    """The tag with this slug as the database has it now."""
    db.session.expire_all()
    return db.session.scalar(select(Tag).where(Tag.slug == slug))


def document_of(entry_slug: str) -> str:
    revision = current_revision(reloaded_entry(entry_slug))
    assert revision is not None
    return revision.document


def post_tag_form(client: FlaskClient, slug: str, action: str, data: dict[str, str]):
    return post_form(client, f"/moderation/tags/{slug}/{action}", data, page=f"/moderation/tags/{slug}")


def test_the_unthemed_tags_are_listed_first_with_how_many_entries_carry_them(seeded_app: Flask, cast: Cast) -> None:
    tag_free(cast, "rural-areas", PUBLIC_LESSON, MEMBERS_LESSON)
    text = page_text(client_for(seeded_app, cast.moderator).get(LIST))
    unthemed = text.split("Tags in no theme", 1)[1].split("Tags in themes", 1)[0]
    assert "Rural areas" in unthemed
    assert "rural-areas" in unthemed
    assert "2" in unthemed
    assert "Cost versus quality weighting" not in unthemed
    assert "Cost versus quality weighting" in text.split("Tags in themes", 1)[1]


@pytest.mark.parametrize("who", ["anonymous", "member", "author", "panel"])
def test_only_moderators_and_admins_curate_tags(seeded_app: Flask, cast: Cast, who: str) -> None:
    tag_free(cast, "rural-areas", PUBLIC_LESSON)
    client = client_for(seeded_app, None if who == "anonymous" else getattr(cast, who))
    for path in (LIST, "/moderation/tags/rural-areas"):
        assert client.get(path).status_code == 404
    token_page = "/login" if who == "anonymous" else "/"
    for action, data in (
        ("rename", {"label": "Countryside"}),
        ("merge", {"into": "cost-versus-quality"}),
        ("move", {"theme": "procurement"}),
    ):
        answer = post_form(client, f"/moderation/tags/rural-areas/{action}", data, page=token_page)
        assert answer.status_code == 404, action
    assert tag_slugs(PUBLIC_LESSON).count("rural-areas") == 1
    assert stored_tag("rural-areas").label == "Rural areas"
    for user in (cast.moderator, cast.admin):
        assert client_for(seeded_app, user).get(LIST).status_code == 200


def test_renaming_retags_each_entry_with_a_revision_and_the_old_address_redirects(
    seeded_app: Flask, cast: Cast, tmp_path: Path
) -> None:
    tag_free(cast, "rural-area", PUBLIC_LESSON, MEMBERS_LESSON)
    before = {slug: revision_count(entry(slug)) for slug in (PUBLIC_LESSON, MEMBERS_LESSON)}
    moderator = client_for(seeded_app, cast.moderator)
    answer = post_tag_form(moderator, "rural-area", "rename", {"label": "Rural areas", "slug": "rural-areas"})
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/moderation/tags/rural-areas")
    assert "2 entries were retagged" in page_text(moderator.get("/moderation/tags/rural-areas"))
    for slug in (PUBLIC_LESSON, MEMBERS_LESSON):
        assert "rural-areas" in tag_slugs(slug)
        assert revision_count(reloaded_entry(slug)) == before[slug] + 1
        document = document_of(slug)
        assert "  - rural-areas\n" in document
        assert "  - rural-area\n" not in document
    export_directory(tmp_path / "out")
    exported = (tmp_path / "out" / "lessons" / f"{PUBLIC_LESSON}.md").read_text(encoding="utf-8")
    assert "  - rural-areas\n" in exported
    assert "  - rural-area\n" not in exported
    old = client_for(seeded_app).get("/tags/rural-area")
    assert old.status_code == 301
    assert old.headers["Location"].endswith("/tags/rural-areas")
    assert "Rural areas" in page_text(client_for(seeded_app).get("/tags/rural-areas"))
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "tag.rename"))
    assert event is not None
    assert (event.old_value, event.new_value) == (
        "Rural area (rural-area)",
        "Rural areas (rural-areas)",
    )


def test_renaming_only_the_label_keeps_the_address_and_makes_no_revision(seeded_app: Flask, cast: Cast) -> None:
    tag_free(cast, "rural-areas", PUBLIC_LESSON)
    before = revision_count(entry(PUBLIC_LESSON))
    moderator = client_for(seeded_app, cast.moderator)
    answer = post_tag_form(moderator, "rural-areas", "rename", {"label": "Rural areas", "slug": "rural-areas"})
    assert answer.status_code == 400  # nothing changed: said so
    assert "already" in page_text(answer)
    answer = post_tag_form(
        moderator, "rural-areas", "rename", {"label": "Rural and remote areas", "slug": "rural-areas"}
    )
    assert answer.status_code == 303
    assert revision_count(reloaded_entry(PUBLIC_LESSON)) == before
    assert stored_tag("rural-areas").label == "Rural and remote areas"


def test_a_rename_onto_another_tag_is_refused_with_the_typed_text_kept(seeded_app: Flask, cast: Cast) -> None:
    tag_free(cast, "cost-cutting", PUBLIC_LESSON)
    moderator = client_for(seeded_app, cast.moderator)
    answer = post_tag_form(
        moderator, "cost-cutting", "rename", {"label": "Cheaper bids", "slug": "cost-versus-quality"}
    )
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert "<title>Error:" in text
    assert "merge into it instead" in text
    assert 'value="Cheaper bids"' in text
    assert "cost-cutting" in tag_slugs(PUBLIC_LESSON)
    empty = post_tag_form(moderator, "cost-cutting", "rename", {"label": "  ", "slug": ""})
    assert empty.status_code == 400
    assert 'href="#label"' in empty.get_data(as_text=True)


def test_merging_retags_the_entries_and_the_old_address_and_later_imports_lead_to_the_kept_tag(
    seeded_app: Flask, cast: Cast, tmp_path: Path
) -> None:
    tag_free(cast, "cost-cutting", PUBLIC_LESSON, MEMBERS_LESSON)
    assert "cost-versus-quality" in tag_slugs(PUBLIC_LESSON)
    before = revision_count(entry(MEMBERS_LESSON))
    moderator = client_for(seeded_app, cast.moderator)
    answer = post_tag_form(moderator, "cost-cutting", "merge", {"into": "cost-versus-quality"})
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/moderation/tags/cost-versus-quality")
    assert tag_slugs(PUBLIC_LESSON).count("cost-versus-quality") == 1
    assert "cost-cutting" not in tag_slugs(PUBLIC_LESSON)
    assert "cost-versus-quality" in tag_slugs(MEMBERS_LESSON)
    assert revision_count(reloaded_entry(MEMBERS_LESSON)) == before + 1
    assert "  - cost-cutting\n" not in document_of(MEMBERS_LESSON)
    assert stored_tag("cost-cutting") is None
    alias = db.session.scalar(select(TagAlias).where(TagAlias.slug == "cost-cutting"))
    assert alias is not None
    assert alias.tag.slug == "cost-versus-quality"
    old = client_for(seeded_app).get("/tags/cost-cutting?page=1")
    assert old.status_code == 301
    assert old.headers["Location"].endswith("/tags/cost-versus-quality")
    assert client_for(seeded_app).get("/tags/no-such-tag").status_code == 404
    # A content file still naming the merged tag is given the kept one.
    export_directory(tmp_path / "out")
    path = tmp_path / "out" / "lessons" / f"{MEMBERS_LESSON}.md"
    path.write_text(path.read_text(encoding="utf-8").replace("  - cost-versus-quality\n", "  - cost-cutting\n"))
    report = import_directory(tmp_path / "out")
    db.session.commit()
    assert not report.problems
    assert "cost-versus-quality" in tag_slugs(MEMBERS_LESSON)
    assert stored_tag("cost-cutting") is None


def test_merging_needs_a_tag_from_the_list(seeded_app: Flask, cast: Cast) -> None:
    tag_free(cast, "cost-cutting", PUBLIC_LESSON)
    moderator = client_for(seeded_app, cast.moderator)
    for into in ("", "no-such-tag", "cost-cutting"):
        answer = post_tag_form(moderator, "cost-cutting", "merge", {"into": into})
        assert answer.status_code == 400, into
        assert "<title>Error:" in answer.get_data(as_text=True)
    assert "cost-cutting" in tag_slugs(PUBLIC_LESSON)


def test_moving_a_free_tag_into_a_theme_offers_it_on_the_lesson_form(seeded_app: Flask, cast: Cast) -> None:
    tag_free(cast, "rural-areas", PUBLIC_LESSON)
    moderator = client_for(seeded_app, cast.moderator)
    assert 'id="tag-rural-areas"' not in moderator.get("/lessons/new").get_data(as_text=True)
    answer = post_tag_form(moderator, "rural-areas", "move", {"theme": "procurement"})
    assert answer.status_code == 303
    tag = stored_tag("rural-areas")
    assert tag is not None
    assert tag.theme is not None
    assert tag.theme.slug == "procurement"
    assert "Rural areas" in page_text(client_for(seeded_app).get("/themes/procurement"))
    assert 'id="tag-rural-areas"' in moderator.get("/lessons/new").get_data(as_text=True)
    unthemed = page_text(moderator.get(LIST)).split("Tags in no theme", 1)[1].split("Tags in themes", 1)[0]
    assert "Rural areas" not in unthemed
    back = post_tag_form(moderator, "rural-areas", "move", {"theme": ""})
    assert back.status_code == 303
    assert stored_tag("rural-areas").theme_id is None
    refused = post_tag_form(moderator, "rural-areas", "move", {"theme": "no-such-theme"})
    assert refused.status_code == 400
