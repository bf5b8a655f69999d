"""Load benchmark: Locust's simulated members against kb served by gunicorn, then a check that no comment was lost.

    .venv/bin/python benchmarks/load/run.py                      # all six runs, 50 members, 60 s each
    .venv/bin/python benchmarks/load/run.py --config postgresql-postgresql --workers 4 --seconds 20
    .venv/bin/python benchmarks/load/run.py --config sqlite-whoosh --workers 2 --profile

Configurations: `sqlite-whoosh` (SQLite file, Whoosh index), `postgresql-whoosh` (PostgreSQL,
Whoosh index) and `postgresql-postgresql` (PostgreSQL with `SEARCH_BACKEND=postgresql`), each
under `gunicorn.conf.py` with `WEB_CONCURRENCY` 2 and 4. For each run, from scratch in a
throwaway folder: a new database (PostgreSQL: a throwaway server from `tests/postgres.py`)
migrated, `content/` imported, the member accounts made, the search index built; then
gunicorn on a loopback port and Locust headless (`locustfile.py`: sign in, then 70% page
reads, 20% searches, 10% comment posts). The comment rate limits per member and per address,
and the sign-in limit per address (every member comes from 127.0.0.1), are raised for the
run through their settings; they are still counted.

Prints per run: requests/s, p50/p95/p99 latency, errors, the same per kind of request, the
CPU Locust took; then checks every comment that was answered 303 is in the database once,
by its author on its entry, and found by a search for its marker made as its author. Ends
with a table of all runs. `--profile` samples the workers with py-spy during the window
(it takes CPU too: profile runs are for where the time goes, not for the figures).
Needs `pip install -r requirements-load.txt`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from flask import Flask
from sqlalchemy import select

from benchmarks.load.check import Accepted, CheckReport, check_accepted
from benchmarks.load.cpu import cores_used, cpu_ticks, top_costs
from kb import create_app
from kb.comments.service import takes_comments
from kb.content.service import import_directory
from kb.entries.models import Entry
from kb.entries.vocabulary import KIND_PLURALS
from kb.extensions import db
from kb.permissions import viewer_for, visible_entries
from kb.search.backend import backend
from kb.users.models import User
from tests.accounts import PASSWORD, make_user
from tests.postgres import PostgresServer, start_postgres
from tests.serving import Gunicorn, gunicorn

CONFIGS = {
    "sqlite-whoosh": ("sqlite", "whoosh"),
    "postgresql-whoosh": ("postgresql", "whoosh"),
    "postgresql-postgresql": ("postgresql", "postgresql"),
}
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
RAISED_LIMITS = {
    "COMMENT_LIMIT_PER_USER": "100000 per minute",
    "COMMENT_LIMIT_PER_ADDRESS": "100000 per minute",
    "LOGIN_LIMIT_PER_ADDRESS": "1000 per 10 minutes",
}
SIGN_IN_ALLOWANCE = 300
"""Seconds Locust may take beyond the window (signing everyone in, stopping) before it is stopped."""
TARGETS = "targets (PostgreSQL, 4 workers): >= 300 req/s, p95 <= 200 ms, 0 errors, 0 lost"
WORD = re.compile(r"[a-z]{5,}")
COMMON = set(
    "about after again being below could every first found their there these those through under where which".split()
)


@dataclass
class Run:
    """One configuration's outcome."""

    config: str
    workers: int
    result: dict[str, Any]
    check: CheckReport
    cores: dict[str, float]
    profile: list[str]


def _app(folder: Path, uri: str, backend: str) -> Flask:
    return create_app(
        {
            "INSTANCE_PATH": folder / "instance",
            "SQLALCHEMY_DATABASE_URI": uri,
            "SEARCH_INDEX_DIR": str(folder / "search_index"),
            "SECRET_KEY": "load-benchmark-secret",
            "AUTO_MIGRATE": True,
            "SEARCH_REBUILD_AT_START": "off",
            "SEARCH_BACKEND": backend,
            "FREEZE_STARTUP_OBJECTS": False,
        }
    )


def prepare(app: Flask, members: int) -> dict[str, Any]:
    """Import `content/`, make the members, build the index; return the plan Locust follows."""
    with app.app_context():
        report = import_directory(PROJECT_ROOT / "content")
        if report.problems:
            raise SystemExit("content/ did not import: " + "; ".join(str(p) for p in report.problems))
        db.session.commit()
        emails = [f"member{number:03d}@load.example.org" for number in range(members)]
        for email in emails:
            make_user(email)
        viewer = viewer_for(db.session.scalar(select(User).where(User.email == emails[0])))
        backend().rebuild()
        entries = list(db.session.scalars(select(Entry).where(visible_entries(viewer)).order_by(Entry.slug)))
        plan = _plan(entries, emails)
        db.session.remove()
        db.engine.dispose()
    return plan


def _plan(entries: list[Entry], emails: list[str]) -> dict[str, Any]:
    paths = [f"/{KIND_PLURALS[entry.kind]}/{entry.slug}" for entry in entries]
    words: Counter[str] = Counter()
    for entry in entries:
        words.update(WORD.findall(f"{entry.title} {entry.summary or ''}".lower()))
    tags = sorted({tag.slug for entry in entries for tag in entry.tags})
    return {
        "members": emails,
        "password": PASSWORD,
        "entries": paths,
        "commentable": [path for path, entry in zip(paths, entries, strict=True) if takes_comments(entry)],
        "lists": ["/lessons", "/lessons?page=2", "/reviews", "/papers", "/themes", "/tags"],
        "words": sorted(word for word in words if word not in COMMON),
        "filters": [("kind", kind) for kind in sorted({e.kind for e in entries})] + [("tag", tag) for tag in tags],
    }


def _database(folder: Path, kind: str) -> tuple[str, PostgresServer | None]:
    if kind == "sqlite":
        return f"sqlite:///{folder / 'kb.sqlite3'}", None
    server = start_postgres(folder / "postgres")
    return server.url, server


def _locust(base: str, folder: Path, options: argparse.Namespace) -> subprocess.Popen:
    """Locust headless on `base`, with the plan in `folder`; its figures go to `folder/result.json`."""
    env = {
        **os.environ,
        "KB_LOAD_PLAN": str(folder / "plan.json"),
        "KB_LOAD_RESULT": str(folder / "result.json"),
        "KB_LOAD_SECONDS": str(options.seconds),
        "KB_LOAD_PACE": str(options.pace),
        "KB_LOAD_MIX": options.mix,
    }
    users = str(options.users)
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", base]
    command += ["-u", users, "-r", users, "--run-time", f"{int(options.seconds) + SIGN_IN_ALLOWANCE}s"]
    command += ["--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0"]
    with (folder / "locust.log").open("wb") as output:
        return subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)


def _profile(workers: list[int], seconds: float, folder: Path) -> list[subprocess.Popen]:
    """py-spy sampling each worker for the window, aggregated by function.

    Only samples holding the GIL count (`--gil`): time a worker spends waiting for PostgreSQL,
    SQLite or the network is not its own work.
    """
    spy = str(Path(sys.executable).parent / "py-spy")
    spies = []
    for pid in workers:
        command = [spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "50", "--gil"]
        command += ["--format", "raw", "--function", "--nonblocking", "--output", str(folder / f"profile-{pid}.txt")]
        spies.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return spies


def _wait_for(path: Path, locust: subprocess.Popen) -> bool:
    while not path.exists():
        if locust.poll() is not None:
            return False
        time.sleep(0.2)
    return True


def _postmaster(server: PostgresServer | None) -> dict[str, int]:
    if server is None:
        return {}
    return {"PostgreSQL": int((server.data_dir / "postmaster.pid").read_text().split()[0])}


def measure(
    site: Gunicorn, locust: subprocess.Popen, folder: Path, options: argparse.Namespace, server: PostgresServer | None
) -> tuple[dict[str, float], list[str]]:
    """While Locust runs: the cores kb, PostgreSQL and Locust used in the window, and py-spy's profile if asked."""
    result_file = folder / "result.json"
    if not _wait_for(result_file.with_suffix(".json.started"), locust):
        return {}, []
    roots = {"kb (gunicorn)": site.process.pid, **_postmaster(server), "Locust": locust.pid}
    started, before = time.monotonic(), cpu_ticks(roots)
    spies = _profile(site.workers(), options.seconds, folder) if options.profile else []
    _wait_for(result_file, locust)
    used = cores_used(before, cpu_ticks(roots), time.monotonic() - started)
    locust.wait()
    for spy in spies:
        spy.wait()
    return used, top_costs(sorted(folder.glob("profile-*.txt"))) if options.profile else []


def run_one(config: str, workers: int, options: argparse.Namespace, root: Path) -> Run:
    """Prepare one configuration from scratch, load it, check the accepted comments."""
    database, backend = CONFIGS[config]
    folder = root / f"{config}-{workers}"
    folder.mkdir(parents=True)
    print(f"\n== {config}, {workers} workers: {options.users} members for {options.seconds:g} s ==", flush=True)
    uri, server = _database(folder, database)
    try:
        app = _app(folder, uri, backend)
        plan = prepare(app, options.users)
        (folder / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
        print(f"prepared: {len(plan['entries'])} entries, {len(plan['members'])} members, index built", flush=True)
        settings = {"SEARCH_INDEX_DIR": str(folder / "search_index"), "SEARCH_BACKEND": backend, **RAISED_LIMITS}
        result_file = folder / "result.json"
        with gunicorn(folder / "site", uri, workers=workers, **settings) as site:
            locust = _locust(site.base, folder, options)
            try:
                cores, profile = measure(site, locust, folder, options, server)
            finally:
                if locust.poll() is None:  # Measuring failed: leave no load running behind.
                    locust.kill()
                    locust.wait()
        if not result_file.exists():
            raise SystemExit(f"Locust ended without figures; see {folder / 'locust.log'}")
        result = json.loads(result_file.read_text(encoding="utf-8"))
        accepted = [Accepted(a["marker"], a["email"], a["entry"]) for a in result["accepted"]]
        check = check_accepted(app, accepted)
        with app.app_context():
            db.engine.dispose()
    finally:
        if server is not None:
            server.remove()
    run = Run(config, workers, result, check, cores, profile)
    print_run(run)
    return run


def print_run(run: Run) -> None:
    """The figures of one run, per kind of request and in all."""
    result = run.result
    print(f"{'kind':<16} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6}")
    for kind in [*(k for k in result["kinds"] if k["requests"]), {**result["total"], "name": "all"}]:
        print(
            f"{kind['name']:<16} {kind['requests']:>8} {kind['rps']:>7.1f} {kind['p50_ms']:>7.0f} "
            f"{kind['p95_ms']:>7.0f} {kind['p99_ms']:>7.0f} {kind['failures']:>6}"
        )
    for error in result["errors"]:
        print(f"  error: {error['name']}: {error['error']} x{error['occurrences']}")
    if result["failed_sign_ins"]:
        print(f"  {len(result['failed_sign_ins'])} members could not sign in, e.g. {result['failed_sign_ins'][0]}")
    shares = ", ".join(f"{name} {cores:.2f}" for name, cores in run.cores.items())
    print(
        f"CPU in the window, cores: {shares}; the whole machine {result['machine_busy_cores']:.2f} "
        f"of {os.cpu_count()} busy"
    )
    kb_cores, rps = run.cores.get("kb (gunicorn)"), result["total"]["rps"]
    if kb_cores and rps:
        print(f"kb's CPU per request: {1000 * kb_cores / rps:.0f} ms")
    print(f"accepted comments checked: {run.check.checked}, lost: {len(run.check.lost)}")
    for lost in run.check.lost[:20]:
        print(f"  lost {lost.marker}: {lost.reason}")
    if run.profile:
        print("where a worker's time went (py-spy):")
        print("\n".join(run.profile))


def print_table(runs: list[Run]) -> None:
    """One line per run."""
    print(
        f"\n{'configuration':<22} {'workers':>7} {'req/s':>7} {'p50':>5} {'p95':>5} {'p99':>5} {'errors':>6} "
        f"{'checked':>7} {'lost':>4} {'Locust CPU':>10}"
    )
    for run in runs:
        total = run.result["total"]
        print(
            f"{run.config:<22} {run.workers:>7} {total['rps']:>7.1f} {total['p50_ms']:>5.0f} {total['p95_ms']:>5.0f} "
            f"{total['p99_ms']:>5.0f} {total['failures']:>6} {run.check.checked:>7} {len(run.check.lost):>4} "
            f"{run.result['locust_cpu_seconds'] / run.result['seconds']:>10.2f}"
        )
    print(f"(latencies in ms; Locust CPU in cores; {TARGETS})")


def main() -> None:
    """Run the chosen configurations one after another and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", action="append", choices=sorted(CONFIGS), help="repeatable; default: all three")
    parser.add_argument("--workers", action="append", type=int, help="gunicorn workers, repeatable; default: 2 and 4")
    parser.add_argument("--users", type=int, default=50, help="simulated members (default 50)")
    parser.add_argument("--seconds", type=float, default=60, help="measured seconds after all have signed in")
    parser.add_argument("--pace", type=float, default=7, help="tasks per second per member; 0: no pause (default 7)")
    parser.add_argument("--mix", default="7,2,1", help="weights of page reads, searches, posts (default 7,2,1)")
    parser.add_argument("--profile", action="store_true", help="sample the workers with py-spy during the window")
    parser.add_argument("--keep", type=Path, help="folder to keep each run's files in (default: a temporary one)")
    options = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory(prefix="kb-load-") as temporary:
        root = options.keep or Path(temporary)
        root.mkdir(parents=True, exist_ok=True)
        for config in options.config or list(CONFIGS):
            for workers in options.workers or [2, 4]:
                runs.append(run_one(config, workers, options, root))
    print_table(runs)
    if any(run.check.lost for run in runs):
        raise SystemExit("comments the site accepted were lost (listed above)")


if __name__ == "__main__":
    main()
