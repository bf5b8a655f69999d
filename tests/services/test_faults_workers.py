"""Faults in the processes serving kb: a worker killed while posting or writing the index, the database restarted.

Each served test runs kb under real gunicorn (`tests/serving.py`) and hurts it with real
signals and real locks:

- `SIGKILL` to a worker caught inside a comment post, blocked on a lock the test holds on
  the database (PostgreSQL: a table lock on the index queue the post writes after its
  comment; SQLite: a read lock that keeps the post from committing);
- workers killed at random while members post;
- `SIGKILL` to a worker caught holding the Whoosh index's writer lock (found in
  /proc/locks, stopped with `SIGSTOP`), or holding the PostgreSQL search documents'
  advisory lock while it waits to write them;
- PostgreSQL stopped and started while threads read, search and post.

Afterwards: no half-stored comment, every post answered 303 stored exactly once, no stale
lock, the index back in step without a manual step, never a 500. Three in-process tests
pin down the defects these found: an outage met after the view, a connection cut
after the answer was made, and stored fields that could not be read from the index.

Waits poll with a generous deadline and assert nothing about how long they took.
"""

from __future__ import annotations

import fcntl
import http.client
import json
import os
import random
import signal
import sqlite3
import string
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Self, TypeVar

import psycopg
import pytest
from flask import Flask, Response, request
from sqlalchemy import Engine, create_engine, func, make_url, select, text

from kb import create_app
from kb.comments.models import Comment
from kb.content.service import import_directory
from kb.extensions import db, limiter
from kb.search.backend import index_store
from kb.search.indexing import check
from kb.search.types import CheckReport
from tests.accounts import PASSWORD, client_for, csrf_token, make_user
from tests.conftest import SEED_CONTENT, TEST_DATABASE, make_app
from tests.pg_search import SEARCH_BACKENDS, check_search, postgres_search_app
from tests.postgres import PostgresServer, postgres_or_skip
from tests.serving import Answer, Gunicorn, SiteSession, gunicorn, wait_until
from tests.web import seed
from tests.web.test_health import database_unreachable

LESSONS = [seed.path_of(document) for document in seed.of_kind("lesson")]
RAISED_LIMITS = {"COMMENT_LIMIT_PER_USER": "10000 per minute", "COMMENT_LIMIT_PER_ADDRESS": "10000 per minute"}
"""Posting limits high enough for a test that posts from one address as fast as it can."""
TRACKED_TABLES = ("comments", "audit_events", "search_queue", "notifications")
"""The tables a comment post writes to: a post cut off must leave none of them changed."""
CUT_OFF = "no answer"
"""What a post got when its worker died under it: the connection closed without an answer."""
CHAOS_POSTERS = 3
CHAOS_KILLS = 4
T = TypeVar("T")
SQLITE_PENDING_BYTE = 0x40000000
"""The byte SQLite locks while it waits to commit (its PENDING lock, see sqlite3's os_unix.c)."""


def marker(prefix: str = "fault") -> str:
    """A word that appears nowhere else, to find one comment by."""
    return prefix + "".join(random.choices(string.ascii_lowercase, k=12))


@dataclass
class Site:
    """kb served by gunicorn for a test, its database, and members who can post."""

    server: Gunicorn
    database: Engine
    uri: str
    index_dir: Path
    members: list[str]

    def visitor(self, number: int = 0) -> SiteSession:
        """A visitor signed in as member `number`."""
        visitor = SiteSession(self.server.base)
        visitor.sign_in(self.members[number], PASSWORD)
        return visitor

    def scalar(self, sql: str, **params: object) -> object:
        """One value read from the database."""
        with self.database.connect() as connection:
            return connection.execute(text(sql), params).scalar()

    def counts(self) -> dict[str, int]:
        """How many rows each table a post writes to holds."""
        return {table: int(self.scalar(f"SELECT count(*) FROM {table}")) for table in TRACKED_TABLES}  # type: ignore[arg-type]

    def comments_with(self, word: str) -> list[dict[str, object]]:
        """The comments whose text holds `word`, with what a fully stored post leaves besides the row."""
        sql = """
            SELECT c.id, c.entry_id, c.thread_path, c.html,
                   (SELECT count(*) FROM audit_events a WHERE a.action = 'comment.post' AND a.target_id = c.id)
                       AS audited,
                   (SELECT count(*) FROM search_queue q WHERE q.entry_id = c.entry_id) AS queued
            FROM comments c WHERE c.body LIKE :pattern ORDER BY c.id
        """
        with self.database.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(text(sql), {"pattern": f"%{word}%"})]

    def found_by_search(self, visitor: SiteSession, word: str, entry_path: str) -> bool:
        """Whether a search for `word` as `visitor` lists the entry at `entry_path`."""
        answer = visitor.get(f"/search?q={word}")
        return answer.status == 200 and f'href="{entry_path}' in answer.body


def assert_no_server_errors(site: Site) -> None:
    """No request answered 500, by gunicorn's access log."""
    records = [json.loads(line) for line in site.server.log_lines() if line.startswith("{")]
    errors = [record for record in records if record.get("event") == "request" and record.get("status") == 500]
    assert not errors, errors


def _assert_stored_once_and_whole(site: Site, word: str) -> None:
    rows = site.comments_with(word)
    assert len(rows) == 1, f"comment {word} is stored {len(rows)} times"
    assert_whole(rows[0], word)


def assert_whole(row: dict[str, object], word: str) -> None:
    """A comment row with everything a post stores beside it: rendered text, thread place, audit event, queue row."""
    assert word in str(row["html"]), f"comment {row['id']} has no rendered text"
    assert row["thread_path"], f"comment {row['id']} has no place in its thread"
    assert row["audited"] == 1, f"comment {row['id']} has {row['audited']} audit events"
    assert int(row["queued"]) >= 1, f"comment {row['id']} was never queued for the index"  # type: ignore[call-overload]


def _database_engine(uri: str) -> Engine:
    if uri.startswith("sqlite"):
        return create_engine(uri, connect_args={"timeout": 30})
    return create_engine(uri, pool_pre_ping=True)


@contextmanager
def served_site(tmp_path: Path, app: Flask, members: int = 1, workers: int = 2, **settings: str) -> Iterator[Site]:
    """Serve `app`'s database and index under gunicorn, with `members` member accounts."""
    with app.app_context():
        emails = [make_user(f"member{number}@example.org").email for number in range(members)]
        uri = app.config["SQLALCHEMY_DATABASE_URI"]
        index_dir = Path(app.config["SEARCH_INDEX_DIR"])
        db.engine.dispose()
    engine = _database_engine(uri)
    try:
        env = {"SEARCH_INDEX_DIR": str(index_dir), **RAISED_LIMITS, **settings}
        with gunicorn(tmp_path / "site", uri, workers=workers, **env) as server:
            yield Site(server, engine, uri, index_dir, emails)
    finally:
        engine.dispose()


def post_comment(visitor: SiteSession, entry_path: str, body: str, token: str | None = None) -> int | str:
    """Post a comment; its answer's status, or `CUT_OFF` when the connection closed without one."""
    try:
        answer: Answer = visitor.post(f"{entry_path}/comments", {"body": body}, form_page=entry_path, token=token)
    except (OSError, http.client.HTTPException):
        return CUT_OFF
    return answer.status


def wait_for(find: Callable[[], T | None], what: str) -> T:
    """Poll `find` until it returns something, and return that."""
    found: list[T] = []

    def seen() -> bool:
        value = find()
        if value is not None:
            found.append(value)
        return value is not None

    wait_until(seen, what)
    return found[0]


def replaced(site: Site, killed: int, workers: int = 2) -> None:
    """Wait until gunicorn has replaced the killed worker."""
    wait_until(
        lambda: killed not in site.server.workers() and len(site.server.workers()) == workers,
        f"worker {killed} to be replaced",
    )


def index_report(app: Flask) -> CheckReport:
    """`kb.search.indexing.check` of the served index, read afresh."""
    with app.app_context():
        store = index_store(app)
        store.close_searchers()
        report = check(store)
        db.engine.dispose()
    return report


# A worker killed in the middle of posting


def _socket_inodes(pid: int) -> set[str]:
    found = set()
    for descriptor in Path(f"/proc/{pid}/fd").iterdir():
        with suppress(OSError):
            target = os.readlink(descriptor)
            if target.startswith("socket:["):
                found.add(target[len("socket:[") : -1])
    return found


def worker_with_port(workers: list[int], port: int) -> int | None:
    """The worker whose TCP connection has local port `port` (a PostgreSQL backend's `client_port`)."""
    inodes = {
        fields[9]
        for fields in (line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:])
        if int(fields[1].split(":")[1], 16) == port
    }
    for pid in workers:
        if _socket_inodes(pid) & inodes:
            return pid
    return None


def blocked_backend(site: Site) -> tuple[int, int, str] | None:
    """The PostgreSQL backend waiting on a lock: its pid, its client's port and its statement."""
    sql = """
        SELECT pid, client_port, query FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()
    """
    with site.database.connect() as connection:
        row = connection.execute(text(sql)).first()
    return (row.pid, row.client_port, row.query) if row else None


def backend_alive(site: Site, pid: int) -> bool:
    return bool(site.scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid", pid=pid))


def posix_locks(path: Path) -> list[tuple[int, int]]:
    """The POSIX locks on `path` as (holder pid, first byte), read from /proc/locks."""
    inode = path.stat().st_ino
    found = []
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" in fields:  # A process waiting for a lock, not holding one.
            continue
        if fields[1] == "POSIX" and int(fields[5].split(":")[2]) == inode:
            found.append((int(fields[4]), int(fields[6])))
    return found


def sqlite_committer(site: Site, database: Path) -> int | None:
    """The worker holding SQLite's PENDING lock on `database`: it has written and waits to commit."""
    for pid, first_byte in posix_locks(database):
        if first_byte == SQLITE_PENDING_BYTE and pid in site.server.workers():
            return pid
    return None


@contextmanager
def posting_in_background(action: Callable[[], int | str]) -> Iterator[list[int | str]]:
    """Run one post in a thread; its outcome lands in the list yielded, once the block has let it finish."""
    outcome: list[int | str] = []
    thread = threading.Thread(target=lambda: outcome.append(action()), daemon=True)
    thread.start()
    try:
        yield outcome
    finally:
        thread.join(timeout=120)


def _kill_blocked_post_on_postgresql(site: Site, visitor: SiteSession, body: str) -> None:
    token = visitor.form_token(LESSONS[0])
    with site.database.connect() as holder:
        # The post inserts its comment, then its queue row for the index: it waits there, mid-transaction.
        holder.execute(text("LOCK TABLE search_queue IN ACCESS EXCLUSIVE MODE"))
        with posting_in_background(lambda: post_comment(visitor, LESSONS[0], body, token)) as outcome:
            backend, port, statement = wait_for(lambda: blocked_backend(site), "the post to wait on the locked queue")
            assert statement.lstrip().upper().startswith("INSERT INTO SEARCH_QUEUE"), statement
            worker = worker_with_port(site.server.workers(), port)
            assert worker is not None, "the waiting backend belongs to a gunicorn worker"
            os.kill(worker, signal.SIGKILL)
            holder.rollback()
        assert outcome == [CUT_OFF]
    # The backend finds its client gone once it can go on, and its transaction is rolled back.
    wait_until(lambda: not backend_alive(site, backend), "the dead worker's database session to end")
    replaced(site, worker)


def _kill_blocked_post_on_sqlite(site: Site, visitor: SiteSession, body: str) -> None:
    database = Path(site.uri.removeprefix("sqlite:///"))
    token = visitor.form_token(LESSONS[0])
    holder = sqlite3.connect(database, isolation_level=None)
    try:
        # A read transaction keeps a SHARED lock: the post can write its rows but not commit them.
        holder.execute("BEGIN")
        holder.execute("SELECT count(*) FROM comments").fetchall()
        with posting_in_background(lambda: post_comment(visitor, LESSONS[0], body, token)) as outcome:
            worker = wait_for(lambda: sqlite_committer(site, database), "the post to wait to commit")
            os.kill(worker, signal.SIGKILL)
            holder.execute("ROLLBACK")
        assert outcome == [CUT_OFF]
    finally:
        holder.close()
    replaced(site, worker)
    assert site.scalar("PRAGMA integrity_check") == "ok"


def test_a_worker_killed_while_its_post_waits_on_the_database_leaves_no_trace_of_the_comment(tmp_path, seeded_database):
    app = make_app(tmp_path, seeded_database)
    on_sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    # On SQLite the rate-limit counters would be the post's first write; in memory, the comment is.
    settings = {"RATELIMIT_STORAGE_URI": "memory://"} if on_sqlite else {}
    with served_site(tmp_path, app, **settings) as site:
        visitor = site.visitor()
        word = marker()
        before = site.counts()
        kill_blocked_post = _kill_blocked_post_on_sqlite if on_sqlite else _kill_blocked_post_on_postgresql
        kill_blocked_post(site, visitor, f"Cut off mid-post {word}")
        assert site.comments_with(word) == []
        assert site.counts() == before, "no row of the cut-off post is left in any table it writes"
        assert site.server.get(LESSONS[0]).status == 200
        assert not site.found_by_search(visitor, word, LESSONS[0])

        assert post_comment(visitor, LESSONS[0], f"Posted again {word}") == 303
        _assert_stored_once_and_whole(site, word)
        assert site.found_by_search(visitor, word, LESSONS[0])
        assert_no_server_errors(site)


@dataclass(frozen=True)
class Post:
    """One comment posted in a test: its marker word, where, by which member, and what came back."""

    word: str
    entry_path: str
    member: int
    outcome: int | str


class Crowd:
    """Threads doing `_work(number)` from the start of a `with` block until its end."""

    def __init__(self, count: int) -> None:
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._work, args=(number,), daemon=True) for number in range(count)]

    def __enter__(self) -> Self:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=120)

    def _work(self, number: int) -> None:
        raise NotImplementedError


class Posters(Crowd):
    """Members posting comments from threads, each on an entry of their own, until stopped."""

    def __init__(self, site: Site, count: int, prefix: str, body: Callable[[str], str] = "Comment {}".format) -> None:
        self.site = site
        self.prefix = prefix
        self.body = body
        self.visitors = [site.visitor(number) for number in range(count)]
        self.posts: list[Post] = []
        super().__init__(count)

    def _work(self, number: int) -> None:
        visitor = self.visitors[number]
        entry_path = LESSONS[number % len(LESSONS)]
        token = visitor.form_token(entry_path)
        while not self.stopping.is_set():
            word = marker(self.prefix)
            outcome = post_comment(visitor, entry_path, self.body(word), token)
            self.posts.append(Post(word, entry_path, number, outcome))

    def accepted(self) -> int:
        """How many posts have answered 303 so far."""
        return sum(post.outcome == 303 for post in self.posts)

    def wait_for_more(self, count: int) -> None:
        """Wait until `count` more posts have been accepted."""
        goal = self.accepted() + count
        wait_until(lambda: self.accepted() >= goal, f"{goal} posts to be accepted")


def assert_every_post_stored_whole_and_found(site: Site, posters: Posters) -> list[Post]:
    """Every accepted post stored once; any other stored at most once; all stored ones whole and searchable.

    Returns the posts whose comments are stored.
    """
    stored = []
    for post in posters.posts:
        rows = site.comments_with(post.word)
        if post.outcome == 303:
            assert len(rows) == 1, f"accepted comment {post.word} is stored {len(rows)} times"
        assert len(rows) <= 1, f"comment {post.word} ({post.outcome}) is stored {len(rows)} times"
        for row in rows:
            assert_whole(row, post.word)
            stored.append(post)
    for post in stored:
        visitor = posters.visitors[post.member]
        assert site.found_by_search(visitor, post.word, post.entry_path), f"comment {post.word} is not found"
    return stored


def test_workers_killed_at_random_while_members_post_lose_no_accepted_comment_and_half_store_none(
    tmp_path, seeded_database
):
    app = make_app(tmp_path, seeded_database)
    with served_site(tmp_path, app, members=CHAOS_POSTERS) as site:
        with Posters(site, CHAOS_POSTERS, "chaos") as posters:
            for _ in range(CHAOS_KILLS):
                posters.wait_for_more(3)
                victim = random.choice(site.server.workers())
                os.kill(victim, signal.SIGKILL)
                replaced(site, victim)
            posters.wait_for_more(3)
        outcomes = {post.outcome for post in posters.posts}
        assert outcomes <= {303, CUT_OFF}, outcomes
        stored = assert_every_post_stored_whole_and_found(site, posters)
        assert len(stored) >= posters.accepted()
        report = index_report(app)
        assert report.in_step, report
        assert report.pending == 0
        assert_no_server_errors(site)


# A worker killed in the middle of an index write

LONG_COMMENT_WORDS = 600
"""Long comments make each index write (an entry's document holds its comments) slow enough to catch."""
CATCH_DEADLINE = 120.0


@cache
def seed_words() -> list[str]:
    """Every word of the seed content."""
    texts = (path.read_text(encoding="utf-8") for path in sorted(SEED_CONTENT.rglob("*.md")))
    return sorted({word.strip(".,;:()*#\"'").lower() for text in texts for word in text.split()} - {""})


def long_comment(word: str) -> str:
    """A comment of many words from the seed content, holding `word`."""
    return f"{word} " + " ".join(random.choices(seed_words(), k=LONG_COMMENT_WORDS))


def flock_holders(path: Path) -> set[int]:
    """The processes holding a `flock` on `path`, read from /proc/locks."""
    try:
        inode = path.stat().st_ino
    except FileNotFoundError:
        return set()
    holders = set()
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if fields[1] == "FLOCK" and int(fields[5].split(":")[2]) == inode:
            holders.add(int(fields[4]))
    return holders


def stopped(pid: int) -> bool:
    """Whether process `pid` is stopped by a signal."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"


def pending_now(site: Site) -> int | None:
    """Queued changes not yet indexed, or None when the database cannot be read at once (a stopped writer)."""
    if not site.uri.startswith("sqlite"):
        return int(site.scalar("SELECT count(*) FROM search_queue WHERE indexed_at IS NULL"))  # type: ignore[arg-type]
    try:
        with sqlite3.connect(site.uri.removeprefix("sqlite:///"), timeout=1) as connection:
            return int(connection.execute("SELECT count(*) FROM search_queue WHERE indexed_at IS NULL").fetchone()[0])
    except sqlite3.OperationalError:
        return None


def catch_index_writer(site: Site) -> int:
    """Stop (SIGSTOP) a worker caught holding the index's writer lock with changes queued; return its pid."""
    lock = site.index_dir / "write.lock"
    give_up = time.monotonic() + CATCH_DEADLINE
    while time.monotonic() < give_up:
        holders = flock_holders(lock) & set(site.server.workers())
        if not holders:
            time.sleep(0.002)
            continue
        worker = holders.pop()
        os.kill(worker, signal.SIGSTOP)
        while not stopped(worker):
            time.sleep(0.001)
        if worker in flock_holders(lock) and (pending_now(site) or 0) > 0:
            return worker
        os.kill(worker, signal.SIGCONT)
    pytest.fail("never caught a worker writing the index")


def lock_is_free(path: Path) -> bool:
    """Whether nobody holds a `flock` on `path` (tried without waiting, and let go at once)."""
    with path.open("a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
    return True


def test_a_worker_killed_while_writing_the_index_leaves_no_stale_lock_and_the_index_catches_up(
    tmp_path, seeded_database
):
    app = make_app(tmp_path, seeded_database)
    with served_site(tmp_path, app, members=2) as site:
        with Posters(site, 2, "indexed", body=long_comment) as posters:
            posters.wait_for_more(2)
            worker = catch_index_writer(site)
            assert worker in flock_holders(site.index_dir / "write.lock"), "still holding the lock when killed"
            os.kill(worker, signal.SIGKILL)
            replaced(site, worker)
            posters.wait_for_more(2)
        wait_until(lambda: lock_is_free(site.index_dir / "write.lock"), "nobody to hold the index writer lock")
        assert {post.outcome for post in posters.posts} <= {303, CUT_OFF}
        stored = assert_every_post_stored_whole_and_found(site, posters)
        # The worker was indexing after its post's commit: its member got no answer, but the comment stands.
        cut_off = [post for post in posters.posts if post.outcome == CUT_OFF]
        assert cut_off, "the killed worker was answering a post"
        assert all(post in stored for post in cut_off)
        report = index_report(app)
        assert report.in_step, report
        assert report.pending == 0
        assert_no_server_errors(site)


# The database restarted under load

READ_PATHS = ("/", "/lessons", *LESSONS[:3], "/search?q=handover", "/search?q=rota&kind=lesson")


class Readers(Crowd):
    """Anonymous visitors reading pages and searching from threads, until stopped; every answer kept."""

    def __init__(self, site: Site, count: int) -> None:
        self.site = site
        self.answers: list[tuple[str, int | str, str]] = []
        super().__init__(count)

    def _work(self, number: int) -> None:
        visitor = SiteSession(self.site.server.base)
        turn = number
        while not self.stopping.is_set():
            path = READ_PATHS[turn % len(READ_PATHS)]
            turn += 1
            try:
                answer = visitor.get(path)
            except (OSError, http.client.HTTPException):
                self.answers.append((path, CUT_OFF, ""))
                continue
            self.answers.append((path, answer.status, answer.body))

    def count(self, status: int) -> int:
        """How many answers so far had `status`."""
        return sum(answer[1] == status for answer in self.answers)


def seeded_postgres_app(tmp_path: Path, server: PostgresServer) -> Flask:
    """An app on a database of its own on `server`: migrated, with the seed content imported and indexed."""
    app = create_app(
        {
            "INSTANCE_PATH": tmp_path / "instance",
            "SQLALCHEMY_DATABASE_URI": server.url,
            "SEARCH_INDEX_DIR": str(tmp_path / "search_index"),
            "SECRET_KEY": "fault-test-secret",
            "AUTO_MIGRATE": True,
            "SEARCH_REBUILD_AT_START": "inline",
        }
    )
    with app.app_context():
        report = import_directory(SEED_CONTENT)
        assert not report.problems
        db.session.commit()
        db.engine.dispose()
    return app


@pytest.mark.skipif(TEST_DATABASE != "postgresql", reason="PostgreSQL restarted: runs in the PostgreSQL pass")
def test_postgresql_restarted_under_load_answers_503_meanwhile_and_recovers_keeping_every_accepted_post(tmp_path):
    postgres = postgres_or_skip(tmp_path / "postgres")
    try:
        app = seeded_postgres_app(tmp_path, postgres)
        with served_site(tmp_path, app, members=2) as site:
            with Readers(site, 2) as readers, Posters(site, 2, "restart") as posters:
                posters.wait_for_more(3)
                postgres.stop()
                wait_until(lambda: readers.count(503) >= 3, "pages to answer 503 while the database is down")
                wait_until(lambda: any(post.outcome == 503 for post in posters.posts), "a post to answer 503")
                postgres.start()
                posters.wait_for_more(3)
                served_before = readers.count(200)
                wait_until(lambda: readers.count(200) >= served_before + 10, "pages to be served again")
            statuses = {status for _, status, _ in readers.answers} | {post.outcome for post in posters.posts}
            assert statuses <= {200, 303, 503}, statuses
            assert not [path for path, _, body in readers.answers if "Traceback" in body or "psycopg" in body]
            assert_every_post_stored_whole_and_found(site, posters)
            report = index_report(app)
            assert report.in_step, report
            assert report.pending == 0
            assert_no_server_errors(site)
    finally:
        postgres.remove()


def test_a_post_whose_database_goes_away_after_it_commits_answers_503_not_500(tmp_path, seeded_database):
    # The rate limiter adds its headers after the view, reading its counters from the database: an
    # outage that starts between the commit and those headers used to escape the 503 page as a 500.
    settings = {"RATELIMIT_STORAGE_URI": "database", "PROPAGATE_EXCEPTIONS": False, **RAISED_LIMITS}
    app = make_app(tmp_path, seeded_database, **settings)
    word = marker("aftercommit")
    away = ExitStack()

    @app.after_request
    def take_the_database_away(response: Response) -> Response:  # Runs before the limiter's own hook.
        if request.method == "POST":
            away.enter_context(database_unreachable(app))
            limiter.storage.engine.dispose()
        return response

    with app.app_context():
        member = make_user("member@example.org")
        client = client_for(app, member)
        token = csrf_token(client.get(LESSONS[0]).get_data(as_text=True))
        db.session.remove()  # Hand back this context's connection before they are all cut.
        with away:
            response = client.post(f"{LESSONS[0]}/comments", data={"csrf_token": token, "body": f"Stored {word}"})
        assert response.status_code == 503
        page = response.get_data(as_text=True)
        assert "Sorry, the service is unavailable" in page
        assert "may have been saved just before the connection was lost" in page
        assert "What you just sent was not saved" not in page, "it was saved: the page must not ask for it again"
        assert db.session.scalar(select(func.count()).where(Comment.body.contains(word))) == 1


def test_an_entry_page_whose_related_entries_cannot_be_read_from_the_index_still_answers(tmp_path, seeded_database):
    # Under load a worker's searcher met segment files another worker's merge had removed: the
    # stored fields of related entries were read outside the guard that turns index failures into
    # "no related entries", and the lesson's page answered 500.
    app = make_app(tmp_path, seeded_database, PROPAGATE_EXCEPTIONS=False)
    with app.app_context():
        store = index_store(app)
        generation = store.root / str(store.current_generation())
        stored = sorted(generation.glob("*._stored.col"))
        assert stored
        for path in stored:
            path.unlink()
        response = app.test_client().get(LESSONS[0])
        assert response.status_code == 200
        db.engine.dispose()


def test_a_page_whose_database_connection_is_cut_after_it_is_made_still_answers(tmp_path, seeded_database):
    # A PostgreSQL restart that ends the connection between the page and the end of the request made
    # the session's last rollback raise out of Flask, after every error handler: gunicorn answered 500.
    app = make_app(tmp_path, seeded_database, PROPAGATE_EXCEPTIONS=False)
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        pytest.skip("a connection cut by the database server: PostgreSQL")

    @app.after_request
    def cut_the_connections(response: Response) -> Response:
        admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [url.database]
            )
        return response

    with app.app_context():
        response = app.test_client().get(LESSONS[0])
        assert response.status_code == 200
        assert "<h1" in response.get_data(as_text=True)
        db.engine.dispose()


def holds_advisory_lock(site: Site, backend: int | None = None) -> bool:
    """Whether `backend` (or any session) holds an advisory lock: the PostgreSQL search documents' write lock."""
    sql = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
    if backend is None:
        return bool(site.scalar(sql))
    return bool(site.scalar(sql + " AND pid = :pid", pid=backend))


def test_a_worker_killed_while_writing_postgresql_search_documents_leaves_no_lock_and_they_catch_up(tmp_path):
    if "postgresql" not in SEARCH_BACKENDS:
        pytest.skip("the PostgreSQL search backend is tested in the PostgreSQL pass")
    app = postgres_search_app(tmp_path, seeded=True)
    with served_site(tmp_path, app, SEARCH_BACKEND="postgresql") as site:
        visitor = site.visitor()
        token = visitor.form_token(LESSONS[0])
        word = marker("pgindex")
        with site.database.connect() as holder:
            # Reads go on; the drain after the post's commit takes the write lock, then waits to write.
            holder.execute(text("LOCK TABLE search_documents IN SHARE MODE"))
            with posting_in_background(lambda: post_comment(visitor, LESSONS[0], f"Indexed {word}", token)) as outcome:
                backend, port, statement = wait_for(lambda: blocked_backend(site), "the drain to wait to write")
                assert "search_documents" in statement
                assert holds_advisory_lock(site, backend), "the waiting drain holds the documents' write lock"
                worker = worker_with_port(site.server.workers(), port)
                assert worker is not None
                os.kill(worker, signal.SIGKILL)
                holder.rollback()
            assert outcome == [CUT_OFF]
        wait_until(lambda: not backend_alive(site, backend), "the dead worker's database session to end")
        replaced(site, worker)
        assert not holds_advisory_lock(site), "the write lock ended with the session"
        _assert_stored_once_and_whole(site, word)
        assert pending_now(site), "the killed drain's writes were rolled back: the change is still queued"
        assert site.found_by_search(visitor, word, LESSONS[0]), "a search writes what was left queued"
        with app.app_context():
            report = check_search()
            db.engine.dispose()
        assert report.in_step, report
        assert report.pending == 0
        assert_no_server_errors(site)
