"""Documents in search: upload-to-searchable time for a long document, and what pages cost a results page.

    .venv/bin/python benchmarks/document_search_bench.py [--entries 300] [--pages 200] [--requests 20] [--seed 11]

In a throwaway SQLite database searched with Whoosh, writes `--entries` published papers
without documents, then:

- times a results page for a word every paper holds, before any document exists;
- attaches a `--pages`-page document (about 350 words a page, a phrase planted on one page
  near the end) to one paper and times the commit that indexes it (the save drains the
  queue) and the save-to-found time: until a search for the phrase names that page;
- times a search for the phrase (a hit listing its page) and the first results page again
  (one of its hits now has a long document whose pages hold the word).

Prints medians and p95s in milliseconds; the machine is shared, so compare within a run.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from search_bench import repeat

from kb import create_app
from kb.entries.models import Paper
from kb.extensions import db
from kb.permissions import ANONYMOUS
from kb.search.backend import index_store
from kb.search.indexing import rebuild
from kb.search.service import SearchRequest, search
from tests.document_rows import add_document

COMMON = "rota"
PHRASE = "kestrelford overflow protocol"
WORDS = (
    "patients calls handlers service staff winter demand triage providers commissioners contract clinical "
    "dispatch ambulance directory local national scripts rota shift capacity escalation review panel meeting"
).split()


def page_text(chance: random.Random, words: int) -> str:
    return " ".join(chance.choice(WORDS) for _ in range(words)) + "."


def main() -> None:
    """Write the papers, attach the long document, print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=300)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--seed", type=int, default=11)
    arguments = parser.parse_args()
    chance = random.Random(arguments.seed)
    with tempfile.TemporaryDirectory(prefix="kb-document-search-") as name:
        folder = Path(name)
        app = create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": folder / "instance",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'kb.sqlite3'}",
                "SEARCH_INDEX_DIR": str(folder / "search_index"),
                "CONTENT_DIR": str(folder / "content"),
                "DOCUMENTS_DIR": str(folder / "documents"),
                "SECRET_KEY": "benchmark-secret-key",
                "AUTO_MIGRATE": True,
                "SEARCH_REBUILD_AT_START": "off",
            }
        )
        with app.app_context():
            rebuild(index_store())
            for number in range(arguments.entries):
                db.session.add(
                    Paper(
                        slug=f"paper-{number}",
                        title=f"Paper {number}",
                        summary=f"Meeting paper about the {COMMON}.",
                        body=page_text(chance, 400),
                        status="published",
                        visibility="public",
                    )
                )
            db.session.commit()
            rebuild(index_store())

            def first_page() -> object:
                return search(ANONYMOUS, SearchRequest(text=COMMON))

            def phrase() -> object:
                return search(ANONYMOUS, SearchRequest(text=f'"{PHRASE}"'))

            before = repeat(first_page, arguments.requests)
            print(f"results page, no documents anywhere:      {before}", flush=True)
            planted = arguments.pages - 10
            pages = [page_text(chance, 350) for _ in range(arguments.pages)]
            pages[planted - 1] += f" The panel agreed the {PHRASE}."
            paper = db.session.get(Paper, 1)
            assert paper is not None
            started = time.perf_counter()
            add_document(paper, "Long report", pages, commit=False)
            db.session.commit()
            committed = time.perf_counter()
            while not (hits := search(ANONYMOUS, SearchRequest(text=f'"{PHRASE}"')).hits) or not hits[0].pages:
                time.sleep(0.01)
            found = time.perf_counter()
            assert hits[0].pages[0].number == planted
            print(f"{arguments.pages}-page document: save and index {1000 * (committed - started):.0f} ms, ", end="")
            print(f"save-to-found {1000 * (found - started):.0f} ms (page {planted} named)", flush=True)
            print(f"phrase on one page of {arguments.pages}:       {repeat(phrase, arguments.requests)}", flush=True)
            after = repeat(first_page, arguments.requests)
            print(f"results page, a hit with {arguments.pages} pages:  {after}", flush=True)
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
