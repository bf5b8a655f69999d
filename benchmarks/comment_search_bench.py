"""Comments in search: a low-weighted part of their entry's document (A) or documents of their own (B)?

    .venv/bin/python benchmarks/comment_search_bench.py [--entries 3000] [--requests 20] [--seed 11]

Builds two Whoosh indexes in a temporary folder from the same generated corpus (the shape
of `search_bench.py`: 300-1,500 words per entry, Zipf-distributed words, the same
status and visibility mix) with comments on some entries (most have none, a few have
hundreds), then prints:

- the full build of each index (what `search rebuild` would cost);
- the cost of indexing one change on an entry with 0, 50 and 500 comments: for A,
  re-indexing the entry with its comments (what a new, edited or hidden comment costs);
  for B, adding one comment document (a new comment) and re-indexing the entry with all
  its comment documents (what changing the entry's visibility or status costs, because
  each comment document carries a copy of the fields the visibility filter reads);
- the latency of the search page's index work for five query shapes, as a member: the
  visibility filter, every match (for the total and facets) and the top ten entries.
  In B the matches are comment and entry documents, which have to be folded into
  distinct entries, best score first, before the page and the totals are known.

Uses kb's schema, analyser and `index_document`, without a database or an app. Prints
medians and p95s in milliseconds; compare ratios, the machine is shared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from whoosh import collectors, fields, index
from whoosh import query as q
from whoosh.searching import Searcher

from benchmarks.search_bench import STATUSES, VISIBILITIES, TextMaker, make_vocabulary, weighted
from kb.entries.models import Lesson
from kb.permissions import Viewer, index_visibility_filter
from kb.search.documents import index_document
from kb.search.query import parse_user_query
from kb.search.schema import build_schema, words_of
from kb.search.text import plain_text

COMMENT_WORD = "larkspurqx"
"""Planted in a few comments only, for a rare word found through comments."""
COMMENT_COUNTS = ((0, 70), (5, 20), (30, 7), (100, 2.5), (500, 0.5))
"""How many comments an entry has (roughly), weighted: most have none, a few have hundreds."""
REVIEWS = 60
MEMBER = Viewer(user_id=999_999, role="member", panel_review_ids=frozenset({1}))


@dataclass
class Generated:
    """One entry and its comments' Markdown."""

    entry: Lesson
    comments: list[str]


def make_entry(rng: random.Random, maker: TextMaker, entry_id: int) -> Lesson:
    """A lesson of 300-1,500 words with the status, visibility and panel mix of `search_bench`."""
    place = maker.vocabulary.places[rng.randrange(len(maker.vocabulary.places))]
    words = rng.randint(300, 1500)
    moment = dt.datetime(2020, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=rng.randrange(2000))
    visibility = weighted(rng, VISIBILITIES)
    return Lesson(
        id=entry_id,
        slug=f"lesson-{entry_id}",
        title=maker.title(place),
        summary=maker.text(rng.randint(30, 60), place),
        driving_event=maker.text(words // 4, place),
        lesson_text=maker.text(words // 4, place),
        recommendation=maker.text(words // 4, place),
        evidence=maker.text(words // 4, place),
        body="",
        status=weighted(rng, STATUSES),
        visibility=visibility,
        author_id=rng.randint(1, 20),
        review_id=rng.randint(1, REVIEWS) if visibility == "panel" or rng.random() < 0.4 else None,
        region="London",
        created_at=moment,
        updated_at=moment,
        published_at=moment,
        sources=[],
        tags=[],
    )


def comment_count(rng: random.Random) -> int:
    """A number of comments drawn from `COMMENT_COUNTS`, jittered around each value."""
    base = rng.choices([count for count, _ in COMMENT_COUNTS], weights=[weight for _, weight in COMMENT_COUNTS])[0]
    return base if base in (0, 500) else rng.randint(max(1, base // 2), base * 2)


def make_corpus(size: int, seed: int) -> list[Generated]:
    """`size` entries with their comments (15-150 words each)."""
    rng = random.Random(seed)
    maker = TextMaker(rng, make_vocabulary(rng))
    corpus = []
    for entry_id in range(1, size + 1):
        entry = make_entry(rng, maker, entry_id)
        comments = [maker.text(rng.randint(15, 150), "") for _ in range(comment_count(rng))]
        if comments and rng.random() < 0.02:
            comments[0] += f" {COMMENT_WORD}"
        corpus.append(Generated(entry, comments))
    return corpus


# The two designs


def schema_b() -> fields.Schema:
    """kb's schema plus what separate comment documents need: the entry they belong to."""
    schema = build_schema()
    schema.add("entry", fields.ID(stored=True))
    schema.add("doctype", fields.ID())
    return schema


def documents_a(item: Generated) -> list[dict[str, Any]]:
    """Design A: one document per entry, its comments a low-weighted part of its text."""
    return [index_document(item.entry, item.comments)]


def comment_document(entry_document: dict[str, Any], entry_id: int, number: int, body: str) -> dict[str, Any]:
    """Design B: one comment's document, carrying a copy of its entry's visibility fields."""
    copied = {key: entry_document[key] for key in ("status", "visibility", "author", "panel") if key in entry_document}
    return {
        "id": f"comment:{entry_id}:{number}",
        "entry": str(entry_id),
        "doctype": "comment",
        "text": [(words_of(plain_text(body)), 1.0)],
        **copied,
    }


def documents_b(item: Generated) -> list[dict[str, Any]]:
    """Design B: the entry's own document, and one per comment."""
    entry = index_document(item.entry) | {"entry": str(item.entry.id), "doctype": "entry"}
    return [entry] + [comment_document(entry, item.entry.id, n, body) for n, body in enumerate(item.comments)]


def build(folder: Path, schema: fields.Schema, corpus: list[Generated], make: Callable) -> float:
    """Index the whole corpus in one writer; seconds taken."""
    folder.mkdir()
    opened = index.create_in(str(folder), schema)
    started = time.perf_counter()
    writer = opened.writer(compound=False, limitmb=128)
    for item in corpus:
        for document in make(item):
            writer.add_document(**document)
    writer.commit(optimize=True)
    return time.perf_counter() - started


def timed(action: Callable[[], object], count: int, warm_up: int = 2) -> list[float]:
    """Milliseconds of `count` runs after `warm_up` untimed ones."""
    for _ in range(warm_up):
        action()
    values = []
    for _ in range(count):
        started = time.perf_counter()
        action()
        values.append((time.perf_counter() - started) * 1000)
    return values


def summary(values: list[float]) -> str:
    """Median and 95th percentile."""
    ordered = sorted(values)
    return f"{statistics.median(ordered):8.1f} /{ordered[max(round(0.95 * len(ordered)) - 1, 0)]:8.1f}"


# One change


def with_comments(corpus: list[Generated], count: int) -> Generated:
    """A visible entry of the corpus given exactly `count` comments (copied from others)."""
    pool = [body for item in corpus for body in item.comments][: max(count, 1)]
    item = next(item for item in corpus if item.entry.status == "published" and item.entry.visibility == "public")
    return Generated(item.entry, (pool * (count // max(len(pool), 1) + 1))[:count])


def reindex_a(opened: index.Index, item: Generated) -> Callable[[], object]:
    """A: what any comment change costs: the entry's document rebuilt with all its comments."""

    def run() -> None:
        writer = opened.writer(compound=False)
        writer.update_document(**documents_a(item)[0])
        writer.commit(merge=False)

    return run


def new_comment_b(opened: index.Index, item: Generated) -> Callable[[], object]:
    """B: a new comment: one small document added."""
    entry = index_document(item.entry)
    counter = iter(range(10**6, 10**7))

    def run() -> None:
        writer = opened.writer(compound=False)
        writer.add_document(**comment_document(entry, item.entry.id, next(counter), "A new comment on rotas."))
        writer.commit(merge=False)

    return run


def entry_change_b(opened: index.Index, item: Generated) -> Callable[[], object]:
    """B: a change of the entry's visibility or status: its document and every comment document rewritten."""

    def run() -> None:
        writer = opened.writer(compound=False)
        writer.delete_by_term("entry", str(item.entry.id))
        for document in documents_b(item):
            writer.add_document(**document)
        writer.commit(merge=False)

    return run


# Queries


class Recording(collectors.TopCollector):
    """kb's collector: the top documents by score, keeping every match's number (`service._RecordingTopCollector`)."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit=limit, usequality=False)
        self.matched: list[int] = []

    def _collect(self, global_docnum: int, score: float) -> float:
        self.matched.append(global_docnum)
        return super()._collect(global_docnum, score)


def page_a(searcher: Searcher, node: q.Query, allowed: set[int]) -> tuple[int, list[int]]:
    """A: the total and the top ten, as the search page gets them."""
    collector = Recording(10)
    searcher.search_with_collector(node, collectors.FilterCollector(collector, allow=allowed))
    return len(collector.matched), [hit.docnum for hit in collector.results()]


def page_b(searcher: Searcher, node: q.Query, allowed: set[int], owner: list[int]) -> tuple[int, list[int]]:
    """B: every match scored, folded into distinct entries (best score first), then the top ten."""
    collector = collectors.UnlimitedCollector()
    searcher.search_with_collector(node, collectors.FilterCollector(collector, allow=allowed))
    results = collector.results()
    entries = {owner[docnum] for docnum in results.docs()}
    top: list[int] = []
    for hit in results:
        entry = owner[hit.docnum]
        if entry not in top:
            top.append(entry)
            if len(top) == 10:
                break
    return len(entries), top


def owners(searcher: Searcher) -> list[int]:
    """B: for each document number, the document number of its entry (cached per searcher in a real design)."""
    reader = searcher.reader()
    stored = {number: reader.stored_fields(number) for number in reader.all_doc_ids()}
    entries = {fields_["entry"]: number for number, fields_ in stored.items() if fields_["id"] == fields_["entry"]}
    owner = [-1] * reader.doc_count_all()
    for number, fields_ in stored.items():
        owner[number] = entries[fields_["entry"]]
    return owner


SHAPES = {
    "common term": "commissioning",
    "AND of 3 words": "triage staffing pressure",
    "phrase": '"tender evaluation panel"',
    "full page": "provider",
    "rare word only in comments": COMMENT_WORD,
}


def main() -> None:
    """Build both indexes, time changes and queries, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--seed", type=int, default=11)
    arguments = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kb-comment-bench-"))
    try:
        corpus = make_corpus(arguments.entries, arguments.seed)
        comments = sum(len(item.comments) for item in corpus)
        print(f"{arguments.entries} entries, {comments} comments")
        seconds_a = build(folder / "a", build_schema(), corpus, documents_a)
        seconds_b = build(folder / "b", schema_b(), corpus, documents_b)
        print(f"full build: A {seconds_a:.1f} s, B {seconds_b:.1f} s")
        a, b = index.open_dir(str(folder / "a")), index.open_dir(str(folder / "b"))
        print("\none change, p50 / p95 ms")
        for count in (0, 50, 500):
            item = with_comments(corpus, count)
            print(f"  {count:3d} comments: A any comment change {summary(timed(reindex_a(a, item), 8))}", end="")
            print(f" | B new comment {summary(timed(new_comment_b(b, item), 8))}", end="")
            print(f" | B entry change {summary(timed(entry_change_b(b, item), 5))}")
        print("\nsearch page index work as a member, p50 / p95 ms (matches: entries)")
        searcher_a, searcher_b = a.searcher(), b.searcher()
        filter_a = set(searcher_a.docs_for_query(index_visibility_filter(MEMBER)))
        filter_b = set(searcher_b.docs_for_query(index_visibility_filter(MEMBER)))
        started = time.perf_counter()
        owner = owners(searcher_b)
        print(f"  (B: mapping documents to entries once per searcher: {(time.perf_counter() - started) * 1000:.0f} ms)")
        for name, text in SHAPES.items():
            node = parse_user_query(text).query
            total_a, _ = page_a(searcher_a, node, filter_a)
            total_b, _ = page_b(searcher_b, node, filter_b, owner)
            time_a = timed(lambda node=node: page_a(searcher_a, node, filter_a), arguments.requests)
            time_b = timed(lambda node=node: page_b(searcher_b, node, filter_b, owner), arguments.requests)
            ratio = statistics.median(time_b) / max(statistics.median(time_a), 0.001)
            print(f"  {name:28s} A {summary(time_a)} ({total_a}) | B {summary(time_b)} ({total_b}) | B/A {ratio:.1f}x")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
