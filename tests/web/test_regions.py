"""Regions as a controlled list: the lesson form's select, a stored region the list lacks, and content import."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import select

from kb.content.service import import_directory
from kb.entries.models import Entry
from kb.extensions import db
from kb.taxonomy.regions import canonical_region, region_choices
from tests.accounts import Cast, client_for, page_text
from tests.services.content_files import TAXONOMY, lesson_text, line_of
from tests.services.content_files import write as write_file
from tests.web.dom import parse
from tests.web.test_contributions import LESSON, SLUG, entry, post_page, write

ENGLISH_REGIONS = ["North East", "North West", "Yorkshire and the Humber", "East Midlands", "West Midlands"]
ENGLISH_REGIONS += ["East of England", "London", "South East", "South West"]


def region_options(html: str) -> list[tuple[str, str, bool]]:
    """The region select's options: (value, text, selected)."""
    select_ = parse(html).one("select", where=lambda node: node.attrs.get("name") == "region")
    return [(o.attrs.get("value", ""), o.text(), "selected" in o.attrs) for o in select_.find_all("option")]


def save_edit(member, region: str):
    """Save the lesson from its edit page (with the revision it started from) with `region`."""
    html = member.get(f"/lessons/{SLUG}/edit").get_data(as_text=True)
    base = parse(html).one("input", where=lambda node: node.attrs.get("name") == "base_revision").attrs["value"]
    data = {**LESSON, "region": region, "action": "save", "base_revision": base}
    return post_page(member, f"/lessons/{SLUG}/edit", data)


def test_the_lesson_form_offers_the_regions_list_as_a_select(seeded_app: Flask, cast: Cast) -> None:
    html = client_for(seeded_app, cast.member).get("/lessons/new").get_data(as_text=True)
    assert parse(html).find("input", where=lambda node: node.attrs.get("name") == "region") is None
    options = region_options(html)
    assert options[0] == ("", "Not given", False)
    values = [value for value, _, _ in options[1:]]
    assert values == region_choices()
    assert set(ENGLISH_REGIONS) | {"England", "Scotland", "Wales", "Northern Ireland", "Bristol"} <= set(values)


def test_a_region_picked_from_the_list_is_saved(seeded_app: Flask, cast: Cast) -> None:
    member = client_for(seeded_app, cast.member)
    assert write(member, region="North West").status_code == 303
    saved = entry()
    assert saved is not None
    assert saved.region == "North West"
    edit = member.get(f"/lessons/{SLUG}/edit").get_data(as_text=True)
    assert ("North West", "North West", True) in region_options(edit)


def test_a_region_off_the_list_is_refused_and_everything_typed_is_kept(seeded_app: Flask, cast: Cast) -> None:
    answer = write(client_for(seeded_app, cast.member), region="North west ")
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert "<title>Error:" in html
    assert 'href="#region"' in html
    assert "Choose a region from the list." in html
    assert LESSON["driving_event"] in html
    assert entry() is None


def test_a_stored_region_the_list_lacks_is_shown_reported_and_kept(seeded_app: Flask, cast: Cast) -> None:
    member = client_for(seeded_app, cast.member)
    assert write(member).status_code == 303
    saved = entry()
    assert saved is not None
    saved.region = "Somerset coast"
    db.session.commit()
    html = member.get(f"/lessons/{SLUG}/edit").get_data(as_text=True)
    assert ("Somerset coast", "Somerset coast (not in the list)", True) in region_options(html)
    assert "Somerset coast, is not in the regions list" in page_text(member.get(f"/lessons/{SLUG}/edit"))
    kept = save_edit(member, "Somerset coast")
    assert kept.status_code == 303
    assert entry().region == "Somerset coast"
    chosen = save_edit(member, "South West")
    assert chosen.status_code == 303
    assert entry().region == "South West"
    # Once it has a listed region, the old value is no longer offered.
    again = save_edit(member, "Somerset coast")
    assert again.status_code == 400
    assert entry().region == "South West"


def test_other_spellings_match_the_listed_name(app: Flask) -> None:
    assert canonical_region("North west") == "North West"
    assert canonical_region("  north-WEST ") == "North West"
    assert canonical_region("the North West") == "North West"
    assert canonical_region("Yorkshire & the Humber") == "Yorkshire and the Humber"
    assert canonical_region("National") == "England"
    assert canonical_region("Narnia") is None
    assert canonical_region("") is None


def test_import_writes_another_spelling_as_the_list_does_and_notes_a_region_it_lacks(
    app: Flask, tmp_path: Path
) -> None:
    root = tmp_path / "content"
    write_file(root, "taxonomy.yaml", TAXONOMY)
    spelt = write_file(root, "lessons/spelt.md", lesson_text("spelt", region="north-west"))
    unknown = write_file(root, "lessons/unknown.md", lesson_text("unknown", region="Atlantis"))
    listed = write_file(root, "lessons/listed.md", lesson_text("listed", region="Bristol"))
    report = import_directory(root)
    db.session.commit()
    assert report.problems == []
    assert len(report.created) == 3
    notes = [str(note) for note in report.notes]
    spelt_path = next(note for note in notes if "spelt.md" in note).split(":", 1)[0]
    assert spelt_path.endswith("lessons/spelt.md")
    line = line_of(spelt.read_text(), "region:")
    assert f"lessons/spelt.md:{line}: region 'north-west' is stored as 'North West'" in "\n".join(notes)
    unknown_line = line_of(unknown.read_text(), "region:")
    expected = f"lessons/unknown.md:{unknown_line}: region 'Atlantis' is not in the regions list (taxonomy.yaml)"
    assert any(expected in note for note in notes)
    assert not any(str(listed.name) in note for note in notes)
    regions = dict(db.session.execute(select(Entry.slug, Entry.region)).all())
    assert regions == {"spelt": "North West", "unknown": "Atlantis", "listed": "Bristol"}


def test_the_taxonomy_files_regions_replace_the_list(app: Flask, tmp_path: Path) -> None:
    root = tmp_path / "content"
    write_file(
        root,
        "taxonomy.yaml",
        TAXONOMY + "regions:\n  - name: Wessex\n    synonyms:\n      - West Country\n  - Mercia\n",
    )
    report = import_directory(root)
    db.session.commit()
    assert report.problems == []
    assert region_choices() == ["Wessex", "Mercia"]
    assert canonical_region("west country") == "Wessex"
