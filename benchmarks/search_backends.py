"""The two search backends side by side: rebuild and query times on one PostgreSQL database.

    .venv/bin/python benchmarks/search_backends.py [--size 3000] [--requests 15] [--seed 11]

Starts a throwaway PostgreSQL server (`tests/postgres.py`), writes `search_bench.py`'s
synthetic corpus into it, builds the Whoosh index and the PostgreSQL search documents from
the same rows, then times `kb.search.service.search` as a member for each of the benchmark's
query shapes on each backend (the service's work: visibility, totals, facets, the top ten
with snippets; no template). Prints medians and p95s in milliseconds; the machine is shared,
so compare the two columns of one run rather than runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from flask import Flask
from search_bench import Times, kb_service, load_corpus, make_shapes, repeat
from sqlalchemy import text

from kb import create_app
from kb.extensions import db
from kb.search.backend import index_store
from kb.search.indexing import rebuild
from kb.search.pg import indexing as pg_indexing
from tests.postgres import running_postgres


def make_app(folder: Path, uri: str, backend: str, *, migrate: bool) -> Flask:
    """A kb app on the benchmark's database searching with `backend`."""
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": folder / "instance",
            "SQLALCHEMY_DATABASE_URI": uri,
            "SEARCH_INDEX_DIR": str(folder / "search_index"),
            "CONTENT_DIR": str(folder / "content"),
            "SECRET_KEY": "benchmark-secret-key",
            "AUTO_MIGRATE": migrate,
            "SEARCH_REBUILD_AT_START": "off",
            "SEARCH_BACKEND": backend,
        }
    )


def timed(action: object) -> float:
    """Seconds `action()` took."""
    started = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    """Build both backends from one corpus and print their query times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--seed", type=int, default=11)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kb-search-backends-") as name, running_postgres(Path(name)) as server:
        folder = Path(name)
        postgres = make_app(folder / "pg", server.url, "postgresql", migrate=True)
        whoosh = make_app(folder / "whoosh", server.url, "whoosh", migrate=False)
        with postgres.app_context():
            corpus = load_corpus(arguments.size, arguments.seed)
            print(f"{arguments.size} entries written in {corpus.seconds:.1f} s", flush=True)
            db.session.execute(text("ANALYZE"))  # As autovacuum would soon after a bulk load.
            db.session.commit()
            pg_seconds = timed(pg_indexing.rebuild)
        with whoosh.app_context():
            whoosh_seconds = timed(lambda: rebuild(index_store()))
        rates = f"PostgreSQL {arguments.size / pg_seconds:.0f} entries/s, Whoosh {arguments.size / whoosh_seconds:.0f}"
        print(f"rebuild: {rates}")
        print(f"{'shape':<16} {'matches':>7}  {'PostgreSQL p50/p95 ms':>22}  {'Whoosh p50/p95 ms':>20}")
        for shape in make_shapes(corpus.vocabulary):
            results: dict[str, Times] = {}
            totals: dict[str, int] = {}
            for backend, app in (("postgresql", postgres), ("whoosh", whoosh)):
                run = kb_service(app, corpus.viewer, shape)
                totals[backend] = run().total  # type: ignore[attr-defined]
                results[backend] = repeat(run, arguments.requests)
            matches = (
                totals["postgresql"]
                if totals["postgresql"] == totals["whoosh"]
                else f"{totals['postgresql']}/{totals['whoosh']}"
            )
            print(
                f"{shape.name:<16} {matches!s:>7}  {results['postgresql']!s:>22}  {results['whoosh']!s:>20}", flush=True
            )
        with postgres.app_context():
            db.engine.dispose()
        with whoosh.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
