"""The simulated members of kb's load benchmark, for Locust (run by `benchmarks/load/run.py`).

Each member signs in once and reads an entry page, a list and a search (so the workers have
compiled their templates, which is start-up work), then waits until every member has done so
(scrypt is slow on purpose: sign-in is not what is measured), then repeats a mix of tasks, by
default:

- 70% page reads: the home page, the lists of lessons, reviews and papers (and their second
  pages, themes and tags) and the entry pages of the imported `content/`;
- 20% searches: one or two words taken from the content itself, a third of them narrowed by
  a kind or tag filter;
- 10% comment posts on an entry the member can read, with a unique marker in each body and
  the CSRF token from the member's last page read.

When the last member has signed in, the statistics are reset and the measured window of
`KB_LOAD_SECONDS` starts; when it ends the figures, the CPU Locust used, and every comment
the site accepted (answered 303) are written as JSON to `KB_LOAD_RESULT`, and Locust stops.
What to visit comes from the JSON plan at `KB_LOAD_PLAN` (written by `run.py`): the member
accounts, page paths, commentable entries, search words and filter values.
`KB_LOAD_PACE` is each member's tasks per second (0: no pause between tasks); `KB_LOAD_MIX` the
weights of page reads, searches and comment posts (default `7,2,1`).
"""

from __future__ import annotations

import json
import os
import random
import re
import resource
import time
import uuid
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event
from locust import events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.env import Environment
from locust.stats import StatsEntry

PLAN: dict[str, Any] = json.loads(Path(os.environ["KB_LOAD_PLAN"]).read_text(encoding="utf-8"))
RESULT = Path(os.environ["KB_LOAD_RESULT"])
SECONDS = float(os.environ.get("KB_LOAD_SECONDS") or 60)
PACE = float(os.environ.get("KB_LOAD_PACE") or 0)
MIX = [float(weight) for weight in (os.environ.get("KB_LOAD_MIX") or "7,2,1").split(",")]
CSRF_FIELD = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"')
PERCENTILES = (0.5, 0.95, 0.99)
COMMENT_ADDRESS = re.compile(r"#comment-\d+$")


class Window:
    """The measured window: opened when every member has tried to sign in, closed after `SECONDS`."""

    def __init__(self) -> None:
        self.opened = Event()
        self.finished_sign_ins = 0
        self.failed_sign_ins: list[str] = []
        self.accepted: list[dict[str, str]] = []
        self.started_at = 0.0
        self.cpu_at_start = 0.0
        self.machine_at_start: tuple[int, int] = (0, 0)
        self.members = iter(PLAN["members"])


WINDOW = Window()


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot, from /proc/stat."""
    numbers = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = numbers[3] + numbers[4]  # idle + iowait
    return sum(numbers) - idle, sum(numbers)


def _entry_figures(entry: StatsEntry, seconds: float) -> dict[str, Any]:
    return {
        "name": entry.name,
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "rps": entry.num_requests / seconds if seconds else 0.0,
        "avg_ms": entry.avg_response_time,
        "max_ms": entry.max_response_time,
        **{f"p{round(p * 100)}_ms": entry.get_response_time_percentile(p) for p in PERCENTILES},
    }


def _open_window(environment: Environment) -> None:
    environment.stats.reset_all()
    WINDOW.started_at = time.monotonic()
    WINDOW.cpu_at_start = _own_cpu_seconds()
    WINDOW.machine_at_start = _machine_ticks()
    WINDOW.opened.set()
    # Tells run.py when to start profiling the workers.
    RESULT.with_suffix(RESULT.suffix + ".started").touch()
    gevent.spawn_later(SECONDS, _close_window, environment)


def _close_window(environment: Environment) -> None:
    """Write the window's figures and the accepted comments, then stop Locust."""
    seconds = time.monotonic() - WINDOW.started_at
    busy, total = _machine_ticks()
    busy_share = (busy - WINDOW.machine_at_start[0]) / max(1, total - WINDOW.machine_at_start[1])
    stats = environment.stats
    result = {
        "seconds": seconds,
        "members": len(PLAN["members"]),
        "failed_sign_ins": WINDOW.failed_sign_ins,
        "locust_cpu_seconds": _own_cpu_seconds() - WINDOW.cpu_at_start,
        "machine_busy_cores": busy_share * (os.cpu_count() or 1),
        "kinds": [_entry_figures(entry, seconds) for entry in sorted(stats.entries.values(), key=lambda e: e.name)],
        "total": _entry_figures(stats.total, seconds),
        "errors": [
            {"name": error.name, "error": str(error.error), "occurrences": error.occurrences}
            for error in stats.errors.values()
        ],
    }
    # Posts still in flight may yet be accepted: the list is written again when Locust stops.
    result["accepted"] = list(WINDOW.accepted)
    RESULT.write_text(json.dumps(result, indent=1), encoding="utf-8")
    environment.runner.quit()


@events.quitting.add_listener
def _write_late_acceptances(environment: Environment, **_: Any) -> None:
    if RESULT.exists():
        result = json.loads(RESULT.read_text(encoding="utf-8"))
        result["accepted"] = list(WINDOW.accepted)
        RESULT.write_text(json.dumps(result, indent=1), encoding="utf-8")


def _pace(user: FastHttpUser) -> float:
    return 0.0 if PACE <= 0 else max(0.0, 1 / PACE - (time.monotonic() - user.task_started))


class Member(FastHttpUser):
    """One signed-in member reading, searching and commenting."""

    def wait_time(self) -> float:
        return _pace(self)

    def on_start(self) -> None:
        self.task_started = time.monotonic()
        self.token = ""
        self.rng = random.Random()
        member = next(WINDOW.members)
        self.email = member
        try:
            self._sign_in(member, PLAN["password"])
        except Exception as error:  # A refused sign-in is reported; the member then reads signed out.
            WINDOW.failed_sign_ins.append(f"{member}: {error!r}")
        WINDOW.finished_sign_ins += 1
        if WINDOW.finished_sign_ins == len(PLAN["members"]):
            _open_window(self.environment)
        WINDOW.opened.wait()
        if PACE > 0:
            # Members all start when the window opens: spread their first tasks over one period, or at
            # a fixed pace they would keep arriving together, in bursts that queue behind each other.
            gevent.sleep(self.rng.uniform(0, 1 / PACE))

    def _sign_in(self, email: str, password: str) -> None:
        self._read("/login", "sign-in form")
        with self.client.post(
            "/login",
            data={"csrf_token": self.token, "email": email, "password": password},
            name="sign-in",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code not in (302, 303):
                response.failure(f"sign-in answered {response.status_code}")
                raise RuntimeError(f"sign-in answered {response.status_code}")
        self._read("/", "home")
        # Warm up: each worker compiles a template the first time it renders it, which is start-up work.
        self._read(self.rng.choice(PLAN["entries"]), "warm-up")
        self._read(self.rng.choice(PLAN["lists"]), "warm-up")
        self._read(f"/search?q={self.rng.choice(PLAN['words'])}", "warm-up")

    def _read(self, path: str, name: str) -> None:
        """GET a page that must answer 200, keeping the CSRF token it carries."""
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{name} answered {response.status_code}")
                return
            found = CSRF_FIELD.search(response.content or b"")
            if found:
                self.token = found.group(1).decode()

    @task
    def act(self) -> None:
        """One task, chosen by the mix's weights."""
        self.task_started = time.monotonic()
        self.rng.choices((self.read_page, self.search, self.post_comment), weights=MIX)[0]()

    def read_page(self) -> None:
        """A page read: home, a list, or an entry page."""
        choice = self.rng.random()
        if choice < 0.15:
            self._read("/", "home")
        elif choice < 0.4:
            self._read(self.rng.choice(PLAN["lists"]), "list")
        else:
            self._read(self.rng.choice(PLAN["entries"]), "entry page")

    def search(self) -> None:
        """A search for one or two of the content's words, a third of them with a filter."""
        words = " ".join(self.rng.sample(PLAN["words"], self.rng.choice((1, 1, 2))))
        params = {"q": words}
        name = "search"
        if self.rng.random() < 1 / 3:
            field, value = self.rng.choice(PLAN["filters"])
            params[field] = value
            name = "search + filter"
        query = "&".join(f"{key}={value.replace(' ', '+')}" for key, value in params.items())
        self._read(f"/search?{query}", name)

    def post_comment(self) -> None:
        """A comment with a unique marker on an entry the member can read; 303 means accepted."""
        path = self.rng.choice(PLAN["commentable"])
        marker = "lm" + uuid.uuid4().hex[:20]
        body = f"Load test comment {marker} from {self.email}: the go-live pressure was real."
        with self.client.post(
            f"{path}/comments",
            data={"csrf_token": self.token, "body": body, "parent_id": "", "draft": ""},
            name="comment post",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            location = response.headers.get("Location") or response.headers.get("location") or ""
            # A signed-out post also answers 303, to the sign-in page (its text kept as a draft).
            if response.status_code != 303 or not COMMENT_ADDRESS.search(location):
                response.failure(f"comment post answered {response.status_code} to {location or 'nowhere'}")
                return
        WINDOW.accepted.append({"marker": marker, "email": self.email, "entry": path, "location": location})
