"""Several processes saving at once: save times, lock errors, and whether any change was missed.

    .venv/bin/python benchmarks/index_contention.py [--processes 4] [--saves 40] [--naive]

Each process builds its own kb app on one shared SQLite database and search index, then
edits entries (a new unique word in the title each time) and commits, which queues the
change and drains the queue under the writer lock. At the end the script checks that
every unique word is searchable and that `search check` finds the index in step.

With `--naive`, each save instead opens a Whoosh writer itself right after the commit
(no queue, no lock of kb's own), as a simple design would, and counts the LockErrors.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb import create_app
from kb.config import PROJECT_ROOT
from kb.content.service import import_directory
from kb.extensions import db


def settings(folder: Path, **extra: Any) -> dict[str, Any]:
    """Settings for a throwaway app in `folder`."""
    return {
        "INSTANCE_PATH": folder / "instance",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'kb.sqlite3'}",
        "SEARCH_INDEX_DIR": str(folder / "search_index"),
        "SECRET_KEY": "benchmark",
        "SEARCH_REBUILD_AT_START": "inline",
        **extra,
    }


def prepare(folder: Path) -> list[int]:
    """Load the seed content into a new database and index; returns the entry ids."""
    from kb.entries.models import Entry

    app = create_app(settings(folder))
    with app.app_context():
        import_directory(PROJECT_ROOT / "content")
        db.session.commit()
        return list(db.session.scalars(db.select(Entry.id)))


def naive_index(app: Any, entry: Any) -> None:
    """Write one entry straight into the index with a plain Whoosh writer, as a naive save would."""
    from kb.search.backend import index_store
    from kb.search.documents import index_document

    writer = index_store(app).open_current().writer()
    writer.update_document(**index_document(entry))
    writer.commit()


def worker(arguments: tuple[Path, int, list[int], int, bool]) -> dict[str, Any]:
    """Save `saves` entries from one process; returns its save times and errors."""
    folder, number, entry_ids, saves, naive = arguments
    from sqlalchemy.orm import selectinload

    from kb.entries.models import Entry
    from kb.taxonomy.models import Tag

    app = create_app(settings(folder, SEARCH_LOCK_TIMEOUT=10.0))
    times: list[float] = []
    errors: list[str] = []
    with app.app_context():
        if naive:
            from kb.search import lifecycle

            lifecycle.drain_now = lambda app: True  # the naive design indexes in the request instead
        for save in range(saves):
            entry_id = entry_ids[(number * saves + save) % len(entry_ids)]
            word = f"contended{number}x{save}q"
            entry = db.session.get(Entry, entry_id, options=[selectinload(Entry.tags).selectinload(Tag.theme)])
            entry.title = f"{entry.title.split(' contended')[0]} {word}"
            started = time.perf_counter()
            try:
                db.session.commit()
                if naive:
                    naive_index(app, entry)
            except Exception as error:
                errors.append(type(error).__name__)
                db.session.rollback()
                continue
            times.append(time.perf_counter() - started)
    return {"times": times, "errors": errors}


def searchable(folder: Path) -> tuple[int, int, bool]:
    """Of the entries' final titles, how many search finds by their unique word; and whether the index is in step.

    Nothing is drained first: what a save left behind is what a reader would find.
    """
    from kb.entries.models import Entry
    from kb.permissions import Viewer
    from kb.search.backend import index_store
    from kb.search.indexing import check
    from kb.search.service import SearchRequest, search

    app = create_app(settings(folder))
    with app.app_context():
        titles = db.session.scalars(db.select(Entry.title).where(Entry.title.contains(" contended")))
        words = [title.rsplit(" ", 1)[1] for title in titles]
        staff = Viewer(user_id=0, role="moderator")
        found = sum(1 for word in words if search(staff, SearchRequest(text=word, exact=True)).total)
        return found, len(words), check(index_store(app)).in_step


def main() -> None:
    """Run the contention benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--saves", type=int, default=40)
    parser.add_argument("--naive", action="store_true", help="index in the request with a plain Whoosh writer")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        entry_ids = prepare(folder)
        jobs = [(folder, number, entry_ids, options.saves, options.naive) for number in range(options.processes)]
        started = time.perf_counter()
        with multiprocessing.get_context("spawn").Pool(options.processes) as pool:
            results = pool.map(worker, jobs)
        elapsed = time.perf_counter() - started
        times = sorted(t for result in results for t in result["times"])
        errors = [error for result in results for error in result["errors"]]
        found, edited, in_step = searchable(folder)
    design = "naive (plain writer in the request)" if options.naive else "kb (queue + lock + drain)"
    print(f"design: {design}; {options.processes} processes x {options.saves} saves in {elapsed:.1f} s")
    if times:
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        print(f"save time: p50 {statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")
    print(f"failed saves: {len(errors)} {sorted(set(errors))}")
    print(f"edited entries found by their final title: {found} of {edited}; index in step with database: {in_step}")


if __name__ == "__main__":
    main()
