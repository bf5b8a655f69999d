"""What search by meaning costs: the model's load and memory, a worker's matrix of parts, and how it grows.

Helpers for `benchmarks/search_bench.py`, and on its own the matrix's size limits:

    .venv/bin/python benchmarks/meaning_costs.py [--entries 10000 50000 100000] [--parts 6] [--queries 30]

which times one query's scoring on a matrix of random unit vectors of that many entries'
parts (the same float32 rows of 256 a worker holds), with the viewer's rows chosen before
scoring, and prints its memory.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask
from sqlalchemy import func, select

from kb.extensions import db
from kb.permissions import Viewer
from kb.search.meaning.model import DIMENSIONS
from kb.search.models import MeaningPart

MODEL_PROBE = """
import json, time
from pathlib import Path

def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

from kb.search.meaning import model
before = rss()
started = time.perf_counter()
model.preload()
seconds = time.perf_counter() - started
after = rss()
part = "The provider was not ready for go live: call handling staff were not trained in time. " * 8
texts = [part] * 200
model.embedder().embed(texts[:10])
started = time.perf_counter()
model.embedder().embed(texts)
per_part = (time.perf_counter() - started) * 1000 / len(texts)
print(json.dumps({"seconds": seconds, "mib": after - before, "per_part_ms": per_part}))
"""


def rss_mib() -> float:
    """This process's resident memory (VmRSS), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


@dataclass(frozen=True)
class ModelCost:
    """The model in a fresh process: seconds to load, resident memory it adds, ms to embed one part."""

    seconds: float
    mib: float
    per_part_ms: float


def model_cost() -> ModelCost:
    """Load the model in a new Python process (nothing else loaded) and measure it there."""
    root = Path(__file__).resolve().parent.parent
    output = subprocess.run(
        [sys.executable, "-c", MODEL_PROBE], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    figures = json.loads(output.strip().splitlines()[-1])
    return ModelCost(figures["seconds"], figures["mib"], figures["per_part_ms"])


def parts_count(app: Flask) -> tuple[int, int]:
    """(parts stored, entries with parts) in the app's database."""
    with app.app_context():
        parts = db.session.scalar(select(func.count()).select_from(MeaningPart)) or 0
        entries = db.session.scalar(select(func.count(func.distinct(MeaningPart.entry_id)))) or 0
    return parts, entries


@dataclass(frozen=True)
class MatrixCost:
    """A worker's matrix after its first meaning search: rows, bytes, growth of RSS, the first search's time."""

    parts: int
    entries: int
    vector_mib: float
    rss_mib: float
    first_ms: float


def matrix_cost(app: Flask, viewer: Viewer, question: str) -> MatrixCost:
    """Run the process's first meaning search (which reads the matrix from the database) and measure it."""
    from kb.search.meaning.layer import active

    parts, entries = parts_count(app)
    with app.app_context():
        layer = active(app)
        assert layer is not None, "search by meaning is off in this app"
        before = rss_mib()
        started = time.perf_counter()
        layer.meaning_ids(viewer, question)
        first_ms = (time.perf_counter() - started) * 1000
        grown = rss_mib() - before
    return MatrixCost(parts, entries, parts * DIMENSIONS * 4 / 2**20, grown, first_ms)


def found_by_meaning(app: Flask, viewer: Viewer, text: str, entry_id: int) -> bool:
    """Whether the meaning layer lists `entry_id` among the entries close to `text` (needs an app context)."""
    from kb.search.meaning.layer import active

    layer = active(app)
    assert layer is not None, "search by meaning is off in this app"
    return entry_id in layer.meaning_ids(viewer, text, limit=50)


# The matrix's size limits


@dataclass(frozen=True)
class Scaling:
    """One matrix size: entries, parts, memory, and one query's scoring p50/p95 in ms."""

    entries: int
    parts: int
    mib: float
    p50: float
    p95: float
    float16_p50: float


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def score(matrix: np.ndarray, owners: np.ndarray, visible: np.ndarray, query: np.ndarray, limit: int) -> np.ndarray:
    """The `limit` best entries for `query` among the rows whose owner is visible, each scored by its best part."""
    rows = np.flatnonzero(visible[owners])
    scores = matrix[rows] @ query
    best = np.full(visible.shape[0], -np.inf, dtype=np.float32)
    np.maximum.at(best, owners[rows], scores)
    top = np.argpartition(-best, limit)[:limit]
    return top[np.argsort(-best[top])]


def scaling(entries: int, parts_per_entry: float, queries: int, rng: np.random.Generator) -> Scaling:
    """Time `queries` scorings on random unit vectors for `entries` entries, 82% of them visible."""
    parts = round(entries * parts_per_entry)
    matrix = rng.standard_normal((parts, DIMENSIONS), dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    owners = np.sort(rng.integers(0, entries, parts))
    visible = rng.random(entries) < 0.82
    times, half_times = [], []
    half = matrix.astype(np.float16)
    for _ in range(queries):
        query = rng.standard_normal(DIMENSIONS, dtype=np.float32)
        query /= np.linalg.norm(query)
        started = time.perf_counter()
        score(matrix, owners, visible, query, 50)
        times.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        score(half, owners, visible, query.astype(np.float16), 50)
        half_times.append((time.perf_counter() - started) * 1000)
    return Scaling(
        entries,
        parts,
        matrix.nbytes / 2**20,
        statistics.median(times),
        percentile(times, 0.95),
        statistics.median(half_times),
    )


def main() -> None:
    """Parse arguments, time each size, print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, nargs="+", default=[10000, 50000, 100000])
    parser.add_argument(
        "--parts", type=float, default=6.0, help="parts per entry (search_bench.py prints the corpus's)"
    )
    parser.add_argument("--queries", type=int, default=30)
    arguments = parser.parse_args()
    rng = np.random.default_rng(5)
    print(f"scoring one query: viewer's rows chosen, dot product, best part per entry, top 50; numpy {np.__version__}")
    print(
        f"{'entries':>8} | {'parts':>8} | {'float32 MiB':>11} | {'p50 ms':>7} | {'p95 ms':>7} | {'float16 p50 ms':>14}"
    )
    for entries in arguments.entries:
        row = scaling(entries, arguments.parts, arguments.queries, rng)
        print(
            f"{row.entries:8} | {row.parts:8} | {row.mib:11.1f} | {row.p50:7.1f} | {row.p95:7.1f} | "
            f"{row.float16_p50:14.1f}"
        )


if __name__ == "__main__":
    main()
