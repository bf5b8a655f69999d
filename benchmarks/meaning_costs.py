"""What search by meaning costs: the model's load and memory, a worker's matrix of parts, and how it grows.

Helpers for `benchmarks/search_bench.py`, and on its own the matrix's size limits:

    .venv/bin/python benchmarks/meaning_costs.py [--entries 10000 50000 100000] [--parts 6] [--queries 20]
        [--vectors-from DIR]

which builds kb's own matrix (`kb.search.meaning.matrix.PartMatrix`) for that many
entries' parts, from the vectors of a corpus `search_bench.py --keep` left in DIR (tiled
and lightly perturbed) or from random ones, and times one query's scoring by a viewer who
may see 82% of the entries, the build (what a worker does when it reads the matrix again)
and the memory it holds.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# As gunicorn.conf.py sets it for the workers, before numpy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

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
    """Run the process's first meaning search (which reads the matrix from the database) and measure it.

    The model is loaded first, so the growth of RSS is the matrix's alone.
    """
    from kb.search.meaning.layer import active
    from kb.search.meaning.model import preload

    preload()
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
    """One matrix size: entries, parts, memory, one query's scoring and one full re-read's build, in ms."""

    entries: int
    parts: int
    mib: float
    p50: float
    p95: float
    above_floor: int
    build_ms: float


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def sample_vectors(folder: Path | None, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors to tile into a matrix: a kept corpus's own (its `kb.sqlite3`), else random ones of one domain.

    Random directions alone are almost orthogonal in 256 dimensions, so nothing would pass the
    similarity floor; real vectors of one domain share much of their direction.
    """
    if folder is not None:
        import sqlite3

        with sqlite3.connect(folder / "kb.sqlite3") as connection:
            rows = connection.execute("SELECT vector FROM meaning_parts").fetchall()
        return np.stack([np.frombuffer(row[0], dtype="<f4") for row in rows])
    shared = rng.standard_normal(DIMENSIONS).astype(np.float32)
    vectors = rng.standard_normal((20000, DIMENSIONS)).astype(np.float32) + 1.2 * shared / np.sqrt(DIMENSIONS)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def scaling(
    entries: int, parts_per_entry: float, sample: np.ndarray, queries: int, rng: np.random.Generator
) -> Scaling:
    """Time `PartMatrix` (kb.search.meaning.matrix) for `entries` entries: build, and `queries` scorings by 82% of them.

    The rows are the sample's vectors, tiled and lightly perturbed; each query is a sample row
    perturbed more, so it is like a question close to some parts.
    """
    from kb.search.meaning.layer import FLOOR
    from kb.search.meaning.matrix import PartMatrix

    parts = round(entries * parts_per_entry)
    picks = rng.integers(0, len(sample), parts)
    vectors = sample[picks] + rng.normal(0, 0.02, (parts, DIMENSIONS)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    owners = np.sort(rng.integers(1, entries + 1, parts))
    positions = np.arange(parts, dtype=np.int64)
    started = time.perf_counter()
    matrix = PartMatrix(np.arange(1, parts + 1, dtype=np.int64), owners.astype(np.int64), positions, vectors)
    build_ms = (time.perf_counter() - started) * 1000
    visible = [int(entry) for entry in matrix.entries if rng.random() < 0.82]
    times, found = [], 0
    for _ in range(queries):
        query = sample[rng.integers(0, len(sample))] + rng.normal(0, 0.05, DIMENSIONS).astype(np.float32)
        query /= np.linalg.norm(query)
        started = time.perf_counter()
        mask = matrix.entry_mask(visible)
        found = len(matrix.best_parts(query.astype(np.float32), mask, FLOOR))
        times.append((time.perf_counter() - started) * 1000)
    return Scaling(
        entries, parts, matrix.nbytes / 2**20, statistics.median(times), percentile(times, 0.95), found, build_ms
    )


def main() -> None:
    """Parse arguments, time each size, print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, nargs="+", default=[10000, 50000, 100000])
    parser.add_argument("--parts", type=float, default=6.0, help="parts per entry (search_bench.py prints its own)")
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--vectors-from", type=Path, help="a corpus folder kept by search_bench.py, for real vectors")
    arguments = parser.parse_args()
    rng = np.random.default_rng(5)
    sample = sample_vectors(arguments.vectors_from, rng)
    print(f"kb.search.meaning.matrix.PartMatrix on {len(sample)} sample vectors; numpy {np.__version__}")
    print("a query: the viewer's mask, then every visible part scored, best part per entry, entries above the floor")
    print(
        f"{'entries':>8} | {'parts':>8} | {'MiB':>7} | {'query p50':>9} | {'p95':>7} | {'above floor':>11} | build ms"
    )
    for entries in arguments.entries:
        row = scaling(entries, arguments.parts, sample, arguments.queries, rng)
        print(
            f"{row.entries:8} | {row.parts:8} | {row.mib:7.1f} | {row.p50:9.1f} | {row.p95:7.1f} | "
            f"{row.above_floor:11} | {row.build_ms:8.0f}"
        )


if __name__ == "__main__":
    main()
