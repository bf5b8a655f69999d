"""Faults in the Whoosh index while kb serves under gunicorn: deleted, damaged, or impossible to write.

Two workers serve while three visitors search from threads: a signed-out reader, a
signed-in member and a member of a review's panel, who may each read a different set of
seed entries. The index is then taken away or damaged under them, or its folder made
read-only while a comment is posted. Every answer is checked as it comes: a search gives
200 with the results that visitor had before the fault, or 503 "Search is being rebuilt";
an entry page (whose related entries come from the index) gives 200; never a 500, never a
title the visitor may not read. Waits poll with a generous deadline and assert
nothing about how long anything took.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import stat
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select

from kb import create_app
from kb.comments.models import Comment
from kb.comments.service import post_comment
from kb.dates import utcnow
from kb.entries.models import Entry, Review
from kb.extensions import db
from kb.permissions import viewer_for
from kb.search.backend import index_store
from kb.search.indexing import check
from kb.search.lifecycle import RetrySchedule, drain_now
from kb.search.models import SearchQueueItem
from kb.search.service import SearchRequest, search
from kb.search.storage import IndexStore
from tests.accounts import PASSWORD, make_user
from tests.conftest import make_app
from tests.serving import Answer, Gunicorn, SiteSession, fetch, gunicorn, wait_until
from tests.web import seed
from tests.web.test_health import database_unreachable

PANEL_REVIEW = "nhs-111-programme-lessons-review"
MEMBER = "member@example.org"
PANEL_MEMBER = "panel@example.org"
SEARCHES = (
    "/search?q=panel",
    "/search?q=badly+implemented",
    "/search?q=lessons+review&kind=paper",
    "/search?q=consultation+terms",
    "/search",
)
ENTRY_PAGES = ("/lessons/go-live-deadline-missed-across-half-of-england", "/papers/nhs-alliance-discussion-paper")
"""Public entries whose similar entries come from the index and whose links reach restricted entries."""
RESULT_LINK = re.compile(r'kb-result__title"><a href="([^"#]+)')
REBUILDING = "Search is being rebuilt"


@cache
def restricted(visitor: str) -> frozenset[str]:
    """Titles and paths of the seed entries `visitor` may not read (the draft is for nobody here)."""
    hidden = set()
    for document in seed.all_documents().values():
        readable = document.status == "published" and (
            document.visibility == "public"
            or (document.visibility == "members" and visitor != "anonymous")
            or (document.visibility == "panel" and visitor == "panel")
        )
        if not readable:
            hidden |= {document.title, seed.path_of(document)}
    return frozenset(hidden)


def result_paths(answer: Answer) -> list[str]:
    """The entry paths a search results page lists, in order."""
    return RESULT_LINK.findall(answer.body)


@dataclass
class Visitor:
    """One kind of reader searching from a thread, and what went wrong in what they were shown."""

    name: str
    get: Callable[[str], Answer]
    expected: dict[str, list[str]] = field(default_factory=dict)
    answers: dict[int, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    right_after: int = 0
    """Searches answered with the expected results since the fault was made."""

    def _read(self, path: str) -> Answer | None:
        """Get a page, noting a missing answer, a traceback or anything this visitor may not read."""
        try:
            answer = self.get(path)
        except OSError as error:
            self.problems.append(f"{path}: no answer: {error}")
            return None
        leaked = [text for text in restricted(self.name) if text in answer.body]
        if leaked:
            self.problems.append(f"{path}: shown what it may not read: {leaked}")
        if "Traceback" in answer.body:
            self.problems.append(f"{path}: a traceback in the page")
        return answer

    def read_entry(self, path: str) -> None:
        """Open an entry page: it answers 200 whatever the index's state (related entries are left out)."""
        answer = self._read(path)
        if answer is not None and answer.status != 200:
            self.problems.append(f"{path}: answered {answer.status}")

    def search(self, path: str, after_fault: bool, damaged_unnoticed: bool = False) -> None:
        """Search once and check the answer against what this visitor may see and saw before.

        `damaged_unnoticed`: the index was damaged and is not rebuilt yet, so fewer results are allowed.
        """
        answer = self._read(path)
        if answer is None:
            return
        self.answers[answer.status] = self.answers.get(answer.status, 0) + 1
        if answer.status == 503:
            if REBUILDING not in answer.body:
                self.problems.append(f"{path}: 503 without saying search is being rebuilt")
        elif answer.status != 200:
            self.problems.append(f"{path}: answered {answer.status}")
        elif result_paths(answer) != self.expected.get(path, result_paths(answer)):
            if damaged_unnoticed and set(result_paths(answer)) < set(self.expected[path]):
                # Whoosh keeps no checksums: a damaged terms file can drop a word without an error until a
                # read fails and the rebuild starts. Fewer results then, never others (leaks are checked above).
                return
            self.problems.append(f"{path}: results {result_paths(answer)}, expected {self.expected[path]}")
        elif after_fault:
            self.right_after += 1


@dataclass
class Readers:
    """The three visitors searching in a loop until stopped."""

    visitors: list[Visitor]
    faulted: threading.Event = field(default_factory=threading.Event)
    damaged_unnoticed: threading.Event = field(default_factory=threading.Event)
    """Set from a fault until the index is rebuilt."""
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def _loop(self, visitor: Visitor) -> None:
        while not self.stop.is_set():
            for path in SEARCHES:
                visitor.search(
                    path, after_fault=self.faulted.is_set(), damaged_unnoticed=self.damaged_unnoticed.is_set()
                )
            for path in ENTRY_PAGES:
                visitor.read_entry(path)

    @contextmanager
    def searching(self) -> Iterator[None]:
        """Search from one thread per visitor while the block runs."""
        self.threads = [threading.Thread(target=self._loop, args=(v,), daemon=True) for v in self.visitors]
        for thread in self.threads:
            thread.start()
        try:
            yield
        finally:
            self.stop.set()
            for thread in self.threads:
                thread.join(timeout=60)


@dataclass
class Site:
    """A seeded kb ready to serve: its folder, database, index folder, and accounts for each kind of reader."""

    folder: Path
    database_url: str
    index: Path
    app: Flask
    """Kept while the site is used: a PostgreSQL copy is dropped once its app is gone."""

    def serve(self, **settings: str) -> Iterator[Gunicorn]:
        return gunicorn(self.folder / "site", self.database_url, SEARCH_INDEX_DIR=str(self.index), **settings)


def prepare_site(folder: Path, seeded_database: Path) -> Site:
    """A private copy of the seed (database and index) with a member and a panel member who have passwords."""
    app = make_app(folder, seeded_database)
    with app.app_context():
        review = db.session.scalar(select(Review).where(Review.slug == PANEL_REVIEW))
        assert review is not None, PANEL_REVIEW
        make_user(MEMBER)
        make_user(PANEL_MEMBER, panels=(review,))
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        db.session.remove()
        db.engine.dispose()
    return Site(folder, url, Path(app.config["SEARCH_INDEX_DIR"]), app)


@pytest.fixture
def site(tmp_path: Path, seeded_database: Path) -> Site:
    return prepare_site(tmp_path, seeded_database)


def signed_in(server: Gunicorn, email: str) -> SiteSession:
    visitor = SiteSession(server.base)
    visitor.sign_in(email, PASSWORD)
    return visitor


def readers_of(server: Gunicorn) -> Readers:
    """A signed-out reader, a member and a panel member, each with the results they get from the healthy index."""
    visitors = [
        Visitor("anonymous", lambda path: fetch(server.base + path)),
        Visitor("member", signed_in(server, MEMBER).get),
        Visitor("panel", signed_in(server, PANEL_MEMBER).get),
    ]
    for visitor in visitors:
        for path in SEARCHES:
            answer = visitor.get(path)
            assert answer.status == 200, (visitor.name, path, answer.status)
            visitor.expected[path] = result_paths(answer)
    return Readers(visitors)


def assert_the_readers_see_different_things(readers: Readers) -> None:
    """The seed has entries only some of them may read, or the leak checks could not fail."""
    anonymous, member, panel = (visitor.expected for visitor in readers.visitors)
    panel_papers = {seed.path_of(d) for d in seed.all_documents().values() if d.visibility == "panel"}
    members_only = {seed.path_of(d) for d in seed.all_documents().values() if d.visibility == "members"}
    assert panel_papers & set(panel["/search?q=panel"])
    assert not panel_papers & set(member["/search?q=panel"])
    assert members_only & set(member["/search?q=badly+implemented"])
    assert not members_only & set(anonymous["/search?q=badly+implemented"])


def access_log_statuses(server: Gunicorn) -> dict[int, int]:
    """How many requests the access log shows for each status."""
    counts: dict[int, int] = {}
    for line in server.log_lines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("event") == "request":
                counts[record["status"]] = counts.get(record["status"], 0) + 1
    return counts


def log_messages(server: Gunicorn) -> list[str]:
    return [json.loads(line).get("message", "") for line in server.log_lines() if line.startswith("{")]


def assert_index_in_step(site: Site) -> None:
    """`search check` on the site's database and index, once gunicorn has stopped: nothing missing or stale."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": site.database_url,
            "SEARCH_INDEX_DIR": str(site.index),
            "SECRET_KEY": "in-step-check",
            "AUTO_MIGRATE": False,
            "SEARCH_REBUILD_AT_START": "off",
            "INSTANCE_PATH": site.folder / "instance",
        }
    )
    with app.app_context():
        report = check(index_store())
        db.engine.dispose()
    assert report.in_step, report
    assert report.pending == 0, report


# --- the faults -------------------------------------------------------------------------------


def generation_folder(index: Path) -> Path:
    return index / IndexStore(index).current_generation()  # type: ignore[operator]


def delete_index(index: Path) -> None:
    """Remove the whole index folder: generations, the `current` file and the lock files."""
    shutil.rmtree(index)


def truncate_segments(index: Path) -> None:
    """Cut every terms and postings file to half its length, in place (open files see it)."""
    for path in [*generation_folder(index).glob("*.trm"), *generation_folder(index).glob("*.pst")]:
        os.truncate(path, path.stat().st_size // 2)


def overwrite_toc_and_segments(index: Path) -> None:
    """Overwrite the table of contents, terms, postings and stored fields with garbage of the same length, in place.

    Column files (the `date` kb sorts by) are left alone: Whoosh reads garbage there as
    numbers without noticing, so it would sort wrongly until some other read fails (see
    "When the index fails" in docs/search.md).
    """
    for path in generation_folder(index).iterdir():
        if path.suffix in {".toc", ".trm", ".pst"} or path.name.endswith("_stored.col"):
            with path.open("r+b") as handle:
                handle.write(b"\x07" * path.stat().st_size)


FAULTS: dict[str, Callable[[Path], None]] = {
    "deleted": delete_index,
    "segments-truncated": truncate_segments,
    "toc-and-segments-overwritten": overwrite_toc_and_segments,
}


@pytest.mark.parametrize(
    "faults", [("deleted",), ("segments-truncated", "toc-and-segments-overwritten")], ids=["deleted", "damaged"]
)
def test_a_deleted_or_damaged_index_is_rebuilt_while_searches_answer_503_or_right_results(site, faults):
    with site.serve(SEARCH_REBUILD_AT_START="background") as server:
        generations = [IndexStore(site.index).current_generation()]
        readers = readers_of(server)
        assert_the_readers_see_different_things(readers)
        with readers.searching():
            wait_until(lambda: all(sum(v.answers.values()) >= len(SEARCHES) for v in readers.visitors), "searches")
            for fault in faults:
                readers.damaged_unnoticed.set()
                FAULTS[fault](site.index)
                readers.faulted.set()
                for visitor in readers.visitors:
                    visitor.right_after = 0
                wait_until(
                    lambda: (
                        IndexStore(site.index).current_generation() != generations[-1]
                        and IndexStore(site.index).status() is None
                    ),
                    f"the index to be rebuilt ({fault})",
                )
                readers.damaged_unnoticed.clear()
                wait_until(
                    lambda: all(v.right_after >= 2 * len(SEARCHES) for v in readers.visitors),
                    f"every reader to get the right results again ({fault})",
                )
                generations.append(IndexStore(site.index).current_generation())
        problems = [f"{v.name}: {problem}" for v in readers.visitors for problem in v.problems]
        assert problems == [], "\n".join(problems)
        assert len(set(generations)) == len(faults) + 1, "each fault rebuilt into a new generation"
        statuses = access_log_statuses(server)
        assert set(statuses) <= {200, 302, 303, 503}, statuses
        messages = log_messages(server)
        assert sum("rebuilding it from the database" in message for message in messages) >= len(faults)
        assert sum(message.startswith("Search index rebuilt") for message in messages) >= len(faults)
        assert server.get("/healthz").status == 200
        assert server.get("/readyz").status == 200
    assert_index_in_step(site)


# --- an index that cannot be written ------------------------------------------------------------

LESSON_PATH = seed.path_of(seed.of_kind("lesson")[0])
# Root may write any folder whatever its mode: without these capabilities gunicorn's processes
# obey folder permissions as any other account does (they keep root's ownership of the test files).
OBEY_PERMISSIONS = ("setpriv", "--bounding-set=-dac_override,-dac_read_search", "--") if os.geteuid() == 0 else ()


def set_folders_mode(index: Path, mode: int) -> None:
    """Give the index folder and every folder in it `mode` (files keep theirs)."""
    for folder in [index, *(path for path in index.rglob("*") if path.is_dir())]:
        folder.chmod(mode)


@contextmanager
def read_only(index: Path) -> Iterator[None]:
    """Make the index's folders read-only while the block runs: nothing can be created or replaced in them."""
    set_folders_mode(index, stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    try:
        yield
    finally:
        set_folders_mode(index, 0o755)


def stored_comments(database_url: str, marker: str) -> int:
    """How many comments in the database hold `marker`."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            query = select(func.count()).select_from(Comment).where(Comment.body.contains(marker))
            return connection.scalar(query) or 0
    finally:
        engine.dispose()


def waiting_rows(database_url: str) -> list[tuple[int, str | None]]:
    """The (attempts, last error) of queued changes not yet indexed."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            query = select(SearchQueueItem.attempts, SearchQueueItem.last_error).where(
                SearchQueueItem.indexed_at.is_(None)
            )
            return [(row.attempts, row.last_error) for row in connection.execute(query)]
    finally:
        engine.dispose()


def finds(visitor: SiteSession, marker: str) -> bool:
    answer = visitor.get(f"/search?q={marker}")
    assert answer.status in (200, 503), answer.status
    return LESSON_PATH in result_paths(answer)


def test_a_save_while_the_index_cannot_be_written_stands_is_logged_and_indexed_once_it_can(site):
    marker = f"quokka{uuid.uuid4().hex[:10]}"
    with site.serve(prefix=OBEY_PERMISSIONS) as server:
        member = signed_in(server, MEMBER)
        assert not finds(member, marker)
        assert "not in it yet" not in server.get("/healthz").body
        with read_only(site.index):
            posted = member.post(f"{LESSON_PATH}/comments", {"body": f"Seen again: {marker}."}, form_page=LESSON_PATH)
            assert posted.status == 303
            assert stored_comments(site.database_url, marker) == 1
            waiting = waiting_rows(site.database_url)
            assert len(waiting) == 1, "the change stays queued"
            attempts, error = waiting[0]
            assert attempts == 0, "a failure to write the index does not use up the entry's attempts"
            assert "PermissionError" in (error or "")
            assert not finds(member, marker)
            health = server.get("/healthz")
            assert health.status == 200, "search still answers"
            assert "1 saved change not in it yet: writing it failed" in health.json()["checks"]["search"]["detail"]
            assert "1 saved change not in it yet" in server.get("/readyz").json()["checks"]["search"]["detail"]
        # No save and no command from here: searches retry the change, backing off, until it is written.
        wait_until(lambda: finds(member, marker), "the comment to be found once the index can be written")
        assert waiting_rows(site.database_url) == []
        assert "not in it yet" not in server.get("/healthz").body
    failures = [
        json.loads(line)
        for line in server.log_lines()
        if line.startswith("{") and "Indexing queued changes failed" in line
    ]
    assert failures, "the failure is logged"
    assert failures[0]["level"] == "error"
    assert "PermissionError" in failures[0]["exception"]
    assert stored_comments(site.database_url, marker) == 1
    assert_index_in_step(site)


def test_an_entry_that_failed_to_index_is_retried_by_later_searches_without_a_save(
    tmp_path, seeded_database, failing, sent
):
    """A failed attempt counts against the entry, so it is no longer "untried"; searches still retry it."""
    app = make_app(tmp_path, seeded_database)
    with app.app_context():
        member = make_user(MEMBER, password=None)
        entry = db.session.scalar(select(Entry).where(Entry.slug == seed.of_kind("lesson")[0].slug))
        marker = f"quokka{uuid.uuid4().hex[:10]}"
        failing.add(entry.id)
        post_comment(entry, f"Seen again: {marker}.", actor=member)
        db.session.commit()
        assert [attempts for attempts, _ in waiting_rows(app.config["SQLALCHEMY_DATABASE_URI"])] == [1]
        failing.clear()
        viewer, entry_id = viewer_for(member), entry.id

        def found() -> bool:
            db.session.remove()
            wanted = SearchRequest(text=marker, exact=True)
            return [hit.entry.id for hit in search(viewer, wanted).hits] == [entry_id]

        wait_until(found, "a search to retry the entry and find the comment", deadline=30)
        assert waiting_rows(app.config["SQLALCHEMY_DATABASE_URI"]) == []
        db.session.remove()
        db.engine.dispose()


def test_retries_back_off_after_each_failure_and_start_again_after_a_success():
    schedule = RetrySchedule(first=1.0, longest=8.0)
    assert schedule.due(0.0)
    waits = []
    for _ in range(6):
        schedule.failed(100.0)
        waits.append(schedule.next_at - 100.0)
        assert not schedule.due(100.0)
        assert schedule.due(schedule.next_at)
    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    schedule.succeeded()
    assert schedule.due(100.0)
    schedule.failed(100.0)
    assert schedule.next_at == 101.0


def test_a_drain_whose_database_is_unreachable_is_not_taken_for_an_index_that_cannot_be_written(
    tmp_path, seeded_database, caplog
):
    app = make_app(tmp_path, seeded_database, PROPAGATE_EXCEPTIONS=False)
    with app.app_context():
        entry_id = db.session.scalars(select(Entry.id).where(Entry.kind == "lesson")).first()
        assert entry_id is not None
        db.session.add(SearchQueueItem(entry_id=entry_id, queued_at=utcnow(), attempts=0))
        db.session.commit()
        with caplog.at_level(logging.WARNING, logger="kb.search"), database_unreachable(app):
            assert drain_now(app) is False
        assert "the database failed (OperationalError)" in caplog.text
        assert "Could not record the search index failure" not in caplog.text
        db.session.remove()
        waiting = db.session.scalars(select(SearchQueueItem).where(SearchQueueItem.indexed_at.is_(None))).all()
        assert [(row.entry_id, row.last_error) for row in waiting] == [(entry_id, None)], "no index failure recorded"
        assert drain_now(app) is True
