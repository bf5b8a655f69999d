"""The `flask search rebuild|check|drain` commands, run through Click's test runner.

`check` is shown each way the index can drift from the database without the session
hooks noticing: a row inserted or changed with Core statements, and a document written
into the index for an entry that does not exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from click.testing import Result
from flask import Flask
from sqlalchemy import func, insert, select, update

from kb.entries.models import Entry, EntryLink, Paper
from kb.extensions import db
from kb.permissions import Viewer
from kb.search.backend import index_store
from kb.search.indexing import check, drain
from kb.search.models import SearchQueueItem
from kb.search.queue import MAX_ATTEMPTS, queue_entries
from kb.search.service import SearchRequest, search
from kb.search.storage import CURRENT_FILE, REBUILD_LOCK, WRITE_LOCK, IndexStore
from kb.states import LinkRelation
from tests.web import seed

STAFF = Viewer(user_id=-1, role="admin")
SUMMARY = re.compile(r"^Search index rebuilt: (\d+) entries, now in use \((.+)\)\.$", re.M)


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["search", *args])


def titles(text: str) -> list[str]:
    found = search(STAFF, SearchRequest(text=text, per_page=100, exact=True))
    return sorted(hit.entry.title for hit in found.hits)


def entry_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Entry)) or 0


def pending() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).where(SearchQueueItem.indexed_at.is_(None))) or 0


def a_seed_entry() -> Entry:
    """A seeded entry no text links to: its title is in no other entry's search text."""
    mentioned = select(EntryLink.target_id).where(EntryLink.relation == LinkRelation.MENTION)
    entry = db.session.scalar(select(Entry).where(Entry.id.not_in(mentioned)).order_by(Entry.id).limit(1))
    assert entry is not None
    return entry


def insert_paper_bypassing_hooks(slug: str, title: str) -> int:
    """An entry written with Core statements, which the session hooks never see."""
    result = db.session.execute(
        insert(Entry.__table__).values(kind="paper", slug=slug, title=title, summary="", body="", sources=[])
    )
    entry_id = result.inserted_primary_key[0]
    db.session.execute(insert(Paper.__table__).values(id=entry_id))
    db.session.commit()
    return entry_id


def retitle_bypassing_hooks(entry_id: int, title: str) -> None:
    db.session.execute(update(Entry.__table__).where(Entry.__table__.c.id == entry_id).values(title=title))
    db.session.commit()


def index_a_ghost(store: IndexStore, entry_id: str) -> None:
    """A document in the index for an entry id the database does not have."""
    with store.write_lock(timeout=1):
        writer = store.open_current().writer()
        writer.add_document(id=entry_id, text="ghost", title="Ghost", status="published", visibility="public")
        writer.commit()


@contextmanager
def lock_held_elsewhere(store: IndexStore, name: str) -> Iterator[None]:
    """A lock file held on another open file description: to `flock`, another holder."""
    with store._flock(name, timeout=1):
        yield


# --- rebuild ----------------------------------------------------------------------------------


def test_rebuild_shows_progress_and_a_summary_and_the_new_index_works(seeded_app):
    store = index_store()
    old_generation = store.current_generation()
    result = run(seeded_app, "rebuild")
    assert result.exit_code == 0, result.output
    assert "Indexing entries" in result.stderr
    summary = SUMMARY.search(result.stdout)
    assert summary, result.stdout
    assert int(summary.group(1)) == entry_count() == seed.stored_entry_count()
    new_generation = store.current_generation()
    assert new_generation != old_generation
    assert summary.group(2) == str(store.root / new_generation)
    assert store.status() is None
    lesson = seed.a_lesson_with_a_source_paper()
    assert lesson.title in titles(f'"{lesson.title}"')
    assert check(store).in_step


def test_rebuild_builds_an_index_where_there_was_none(seeded_app):
    store = index_store()
    store.close_searchers()
    (store.root / CURRENT_FILE).unlink()
    result = run(seeded_app, "rebuild")
    assert result.exit_code == 0, result.output
    assert store.status() is None
    assert check(store).in_step


def test_rebuild_refuses_while_another_rebuild_runs(seeded_app):
    store = index_store()
    old_generation = store.current_generation()
    with lock_held_elsewhere(store, REBUILD_LOCK):
        result = run(seeded_app, "rebuild")
    assert result.exit_code == 1
    assert "another rebuild is running" in result.output
    assert store.current_generation() == old_generation


# --- check ------------------------------------------------------------------------------------


def test_check_exits_0_when_the_index_is_in_step(seeded_app):
    result = run(seeded_app, "check")
    assert result.exit_code == 0, result.output
    count = seed.stored_entry_count()
    assert f"{count} entries in the database, {count} in the index, 0 changes queued." in result.stdout
    assert "The index is in step with the database." in result.stdout


def test_check_names_an_entry_missing_from_the_index(seeded_app):
    entry_id = insert_paper_bypassing_hooks("inserted-behind-the-index", "Inserted behind the index")
    result = run(seeded_app, "check")
    assert result.exit_code == 1
    assert f"1 missing from the index: entry ids {entry_id}" in result.stdout
    assert "stale" not in result.stdout
    assert "Run `flask --app kb search rebuild`" in result.stdout


def test_check_names_an_entry_stale_in_the_index(seeded_app):
    entry = a_seed_entry()
    retitle_bypassing_hooks(entry.id, "Retitled behind the index")
    result = run(seeded_app, "check")
    assert result.exit_code == 1
    assert f"1 stale in the index: entry ids {entry.id}" in result.stdout
    assert "missing" not in result.stdout


def test_check_names_a_document_for_an_entry_that_does_not_exist(seeded_app):
    index_a_ghost(index_store(), "987654")
    result = run(seeded_app, "check")
    assert result.exit_code == 1
    assert "1 in the index but not in the database: ids 987654" in result.stdout


def test_check_names_missing_stale_and_extra_entries_together(seeded_app):
    missing = insert_paper_bypassing_hooks("inserted-behind-the-index", "Inserted behind the index")
    stale = a_seed_entry().id
    retitle_bypassing_hooks(stale, "Retitled behind the index")
    index_a_ghost(index_store(), "987654")
    result = run(seeded_app, "check")
    assert result.exit_code == 1
    assert f"missing from the index: entry ids {missing}" in result.stdout
    assert f"stale in the index: entry ids {stale}" in result.stdout
    assert "not in the database: ids 987654" in result.stdout
    assert "in step" not in result.stdout


def test_check_is_in_step_again_after_a_rebuild(seeded_app):
    insert_paper_bypassing_hooks("inserted-behind-the-index", "Inserted behind the index")
    retitle_bypassing_hooks(a_seed_entry().id, "Retitled behind the index")
    index_a_ghost(index_store(), "987654")
    assert run(seeded_app, "rebuild").exit_code == 0
    result = run(seeded_app, "check")
    assert result.exit_code == 0, result.output
    assert titles("inserted") == ["Inserted behind the index"]
    assert titles("retitled") == ["Retitled behind the index"]


def test_check_without_an_index_says_to_rebuild_and_exits_1(seeded_app):
    store = index_store()
    store.close_searchers()
    (store.root / CURRENT_FILE).unlink()
    result = run(seeded_app, "check")
    assert result.exit_code == 1
    assert "no search index has been built" in result.stderr
    assert "Run `flask --app kb search rebuild`." in result.stderr


def test_check_names_an_entry_that_failed_to_index_too_often(seeded_app, failing):
    entry = a_seed_entry()
    failing.add(entry.id)
    queue_entries(db.session, [entry.id])
    db.session.commit()
    for _ in range(MAX_ATTEMPTS):
        drain(index_store(), timeout=1)
    failing.clear()
    result = run(seeded_app, "check")
    assert result.exit_code == 1
    assert f"entry {entry.id} failed to index: RuntimeError: cannot index entry {entry.id}" in result.stdout


# --- drain ------------------------------------------------------------------------------------


def test_drain_indexes_queued_rows(seeded_app):
    entry = a_seed_entry()
    retitle_bypassing_hooks(entry.id, "Retitled behind the index")
    queue_entries(db.session, [entry.id])
    db.session.commit()  # queue rows alone do not start a drain
    assert pending() == 1
    assert check(index_store()).stale == [entry.id]
    result = run(seeded_app, "drain")
    assert result.exit_code == 0, result.output
    assert "Indexed 1 queued entries; 0 failed." in result.stdout
    assert pending() == 0
    assert titles("retitled") == ["Retitled behind the index"]
    assert check(index_store()).in_step


def test_drain_with_nothing_queued_indexes_nothing(seeded_app):
    result = run(seeded_app, "drain")
    assert result.exit_code == 0, result.output
    assert "Indexed 0 queued entries; 0 failed." in result.stdout


def test_drain_reports_an_entry_that_fails_once_and_exits_1(seeded_app, failing):
    entry = a_seed_entry()
    failing.add(entry.id)
    queue_entries(db.session, [entry.id])
    db.session.commit()
    result = run(seeded_app, "drain")
    assert result.exit_code == 1
    assert "Indexed 0 queued entries; 1 failed." in result.stdout
    assert pending() == 1  # left for the next drain


def test_drain_while_another_process_writes_leaves_the_rows_queued(seeded_app):
    entry = a_seed_entry()
    queue_entries(db.session, [entry.id])
    db.session.commit()
    seeded_app.config["SEARCH_LOCK_TIMEOUT"] = 0.2
    with lock_held_elsewhere(index_store(), WRITE_LOCK):
        result = run(seeded_app, "drain")
    assert result.exit_code == 1
    assert "is held by another process" in result.output
    assert pending() == 1
