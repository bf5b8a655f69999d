"""CPU time of each kind of request in the load mix, in one process, and the ceiling it puts on requests/s.

    .venv/bin/python benchmarks/load/costs.py [--config postgresql-postgresql] [--requests 40]

Prepares a configuration as `run.py` does (migrated database, `content/`, one member, index),
signs the member in through the login form of an app built like a served one, then makes
each kind of request of the load mix `--requests` times through the test client and prints
the median CPU time of this process per request (`time.process_time`: the work a gunicorn
worker would do; PostgreSQL's own work is in its server processes and not counted). CPU
time moves much less than wall time when the machine is shared, so these figures say what
a quiet machine would give better than a busy run does. The weighted mean over the mix
gives a ceiling: N cores cannot serve more than N / mean requests per second, before
PostgreSQL and Locust take their share.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from flask.testing import FlaskClient

from benchmarks.load.run import CONFIGS, RAISED_LIMITS, _app, _database, prepare
from kb.extensions import db

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# Shares of the load mix (70% reads, 20% searches, 10% posts) as the locustfile splits them.
MIX = {"home": 0.7 * 0.15, "list": 0.7 * 0.25, "entry page": 0.7 * 0.6, "search": 0.2 * 2 / 3}
MIX |= {"search + filter": 0.2 / 3, "comment post": 0.1}


def _token(client: FlaskClient, path: str) -> str:
    found = CSRF_FIELD.search(client.get(path).get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def _kinds(client: FlaskClient, plan: dict, rng: random.Random) -> dict[str, Callable[[], int]]:
    def post() -> int:
        path = rng.choice(plan["commentable"])
        body = f"Load test comment lm{uuid.uuid4().hex[:20]}: the go-live pressure was real."
        data = {"csrf_token": token, "body": body, "parent_id": "", "draft": ""}
        return client.post(f"{path}/comments", data=data).status_code

    def search_filtered() -> int:
        field, value = rng.choice(plan["filters"])
        return client.get("/search", query_string={"q": rng.choice(plan["words"]), field: value}).status_code

    token = _token(client, "/")
    return {
        "home": lambda: client.get("/").status_code,
        "list": lambda: client.get(rng.choice(plan["lists"])).status_code,
        "entry page": lambda: client.get(rng.choice(plan["entries"])).status_code,
        "search": lambda: client.get("/search", query_string={"q": rng.choice(plan["words"])}).status_code,
        "search + filter": search_filtered,
        "comment post": post,
    }


def measure(client: FlaskClient, plan: dict, requests: int) -> dict[str, tuple[float, float]]:
    """Median (CPU ms, wall ms) per kind of request, after one warm-up request of each."""
    rng = random.Random(7)
    figures = {}
    for name, action in _kinds(client, plan, rng).items():
        action()
        cpu, wall = [], []
        for _ in range(requests):
            started_cpu, started_wall = time.process_time(), time.perf_counter()
            status = action()
            cpu.append(1000 * (time.process_time() - started_cpu))
            wall.append(1000 * (time.perf_counter() - started_wall))
            assert status in (200, 303), f"{name} answered {status}"
        figures[name] = (statistics.median(cpu), statistics.median(wall))
    return figures


def main() -> None:
    """Prepare, sign in, measure each kind and print the table and the ceiling."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=sorted(CONFIGS), default="postgresql-postgresql")
    parser.add_argument("--requests", type=int, default=40)
    options = parser.parse_args()
    database, backend = CONFIGS[options.config]
    with tempfile.TemporaryDirectory(prefix="kb-load-costs-") as name:
        folder = Path(name)
        uri, server = _database(folder, database)
        try:
            app = _app(folder, uri, backend)
            app.config.update(RAISED_LIMITS)
            plan = prepare(app, 1)
            client = app.test_client()
            answer = client.post(
                "/login",
                data={
                    "csrf_token": _token(client, "/login"),
                    "email": plan["members"][0],
                    "password": plan["password"],
                },
            )
            assert answer.status_code in (302, 303), f"sign-in answered {answer.status_code}"
            figures = measure(client, plan, options.requests)
            with app.app_context():
                db.engine.dispose()
        finally:
            if server is not None:
                server.remove()
    print(f"\n{options.config}: median per request, {options.requests} requests each, signed in as a member")
    print(f"{'kind':<16} {'CPU ms':>7} {'wall ms':>8} {'mix share':>9}")
    for kind, (cpu, wall) in figures.items():
        print(f"{kind:<16} {cpu:>7.1f} {wall:>8.1f} {100 * MIX[kind]:>8.1f}%")
    mean = sum(MIX[kind] * cpu for kind, (cpu, _) in figures.items())
    cores = os.cpu_count() or 1
    print(f"mix-weighted CPU per request: {mean:.1f} ms; {cores} cores serve at most {1000 * cores / mean:.0f} req/s")


if __name__ == "__main__":
    main()
