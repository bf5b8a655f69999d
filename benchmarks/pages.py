"""Import speed and page times on a synthetic corpus much larger than the seed content.

    .venv/bin/python benchmarks/pages.py [--lessons 2000] [--requests 30]

Builds a throwaway corpus (lessons with the real taxonomy's tags, papers with many
backlinks), imports it into a temporary SQLite database, imports it again unchanged,
then requests each kind of page through the test client. Prints medians and p95s; the
machines are shared, so compare ratios between runs rather than absolute times.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb import create_app
from kb.config import PROJECT_ROOT
from kb.content.service import import_directory
from kb.content.taxonomy import parse_taxonomy
from kb.extensions import db

WORDS = (
    "commissioning provider readiness pressure procurement quality cost triage pathway clinical "
    "service contract region launch review lesson evidence pilot feedback urgent care system "
    "capacity demand safety governance assurance timescale partner consortium bid price"
).split()
REGIONS = ["England", "North West", "Bristol", "London", "Yorkshire", "South West"]


def paragraph(rng: random.Random, sentences: int = 4) -> str:
    return " ".join(
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "." for _ in range(sentences)
    )


def build_corpus(folder: Path, lessons: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    taxonomy = (PROJECT_ROOT / "content" / "taxonomy.yaml").read_text()
    folder.mkdir(parents=True)
    (folder / "taxonomy.yaml").write_text(taxonomy)
    themes, _ = parse_taxonomy(taxonomy, "taxonomy.yaml")
    tags = [tag.slug for theme in themes for tag in theme.tags]
    papers = max(1, lessons // 40)
    (folder / "papers").mkdir(parents=True)
    (folder / "lessons").mkdir()
    for number in range(papers):
        body = "\n\n".join(f"## Part {part}\n\n{paragraph(rng, 6)}" for part in range(1, 5))
        (folder / "papers" / f"paper-{number}.md").write_text(
            f"---\nkind: paper\ntitle: Paper {number}\nsummary: {paragraph(rng, 1)}\n"
            f"region: {rng.choice(REGIONS)}\nevent_date: {rng.randint(2010, 2024)}-{rng.randint(1, 12):02d}\n"
            f"tags: [{', '.join(rng.sample(tags, 2))}]\nmeeting: Board meeting {number}\n"
            f"paper_type: minutes\n---\n\n{body}\n"
        )
    for number in range(lessons):
        see_also = [f"lesson-{rng.randrange(lessons)}" for _ in range(2)]
        source = f"paper-{rng.randrange(papers)}"
        sections = "\n\n".join(
            f"## {label}\n\n{paragraph(rng, rng.randint(3, 8))}"
            for label in ("Driving event", "Lesson", "Recommendation")
        )
        (folder / "lessons" / f"lesson-{number}.md").write_text(
            f"---\nkind: lesson\ntitle: Lesson {number} on {rng.choice(WORDS)}\nsummary: {paragraph(rng, 1)}\n"
            f"region: {rng.choice(REGIONS)}\nevent_date: {rng.randint(2010, 2024)}-{rng.randint(1, 12):02d}-01\n"
            f"tags: [{', '.join(rng.sample(tags, 3))}]\nsource: {source}\nsee_also: [{', '.join(see_also)}]\n"
            f"---\n\n{sections}\n\n## Evidence\n\nSee [[{source}]]. {paragraph(rng, 2)}\n"
        )


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def page_times(client, path: str, requests: int) -> tuple[float, float]:
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lessons", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=30)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        corpus = folder / "content"
        build_corpus(corpus, arguments.lessons)
        files = len(list(corpus.rglob("*.md")))
        app = create_app(
            {
                "INSTANCE_PATH": folder / "instance",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'kb.sqlite3'}",
                "SECRET_KEY": "benchmark",
            }
        )
        with app.app_context():
            first = timed(lambda: (import_directory(corpus), db.session.commit()))
            again = timed(lambda: (import_directory(corpus), db.session.commit()))
        print(f"corpus: {files} files ({arguments.lessons} lessons)")
        print(f"first import:     {first:6.1f} s  ({files / first:6.0f} entries/s)")
        print(f"unchanged import: {again:6.1f} s  ({files / again:6.0f} entries/s)")
        client = app.test_client()
        pages = {
            "home": "/",
            "lesson list": "/lessons",
            "lesson list, page 50": "/lessons?page=50",
            "lesson list, tag+region+year": "/lessons?tag=cost-versus-quality&region=England&year=2015",
            "lesson page": "/lessons/lesson-1",
            "paper page (many backlinks)": "/papers/paper-0",
            "theme page": "/themes/procurement",
            "tag page": "/tags/cost-versus-quality",
            "history": "/lessons/lesson-1/history",
            "compare": "/lessons/lesson-1/compare?from=1&to=1",
        }
        print(f"\npage times over {arguments.requests} requests (ms)")
        print(f"{'page':32} {'median':>8} {'p95':>8}")
        for name, path in pages.items():
            median, p95 = page_times(client, path, arguments.requests)
            print(f"{name:32} {median:8.1f} {p95:8.1f}")


if __name__ == "__main__":
    main()
