"""The memory of similar entries (`kb.search.related_cache`): never stale in what a viewer may see.

On the seeded content, with each search backend the suite runs (`tests.pg_search`: Whoosh,
and PostgreSQL search in the PostgreSQL pass). The remembered lists hold ids only; these tests
show an entry hidden or removed since, or one the viewer may not read, never comes back from
memory, that memory is really used, and that a new similar entry appears once it expires.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from kb.entries.models import Entry, Lesson
from kb.extensions import db
from kb.permissions import ANONYMOUS, Viewer, can_view_entry, viewer_for
from kb.search import related_cache
from kb.search.service import related, similar_lessons_elsewhere
from tests.accounts import make_cast
from tests.conftest import import_files
from tests.factories import entry
from tests.pg_search import SEARCH_BACKENDS, in_context, search_app
from tests.serving import wait_until

LESSON = "go-live-deadline-missed-across-half-of-england"
RESTRICTED = [
    "who-decides-a-service-is-ready-to-go-live",
    "lessons-review-panel-evidence-to-gather",
    "lessons-review-panel-draft-consultation-terms",
]


@pytest.fixture(params=SEARCH_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each search backend the suite runs (Whoosh; and PostgreSQL search in the PostgreSQL pass)."""
    return str(request.param)


def seeded(backend: str, folder: Path, template: Path, seconds: float) -> Flask:
    """The seeded app on `backend`, remembering lists for `seconds`."""
    return search_app(backend, folder, template, seeded=True, RELATED_CACHE_SECONDS=seconds)


@pytest.fixture
def remembering(backend: str, tmp_path: Path, seeded_database: Path) -> Iterator[Flask]:
    """The seeded app remembering lists for an hour."""
    yield from in_context(seeded(backend, tmp_path, seeded_database, 3600))


@pytest.fixture
def briefly(backend: str, tmp_path: Path, seeded_database: Path) -> Iterator[Flask]:
    """The seeded app remembering lists for one second."""
    yield from in_context(seeded(backend, tmp_path, seeded_database, 1))


def ids(entries: list[Entry]) -> list[int]:
    return [found.id for found in entries]


def import_copy(folder: Path, slug: str) -> str:
    """Import a new public lesson with the same words as `slug`'s, so it is the most similar entry.

    The copy replaces no old slugs: those belong to the original.
    """
    text = (Path(__file__).resolve().parents[2] / "content" / "lessons" / f"{slug}.md").read_text(encoding="utf-8")
    text = re.sub(r"^replaces:\n(?:  - .*\n)+", "", text, flags=re.MULTILINE)
    copy = f"{slug}-seen-again"
    text = text.replace(f"slug: {slug}\n", f"slug: {copy}\n").replace("\ntitle: ", "\ntitle: Seen again, ", 1)
    import_files(folder, {f"lessons/{copy}.md": text})
    return copy


def test_an_entry_hidden_or_removed_since_is_never_shown_from_memory(remembering: Flask) -> None:
    lesson = entry(LESSON)
    first = related(ANONYMOUS, lesson)
    assert len(first) >= 3
    hidden, removed = first[0], first[1]
    hidden.visibility = "members"
    removed.status = "removed"
    db.session.commit()
    again = related(ANONYMOUS, lesson)
    assert hidden.id not in ids(again)
    assert removed.id not in ids(again)
    assert first[2].id in ids(again)  # Computed afresh: the others are still listed.
    assert removed.id not in ids(related(viewer_for(make_cast().member), lesson))


def test_a_list_remembered_with_entries_a_viewer_may_not_read_never_shows_them(remembering: Flask) -> None:
    cast = make_cast()
    lesson = entry(LESSON)
    restricted = [entry(slug) for slug in RESTRICTED]
    staff, member, anonymous = viewer_for(cast.moderator), viewer_for(cast.member), ANONYMOUS
    assert all(can_view_entry(staff, found) for found in restricted)
    assert not any(can_view_entry(viewer, found) for found in restricted for viewer in (member, anonymous))
    # As if the member's and the anonymous reader's lists held entries only staff may read.
    store = related_cache.cache()
    for viewer in (member, anonymous):
        key = related_cache.key_for("related", viewer, lesson, 5, [])
        store.put(key, [*ids(restricted), *ids(related(staff, lesson))][:5])
        shown = related(viewer, lesson)
        assert not set(ids(restricted)) & set(ids(shown))
        assert all(can_view_entry(viewer, found) for found in shown)


@pytest.mark.parametrize("viewer_name", ["anonymous", "member", "panel", "author", "moderator"])
def test_every_similar_entry_shown_from_memory_is_one_the_viewer_may_read(remembering: Flask, viewer_name: str) -> None:
    cast = make_cast()
    viewers: dict[str, Viewer] = {"anonymous": ANONYMOUS}
    viewers |= {name: viewer_for(getattr(cast, name)) for name in ("member", "panel", "author", "moderator")}
    entries = list(db.session.scalars(select(Entry).order_by(Entry.id)))
    for name, viewer in viewers.items():  # Everyone's lists are remembered, the staff's first.
        if name != viewer_name:
            for found in entries:
                related(viewer, found)
    viewer = viewers[viewer_name]
    for _ in range(2):  # Computed, then from memory.
        for found in entries:
            shown = [*related(viewer, found)]
            if isinstance(found, Lesson):
                shown += similar_lessons_elsewhere(viewer, found)
            assert all(can_view_entry(viewer, other) for other in shown), (found.slug, [o.slug for o in shown])


def test_memory_is_used_until_the_entry_changes(remembering: Flask, tmp_path: Path) -> None:
    lesson = entry(LESSON)
    first = ids(related(ANONYMOUS, lesson))
    copy = entry(import_copy(tmp_path / "extra", LESSON))
    assert ids(related(ANONYMOUS, lesson)) == first  # Remembered: the new entry is not looked for yet.
    lesson.updated_at = lesson.updated_at + dt.timedelta(seconds=1)
    db.session.commit()
    assert copy.id in ids(related(ANONYMOUS, lesson))


def test_a_new_similar_entry_appears_once_the_list_expires(briefly: Flask, tmp_path: Path) -> None:
    lesson = entry(LESSON)
    assert related(ANONYMOUS, lesson)
    copy = entry(import_copy(tmp_path / "extra", LESSON))
    wait_until(lambda: copy.id in ids(related(ANONYMOUS, lesson)), "the new similar entry to be listed", deadline=30)


def test_without_memory_a_new_similar_entry_shows_at_once(backend: str, tmp_path: Path, seeded_database: Path) -> None:
    for _ in in_context(seeded(backend, tmp_path, seeded_database, 0)):
        lesson = entry(LESSON)
        assert related(ANONYMOUS, lesson)
        copy = entry(import_copy(tmp_path / "extra", LESSON))
        assert copy.id in ids(related(ANONYMOUS, lesson))


def test_the_memory_keeps_at_most_its_size_dropping_the_least_recently_used() -> None:
    store = related_cache.RelatedCache(seconds=60, size=2)
    store.put("a", [1])
    store.put("b", [2])
    assert store.get("a") == (1,)
    store.put("c", [3])
    assert store.get("b") is None
    assert store.get("a") == (1,)
    assert store.get("c") == (3,)
