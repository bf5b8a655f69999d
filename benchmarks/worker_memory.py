"""Memory of gunicorn's workers with search by meaning off, on with the model loaded by each worker, and on preloaded.

    .venv/bin/python benchmarks/worker_memory.py --folder DIR [--workers 3] [--question "..."]

`DIR` is a corpus kept by `benchmarks/search_bench.py --keep` (its `kb-10000` folder: the
database `kb.sqlite3` and the index `search_index/`, vectors filled). For each of three
ways of serving it, starts `gunicorn --config gunicorn.conf.py` (through a small wrapper
config that only adds what is measured), lets each worker answer one search for a question
as it starts (so it holds the model and its matrix of parts, as after its first search),
then reads `/proc/<pid>/smaps_rollup` of the master and every worker:

- RSS: pages in memory, shared ones counted in full in every process;
- PSS: each shared page divided among the processes sharing it (their sum is what the
  site takes);
- USS: pages only this process has (what stopping it would give back).

"model per worker" is the served app with `kb.search.meaning.model.preload` turned into a
no-op, so each worker loads the model on its first search; "preloaded" is the app as it
is served. The difference in USS per worker is what preloading saves.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb.config import PROJECT_ROOT
from tests.serving import Gunicorn, _environment, _free_port, _stop

QUESTION = "why did the provider fail at go live over the winter"
MODES = {
    "meaning off": {"SEARCH_MEANING": "0"},
    "model per worker": {"SEARCH_MEANING": "1", "KB_BENCH_PRELOAD": "0"},
    "preloaded": {"SEARCH_MEANING": "1"},
}
WRAPPER = '''
"""gunicorn.conf.py, plus: each worker answers one search as it starts; KB_BENCH_PRELOAD=0 skips the preload."""
import os
import runpy
from pathlib import Path

globals().update({{k: v for k, v in runpy.run_path({config!r}).items() if not k.startswith("__")}})

if os.environ.get("KB_BENCH_PRELOAD") == "0":
    from kb.search.meaning import model as _model

    _model.preload = lambda: None


def post_worker_init(worker):
    from werkzeug.test import Client

    status = Client(worker.wsgi).get({path!r}).status_code
    Path(os.environ["KB_BENCH_MARKS"], str(os.getpid())).write_text(str(status))
'''


@dataclass(frozen=True)
class Memory:
    """One process's memory from smaps_rollup, in MiB."""

    rss: float
    pss: float
    uss: float


def memory_of(pid: int) -> Memory:
    """RSS, PSS and USS (private clean + private dirty) of process `pid`."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0]) / 1024
    return Memory(fields["Rss"], fields["Pss"], fields["Private_Clean"] + fields["Private_Dirty"])


@dataclass(frozen=True)
class Served:
    """The memory of one way of serving: the master, and each worker after its first search."""

    mode: str
    master: Memory
    workers: list[Memory]
    statuses: list[str]
    start_seconds: float

    def mean(self, name: str) -> float:
        """The workers' mean of `rss`, `pss` or `uss`."""
        return statistics.mean(getattr(memory, name) for memory in self.workers)

    @property
    def total_pss(self) -> float:
        """What the whole site takes: the PSS of the master and every worker."""
        return self.master.pss + sum(memory.pss for memory in self.workers)


def serve(folder: Path, mode: str, workers: int, question: str, scratch: Path) -> Served:
    """Start gunicorn on the corpus in `folder` in `mode`, wait for every worker's first search, read memory."""
    marks = scratch / f"marks-{mode.replace(' ', '-')}"
    marks.mkdir()
    config = scratch / "gunicorn_bench.conf.py"
    path = "/search?" + urlencode({"q": question})
    config.write_text(WRAPPER.format(config=str(PROJECT_ROOT / "gunicorn.conf.py"), path=path))
    settings = {
        "KB_BIND": f"127.0.0.1:{_free_port()}",
        "WEB_CONCURRENCY": str(workers),
        "DATABASE_URL": f"sqlite:///{folder / 'kb.sqlite3'}",
        "SEARCH_INDEX_DIR": str(folder / "search_index"),
        "SEARCH_REBUILD_AT_START": "off",
        "SECRET_KEY": "worker-memory-secret",
        "KB_FREEZE_STARTUP_OBJECTS": "1",
        "KB_ACCESS_LOG": "0",
        "KB_BENCH_MARKS": str(marks),
        **MODES[mode],
    }
    log = scratch / f"gunicorn-{mode.replace(' ', '-')}.log"
    started = time.perf_counter()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", str(config)],
            env=_environment(**settings),
            cwd=scratch,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    site = Gunicorn(process, "", log)
    try:
        deadline = time.monotonic() + 300
        while len(list(marks.iterdir())) < workers:
            assert process.poll() is None, "gunicorn stopped:\n" + log.read_text(errors="replace")[-4000:]
            assert time.monotonic() < deadline, "workers never answered their first search"
            time.sleep(0.2)
        start_seconds = time.perf_counter() - started
        time.sleep(1.0)  # Let the last worker's first answer finish.
        pids = site.workers()
        statuses = [path.read_text() for path in sorted(marks.iterdir())]
        return Served(mode, memory_of(process.pid), [memory_of(pid) for pid in pids], statuses, start_seconds)
    finally:
        _stop(process)


def measure(folder: Path, workers: int, question: str = QUESTION) -> list[Served]:
    """Serve the corpus in `folder` each way in turn and read its memory."""
    with tempfile.TemporaryDirectory(prefix="kb-worker-memory-") as scratch:
        return [serve(folder, mode, workers, question, Path(scratch)) for mode in MODES]


def print_table(results: list[Served]) -> None:
    """One line per way of serving, MiB."""
    print(f"\nmemory of gunicorn's processes, MiB ({len(results[0].workers)} workers, each after one search)")
    print(
        f"{'mode':18} | {'worker RSS':>10} | {'worker PSS':>10} | {'worker USS':>10} | "
        f"{'master RSS':>10} | {'site PSS':>8} | {'start s':>7} | statuses"
    )
    for served in results:
        print(
            f"{served.mode:18} | {served.mean('rss'):10.1f} | {served.mean('pss'):10.1f} | "
            f"{served.mean('uss'):10.1f} | "
            f"{served.master.rss:10.1f} | {served.total_pss:8.1f} | {served.start_seconds:7.1f} | "
            f"{','.join(served.statuses)}"
        )


def main() -> None:
    """Parse arguments, serve each way, print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", type=Path, required=True, help="a corpus folder kept by search_bench.py")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--question", default=QUESTION)
    arguments = parser.parse_args()
    assert (arguments.folder / "kb.sqlite3").exists(), f"no kb.sqlite3 in {arguments.folder}"
    os.environ.pop("KB_BENCH_PRELOAD", None)
    print_table(measure(arguments.folder, arguments.workers, arguments.question))


if __name__ == "__main__":
    main()
