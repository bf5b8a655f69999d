"""Render time of an entry page carrying a large discussion.

    .venv/bin/python benchmarks/thread_bench.py [--sizes 200 2000] [--requests 40] [--freeze] [--without-tools]

Builds a throwaway database from the seed content, gives one public lesson per size a
discussion of that many comments, shaped like a real one (about a third start a thread,
most replies answer something recent, one long argument runs 60 replies deep), then
requests each entry page through the Flask test client, signed in as a member (who
gets each comment's reply, flag and edit links) and signed out, and prints the median
and p95 in milliseconds with the number of SQL queries per page. The page with no
comments is the baseline. The machine is shared: compare ratios between
runs rather than absolute times.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, select

from kb import create_app
from kb.comments import pages
from kb.comments.models import Comment, path_step
from kb.config import PROJECT_ROOT
from kb.content.service import import_directory
from kb.entries.models import Entry
from kb.extensions import db
from kb.markdown import render
from kb.users.models import Organisation, User
from kb.users.session_store import open_session

WORDS = (
    "commissioning provider readiness pressure procurement quality cost triage pathway clinical "
    "service contract region launch review lesson evidence pilot feedback urgent care system "
    "capacity demand safety governance assurance timescale partner consortium bid price"
).split()
DEEP_CHAIN = 60


def comment_text(rng: random.Random) -> str:
    """One to three short paragraphs, some with emphasis, a list or a link, as people write."""
    paragraphs = []
    for _ in range(rng.randint(1, 3)):
        words = [rng.choice(WORDS) for _ in range(rng.randint(12, 45))]
        if rng.random() < 0.3:
            words[rng.randrange(len(words))] = f"**{rng.choice(WORDS)}**"
        paragraphs.append(" ".join(words).capitalize() + ".")
    if rng.random() < 0.1:
        paragraphs.append("\n".join(f"- {rng.choice(WORDS)} {rng.choice(WORDS)}" for _ in range(3)))
    if rng.random() < 0.1:
        paragraphs.append("See [the report](https://example.org/report).")
    return "\n\n".join(paragraphs)


def make_people(count: int) -> list[User]:
    organisation = Organisation(name="Benchmark trust", type="provider", region="England")
    db.session.add(organisation)
    people = [
        User(email=f"person{number}@example.org", display_name=f"Person {number}", role="member", active=True)
        for number in range(count)
    ]
    for person in people:
        person.organisation = organisation
    db.session.add_all(people)
    db.session.flush()
    return people


def add_discussion(entry: Entry, size: int, people: list[User], rng: random.Random) -> None:
    """`size` comments on `entry`: threads, replies to recent comments, and one very deep chain."""
    made: list[Comment] = []
    chain_tip: Comment | None = None
    for number in range(size):
        roll = rng.random()
        if number < DEEP_CHAIN and size >= 4 * DEEP_CHAIN:
            parent = chain_tip
        elif not made or roll < 0.33:
            parent = None
        elif roll < 0.85:
            parent = made[-rng.randint(1, min(len(made), 8))]
        else:
            parent = rng.choice(made)
        body = comment_text(rng)
        comment = Comment(
            entry_id=entry.id,
            parent_id=parent.id if parent else None,
            author_id=rng.choice(people).id,
            depth=parent.depth + 1 if parent else 0,
            body=body,
            html="",
        )
        db.session.add(comment)
        db.session.flush()
        comment.thread_path = (f"{parent.thread_path}/" if parent else "") + path_step(comment.id)
        comment.html = render(body, anchor_prefix=f"c{comment.id}-").html
        made.append(comment)
        if number < DEEP_CHAIN:
            chain_tip = comment
    db.session.commit()


def page_times(app, client, path: str, requests: int) -> tuple[float, float, int]:
    """Median and p95 render times in ms, and the SQL statements one request runs."""
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    client.get(path)
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    client.get(path)
    event.remove(engine, "before_cursor_execute", count)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], len(statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--without-tools",
        action="store_true",
        help="leave out each comment's flag and moderation tools, to time the thread's own work",
    )
    parser.add_argument(
        "--freeze",
        action="store_true",
        help="gc.freeze() once the app is built, as a server can after start-up: the collector then skips "
        "the objects made at start, which otherwise lengthen the pauses a large page triggers",
    )
    arguments = parser.parse_args()
    rng = random.Random(arguments.seed)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        app = create_app(
            {
                "INSTANCE_PATH": folder / "instance",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'kb.sqlite3'}",
                "SEARCH_INDEX_DIR": str(folder / "search_index"),
                "SEARCH_REBUILD_AT_START": "inline",
                "SECRET_KEY": "benchmark",
                "FREEZE_STARTUP_OBJECTS": False,
            }
        )
        with app.app_context():
            import_directory(PROJECT_ROOT / "content")
            db.session.commit()
            lessons = db.session.scalars(
                select(Entry)
                .where(Entry.kind == "lesson", Entry.status == "published", Entry.visibility == "public")
                .order_by(Entry.slug)
            ).all()
            people = make_people(40)
            reader = people[0]
            started = time.perf_counter()
            for entry, size in zip(lessons[1:], arguments.sizes, strict=False):
                add_discussion(entry, size, people, rng)
            built = time.perf_counter() - started
            paths = {0: lessons[0].path} | {
                size: entry.path for entry, size in zip(lessons[1:], arguments.sizes, strict=False)
            }
            _row, token = open_session(
                reader, remember=False, user_agent="benchmark", address="127.0.0.1", config=app.config
            )
            db.session.commit()
            deepest = db.session.scalar(select(Comment.depth).order_by(Comment.depth.desc()).limit(1))
        print(f"discussions built in {built:.1f} s; deepest reply {deepest} levels down")
        if arguments.without_tools:
            pages._tools_template = lambda: None
        if arguments.freeze:
            gc.collect()
            gc.freeze()
        client = app.test_client()
        now = int(time.time())
        with client.session_transaction() as session:
            session.update({"_user_id": token, "_fresh": True, "signed_in_at": now, "seen_at": now, "setup": []})
        readers = {"member": client, "anonymous": app.test_client()}
        frozen = ", start-up objects frozen" if arguments.freeze else ""
        frozen += ", without the flag and moderation tools" if arguments.without_tools else ""
        print(f"\nentry page, {arguments.requests} requests (ms){frozen}; load average {os.getloadavg()[0]:.1f}")
        print(f"{'reader':10} {'comments':>8} {'median':>8} {'p95':>8} {'queries':>8}")
        for reader_name, reader_client in readers.items():
            for size, path in paths.items():
                median, p95, queries = page_times(app, reader_client, path, arguments.requests)
                print(f"{reader_name:10} {size:8} {median:8.1f} {p95:8.1f} {queries:8}")


if __name__ == "__main__":
    main()
