"""Lighthouse scores and bytes of home, a lesson, search results and the dashboard, served by gunicorn.

    .venv/bin/python benchmarks/lighthouse.py --lighthouse /path/to/node_modules/.bin/lighthouse [--runs 3]

Lighthouse is not one of kb's dependencies: install it outside the project
(`npm install --prefix /some/where lighthouse@12.8.2`) and pass its binary with `--lighthouse`
or `LIGHTHOUSE`. Chromium is `CHROME_PATH` (default `/usr/bin/chromium`), run headless.

Prepares a throwaway SQLite database with `content/` imported and its index built (as
`benchmarks/load/run.py` does), serves it with gunicorn (`gunicorn.conf.py`, two workers) on
loopback, and runs Lighthouse `--runs` times on each page with its default settings (a
mobile device on a simulated slow connection, empty cache). Prints each page's median
performance, accessibility, best-practices and SEO scores, the bytes transferred, the
stylesheet bytes left unused, and the scores of two audits: text compression and caching
static files; then the scored audits that did not pass. `--json FILE` keeps every run's figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks.load.run import _app, prepare
from tests.serving import gunicorn

CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
AUDITS = ("uses-text-compression", "uses-long-cache-ttl")
CHROME_FLAGS = "--headless=new --no-sandbox"


def _pages(plan: dict[str, Any]) -> dict[str, str]:
    """The four pages measured, by name."""
    lesson = next(path for path in plan["entries"] if path.startswith("/lessons/"))
    return {"home": "/", "lesson": lesson, "search": "/search?q=procurement", "dashboard": "/dashboard"}


def lighthouse(binary: str, url: str, chrome: str) -> dict[str, Any]:
    """One Lighthouse run on `url`: the four scores (0-100), bytes transferred, unused CSS bytes, two audits' scores.

    `failed` names the scored audits of the four categories that did not pass.
    """
    command = [
        binary,
        url,
        "--output=json",
        "--output-path=stdout",
        "--quiet",
        f"--chrome-flags={CHROME_FLAGS}",
        f"--only-categories={','.join(CATEGORIES)}",
    ]
    done = subprocess.run(
        command, env={**os.environ, "CHROME_PATH": chrome}, capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"lighthouse failed on {url}:\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout)
    figures: dict[str, Any] = {name: round(100 * (report["categories"][name]["score"] or 0)) for name in CATEGORIES}
    audits = report["audits"]
    figures["failed"] = sorted(
        {
            ref["id"]
            for name in CATEGORIES
            for ref in report["categories"][name]["auditRefs"]
            if ref.get("weight") and audits[ref["id"]]["score"] is not None and audits[ref["id"]]["score"] < 1
        }
    )
    figures["bytes"] = audits["total-byte-weight"]["numericValue"]
    unused = audits["unused-css-rules"].get("details") or {}
    figures["unused css"] = unused.get("overallSavingsBytes", 0)
    for name in AUDITS:
        figures[name] = round(100 * (audits[name]["score"] or 0))
    return figures


def main() -> None:
    """Serve the seed content, run Lighthouse on each page, print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lighthouse", default=os.environ.get("LIGHTHOUSE"), help="the lighthouse binary")
    parser.add_argument("--chrome", default=os.environ.get("CHROME_PATH", "/usr/bin/chromium"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write every run's figures here")
    options = parser.parse_args()
    if not options.lighthouse:
        raise SystemExit("give the lighthouse binary with --lighthouse or LIGHTHOUSE")
    with tempfile.TemporaryDirectory(prefix="kb-lighthouse-") as temporary:
        folder = Path(temporary)
        uri = f"sqlite:///{folder / 'kb.sqlite3'}"
        plan = prepare(_app(folder, uri, "whoosh"), members=1)
        pages = _pages(plan)
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in pages}
        settings = {"SEARCH_INDEX_DIR": str(folder / "search_index"), "SEARCH_BACKEND": "whoosh"}
        with gunicorn(folder / "site", uri, workers=2, **settings) as site:
            for _ in range(options.runs):
                for name, path in pages.items():
                    runs[name].append(lighthouse(options.lighthouse, site.base + path, options.chrome))
    if options.json:
        options.json.write_text(json.dumps({"pages": pages, "runs": runs}, indent=1), encoding="utf-8")
    columns = [*CATEGORIES, "bytes", "unused css", *AUDITS]
    print(f"medians of {options.runs} runs")
    print("| page | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name, figures in runs.items():
        medians = [statistics.median(run[column] for run in figures) for column in columns]
        cells = [
            f"{value / 1024:.1f} KB" if column in ("bytes", "unused css") else f"{value:g}"
            for column, value in zip(columns, medians, strict=True)
        ]
        print(f"| {name} ({pages[name]}) | " + " | ".join(cells) + " |")
    for name, figures in runs.items():
        failed = sorted({audit for run in figures for audit in run["failed"]})
        print(f"{name}: audits not passed in some run: {', '.join(failed) or 'none'}")


if __name__ == "__main__":
    main()
