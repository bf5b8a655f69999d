"""Documents: how fast a 200-page PDF is read, how much memory its reader takes, and how soon it can be found.

    .venv/bin/python benchmarks/documents_bench.py [--pages 200] [--runs 5]

Makes a PDF of `--pages` pages of prose (about 300 words each, with a phrase found only on
the last page), then prints the median of `--runs` runs of:

- extraction: the limited worker process reading every page (`kb.documents.extract`), as
  pages per second, and its peak resident memory (VmHWM, as the worker reports it, and the
  largest `RUSAGE_CHILDREN` figure, which also counts the parent's memory before exec);
- upload to stored: `attach_document` on a paper plus the commit (sniffing, storing,
  reading, the page rows, the index queue drained after the commit);
- upload to searchable: the same, then a search as an anonymous visitor for the last
  page's phrase, timed until a hit names the paper. When page text is not in the index
  of this build, it says so and prints only upload to stored.

Runs on a temporary SQLite database and Whoosh index; compare ratios, the machine is shared.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb import create_app
from kb.content.service import import_directory
from kb.documents.extract import Limits, run_worker
from kb.documents.service import attach_document
from kb.documents.sniff import FileKind
from kb.entries.models import Entry
from kb.extensions import db
from kb.permissions import ANONYMOUS
from kb.search.service import SearchRequest, search
from tests.services import documents_files as files
from tests.services.content_files import paper_text, write

PHRASE = "zorvath quillibrant"
WORDS = (
    "board meeting minutes action review panel finding evidence service patient commissioning region "
    "capacity demand call handling clinical assessment performance target winter pressure workforce "
    "training system provider contract governance risk quality safety report recommendation"
).split()


def make_pages(count: int, seed: int = 7) -> list[str]:
    """`count` pages of about 300 words; the last one also holds `PHRASE`."""
    rng = random.Random(seed)
    pages = []
    for number in range(1, count + 1):
        words = [rng.choice(WORDS) for _ in range(300)]
        if number == count:
            words[150:150] = PHRASE.split()
        pages.append(" ".join(words).capitalize() + ".")
    return pages


def _median(values: list[float]) -> float:
    return statistics.median(values)


def bench_extraction(data: bytes, pages: int, runs: int) -> None:
    """Print pages per second and peak memory of the worker reading `data`."""
    limits = Limits(seconds=120, memory_bytes=768 * 1024 * 1024, max_unpacked_bytes=200 * 1024 * 1024)
    times, peaks = [], []
    for _ in range(runs):
        started = time.perf_counter()
        extraction = run_worker(data, FileKind.PDF, limits)
        times.append(time.perf_counter() - started)
        assert len(extraction.pages) == pages, extraction.message
        assert PHRASE in extraction.pages[-1]
        peaks.append(extraction.peak_kb or 0)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"extraction of {pages} pages ({len(data) / 1024:.0f} KiB), median of {runs} runs:")
    print(f"  {_median(times):.2f} s, {pages / _median(times):.0f} pages/s")
    print(f"  worker peak memory (VmHWM): median {_median(peaks) / 1024:.1f} MiB, max {max(peaks) / 1024:.1f} MiB")
    print(f"  RUSAGE_CHILDREN ru_maxrss (includes the parent's memory before exec): {children / 1024:.1f} MiB")


def _searchable(app, paper_id: int) -> bool:
    with app.test_request_context():
        results = search(ANONYMOUS, SearchRequest(text=PHRASE, exact=True))
    return any(hit.entry.id == paper_id for hit in results.hits)


def bench_upload(data: bytes, runs: int) -> None:
    """Print the time from upload to stored, and to searchable when page text is indexed."""
    folder = Path(tempfile.mkdtemp(prefix="kb-documents-bench-"))
    try:
        write(folder / "content", "papers/board.md", paper_text("board", title="Board papers"))
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'kb.sqlite3'}",
                "INSTANCE_PATH": folder / "instance",
                "SEARCH_INDEX_DIR": str(folder / "index"),
                "CONTENT_DIR": str(folder / "content"),
                "SECRET_KEY": "bench",
                "AUTO_MIGRATE": True,
                "SEARCH_REBUILD_AT_START": "inline",
            }
        )
        stored, searchable = [], []
        with app.app_context():
            report = import_directory(folder / "content")
            assert not report.problems, report.problems
            db.session.commit()
            paper = db.session.query(Entry).filter_by(slug="board").one()
            previous = None
            for _ in range(runs):
                started = time.perf_counter()
                previous = attach_document(
                    paper, data, filename="board.pdf", title="Board papers", actor=None, replaces=previous
                )
                db.session.commit()
                stored.append(time.perf_counter() - started)
                found = _searchable(app, paper.id)
                if found:
                    searchable.append(time.perf_counter() - started)
        print(f"upload of the same PDF to a paper, median of {runs} runs:")
        print(f"  upload to stored (attach, read, commit, index drained): {_median(stored):.2f} s")
        if len(searchable) == runs:
            print(f"  upload to searchable (a search finds the last page's phrase): {_median(searchable):.2f} s")
        else:
            print("  upload to searchable: not measured, page text is not in the search index of this build")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    """Parse the options, make the PDF, run both benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    data = files.pdf(make_pages(arguments.pages))
    bench_extraction(data, arguments.pages, arguments.runs)
    bench_upload(data, arguments.runs)


if __name__ == "__main__":
    main()
