"""Search speed on a synthetic corpus, search by meaning off and on: rebuild, save-to-searchable, query latency.

    .venv/bin/python benchmarks/search_bench.py [--sizes 10000 100000] [--requests 30] [--seed 11]
        [--keep DIR [--reuse]] [--profile] [--meaning both|off|on] [--workers N]

For each size, builds a deterministic corpus of lessons, papers and reviews (300-1,500
words each, Zipf-distributed words, tags from `content/taxonomy.yaml`, mixed statuses and
visibilities), writes it into a throwaway SQLite database with Core inserts, then:

- times `kb.search.indexing.rebuild` and reports entries/s and the index size on disk;
- asks the search page, signed in as a member, for six shapes of query (common term, rare
  term, AND of words, phrase, term with facet filters, full page) and times the same
  shapes on bare Whoosh over the same index, printing kb/bare ratios;
- with `--profile`, profiles the full-page and phrase requests (cProfile, top 15);
- times save-to-searchable: an ORM save of a fresh word, then searching until found.

With `--meaning both` (the default) all of that runs twice on the same corpus: first with
`SEARCH_MEANING` off (words alone; bare Whoosh compared), then on, where the rebuild also
embeds every entry's parts (indexing time per entry, words alone and with vectors), the
page and service times include the meaning layer, a seventh shape asks a question in plain
words, and a save is also timed until the meaning layer finds the entry by its new title.
It also prints what the model takes (loaded in a fresh process: seconds, resident MiB, ms
per part embedded) and what this process's matrix of parts takes (rows, MiB of vectors,
growth of RSS at the first meaning search). `--workers N` then serves the last corpus
under gunicorn with N workers three ways (meaning off, model loaded by each worker, model
preloaded before the fork) and prints each worker's RSS, PSS and USS
(`benchmarks/worker_memory.py`). `benchmarks/meaning_costs.py` prints the matrix's size limits.

numpy multiplies on one thread, as in a served worker (`OPENBLAS_NUM_THREADS`, set by
`gunicorn.conf.py`), unless the environment says otherwise. Prints medians (p50) and
p95s; the machines are shared, so compare ratios rather than absolute times. Everything
lives in a temporary folder (or `--keep DIR`), never in the developer's database or
`search_index/`. `--keep DIR --reuse` measures corpora an earlier run kept in DIR again
without generating them, rebuilding the index (or filling the vectors) only if it has
none (its saves add segments to the kept index).
"""

from __future__ import annotations

import argparse
import contextvars
import cProfile
import datetime as dt
import itertools
import math
import os
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# As gunicorn.conf.py sets it for the workers this process stands for, before numpy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select
from whoosh import highlight, index, sorting
from whoosh.searching import Searcher

from benchmarks import meaning_costs, worker_memory
from kb import create_app
from kb.config import PROJECT_ROOT
from kb.content.taxonomy import parse_taxonomy
from kb.entries.models import Entry, Lesson, Paper, Review, entry_tags
from kb.extensions import db
from kb.permissions import Viewer, index_visibility_filter
from kb.search import indexing
from kb.search.backend import backend, index_store
from kb.search.query import facet_filter, parse_user_query
from kb.search.schema import FACET_FIELDS, text_analyzer
from kb.search.service import SearchRequest, search
from kb.search.text import facet_key
from kb.taxonomy.models import Tag, Theme
from kb.users.models import PanelMembership, User
from tests.accounts import login_as, make_user

STOP_WORDS = (
    "the of and to in a is that for it as was with be by on not he this are or his from at which but have an "
    "they you were their one all we can her has there been if more when will would who so no"
).split()
DOMAIN_WORDS = (
    "service patients care provider clinical calls commissioning urgent region board triage quality staffing pressure "
    "contract readiness procurement tender ambulance weighting pathway cost launch review lesson evidence governance "
    "safety capacity demand commissioners local national specification timescale pilot feedback system "
    "assurance partner consortium bid price evaluation panel advisers handling performance data winter attendances "
    "emergency department primary practice practitioners nurses workforce training shifts rota abandonment "
    "dispositions referrals outcomes incidents complaints risk register mobilisation transition shadow groups "
    "trust trusts hospital hospitals community pharmacy dental mental health social directory services "
    "algorithm software questions responses callers caller queue waiting minutes targets standards monitoring "
    "report reports findings recommendations actions owner deadline go live soft phased rollout stakeholders "
    "engagement communication public media coverage ministers leaders executives managers meeting "
    "agenda paper papers briefing discussion consultation decision decisions approval budget funding "
    "finance penalties incentives payment tariff activity volumes forecast modelling assumptions contingency "
    "escalation resilience surge bank holiday weekend overnight handover delays transfers dispatch crews "
    "paramedics category response times audit learning culture openness candour accountability oversight "
    "scrutiny inspection regulator inspectors legal challenge judging criteria scoring lots award awarded "
    "bidders incumbent market competition collaboration integration federation federations practices "
    "out hours sites teams staff recruitment retention sickness morale supervision supervisors escalated "
    "mobilised contracted procured commissioned specified delayed failed recovered improved"
).split()
DOMAIN_SPACING = 10
"""Domain words sit every tenth rank after the stop words, so they range from very common to rare."""
COLLOCATIONS = (
    "out of hours|clinical governance|go live date|tender evaluation panel|cost versus quality|ambulance dispositions|"
    "call handling|provider readiness|staffing levels|patient safety|national specification|local knowledge|"
    "shadow form|contract award|emergency department attendances|clinical commissioning group|primary care|"
    "urgent care pathway|directory of services|call abandonment rate|winter pressure|procurement timetable|"
    "quality weighting|legal challenge|mobilisation plan|handover delays|clinical advisers|health advisers|"
    "service specification|performance data|board assurance|risk register|workforce planning|training programme|"
    "soft launch|pilot sites|lessons learned|incident reporting|serious incident|root cause analysis"
).split("|")
PLACE_STARTS = (
    "ash brack bur chel dun elm fair gold hal hart ink kes lang mar nor oak pen quen ros sal thorn ux "
    "ver wal whit yar bram cal dray fen gar hol ket lin mor pol rad stan tad wel"
).split()
PLACE_ENDS = "ford ham ton by combe field wick bury minster bridge dale mouth stead worth ley hurst well cliffe".split()
ONSETS = "b c d f g h j k l m n p r s t v w br cr dr fr gr pr tr st sl pl cl bl sh ch th".split()
VOWELS = "a e i o u ai ea ou oo ie".split()
CODAS = ["", "", "n", "r", "l", "s", "t", "m", "nd", "rt", "st", "ck", "ng"]
ORGANISATION_TYPES = ("out-of-hours provider", "ambulance service", "clinical commissioning group", "GP federation")
REGIONS = (
    "England",
    "North East",
    "North West",
    "Yorkshire and the Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
)
STATUSES = (("published", 90), ("draft", 6), ("submitted", 2), ("returned", 1), ("rejected", 1))
VISIBILITIES = (("public", 72), ("members", 18), ("panel", 8), ("draft", 2))
FILLER_WORDS = 6000
AUTHORS = 20
BATCH = 2000
FIRST_DAY = dt.date(2013, 1, 1)
DAYS = 12 * 365
MEMBER_PANEL_REVIEW = 1
TARGETS = {"term p95": 50.0, "filtered p95": 50.0, "page p95": 150.0, "ratio": 1.3, "rebuild": 150.0}
MEANING_PAGE_P95 = 100.0
"""With search by meaning on, the search page's p95 at 10,000 entries (save-to-searchable keeps its 300 ms)."""
QUESTION = "why did the provider miss the go live date over the winter"


# The corpus


@dataclass(frozen=True)
class Vocabulary:
    """Words ranked by frequency, with the cumulative Zipf weights to draw them by."""

    words: list[str]
    cum_weights: list[float]
    places: list[str]


def filler_words(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    """`count` made-up but pronounceable words, none of them in `taken`."""
    words: list[str] = []
    seen = set(taken)
    while len(words) < count:
        syllables = rng.choice((2, 2, 3, 3, 4))
        word = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(syllables))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def make_vocabulary(rng: random.Random) -> Vocabulary:
    """Stop words first, then domain words among filler, weighted 1/rank (Zipf, s=1)."""
    domain = list(dict.fromkeys(DOMAIN_WORDS))
    filler = iter(filler_words(rng, FILLER_WORDS, set(STOP_WORDS) | set(domain)))
    words = list(STOP_WORDS)
    for word in domain:
        words.append(word)
        words.extend(itertools.islice(filler, DOMAIN_SPACING - 1))
    words.extend(filler)
    weights = [1.0 / rank for rank in range(1, len(words) + 1)]
    places = sorted({(start + end).capitalize() for start in PLACE_STARTS for end in PLACE_ENDS})
    rng.shuffle(places)
    return Vocabulary(words=words, cum_weights=list(itertools.accumulate(weights)), places=places)


class TextMaker:
    """Sentences and paragraphs of Zipf-drawn words, with set phrases and the entry's place mixed in."""

    def __init__(self, rng: random.Random, vocabulary: Vocabulary) -> None:
        self.rng = rng
        self.vocabulary = vocabulary

    def words(self, count: int) -> list[str]:
        """`count` words drawn by frequency."""
        return self.rng.choices(self.vocabulary.words, cum_weights=self.vocabulary.cum_weights, k=count)

    def sentence(self, place: str) -> list[str]:
        """One sentence's words (8-22, plus any set phrase or place name)."""
        words = self.words(self.rng.randint(8, 22))
        if self.rng.random() < 0.25:
            at = self.rng.randrange(len(words))
            words[at:at] = self.rng.choice(COLLOCATIONS).split()
        if self.rng.random() < 0.08:
            words.insert(self.rng.randrange(len(words)), place)
        return words

    def text(self, count: int, place: str) -> str:
        """About `count` words as paragraphs of three to six sentences."""
        paragraphs: list[str] = []
        sentences: list[str] = []
        written = 0
        while written < count:
            words = self.sentence(place)
            written += len(words)
            sentences.append(" ".join(words).capitalize() + ".")
            if len(sentences) >= self.rng.randint(3, 6):
                paragraphs.append(" ".join(sentences))
                sentences = []
        if sentences:
            paragraphs.append(" ".join(sentences))
        return "\n\n".join(paragraphs)

    def title(self, place: str) -> str:
        """A title: a few content words, perhaps a set phrase, and a place."""
        content = [word for word in self.words(12) if word not in STOP_WORDS][: self.rng.randint(3, 6)]
        if self.rng.random() < 0.5:
            content.insert(self.rng.randrange(len(content) + 1), self.rng.choice(COLLOCATIONS))
        return f"{' '.join(content).capitalize()} in {place}"


def weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    """One value from (value, weight) pairs."""
    return rng.choices([value for value, _ in choices], weights=[weight for _, weight in choices])[0]


@dataclass(frozen=True)
class CorpusPlan:
    """What every generated entry can refer to: tag ids, review ids and author ids."""

    size: int
    tag_ids: list[int]
    tag_weights: list[float]
    reviews: int
    author_ids: list[int]
    member_id: int


def split_words(rng: random.Random, total: int, shares: tuple[float, ...]) -> list[int]:
    """Divide `total` words between sections roughly in these shares, jittered."""
    jittered = [share * rng.uniform(0.6, 1.4) for share in shares]
    scale = total / sum(jittered)
    return [max(20, round(part * scale)) for part in jittered]


def entry_dates(rng: random.Random) -> dict[str, Any]:
    """Event date (at a random precision) and created, updated and published times after it."""
    day = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
    precision = weighted(rng, (("day", 5), ("month", 4), ("year", 1)))
    stored = day if precision == "day" else day.replace(day=1) if precision == "month" else day.replace(1, 1)
    created = dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC) + dt.timedelta(days=rng.randint(0, 400))
    updated = created + dt.timedelta(days=rng.randint(0, 200), minutes=rng.randint(0, 600))
    return {"event_date": stored, "event_date_precision": precision, "created_at": created, "updated_at": updated}


def entry_row(rng: random.Random, maker: TextMaker, plan: CorpusPlan, entry_id: int, kind: str) -> dict[str, Any]:
    """The `entries` row of one entry (its text is filled in by the kind's own row maker)."""
    place = maker.vocabulary.places[rng.randrange(len(maker.vocabulary.places))]
    status = weighted(rng, STATUSES)
    visibility = weighted(rng, VISIBILITIES)
    review_id = entry_id if kind == "review" else None
    if kind != "review" and (visibility == "panel" or rng.random() < 0.4):
        review_id = rng.randint(1, plan.reviews)
    author_id = plan.member_id if rng.random() < 0.005 else rng.choice(plan.author_ids)
    dates = entry_dates(rng)
    return {
        "id": entry_id,
        "kind": kind,
        "slug": f"{kind}-{entry_id}",
        "title": maker.title(place),
        "summary": maker.text(rng.randint(30, 60), place),
        "body": "",
        "status": status,
        "visibility": visibility,
        "region": rng.choice(REGIONS) if rng.random() < 0.95 else None,
        "organisation": f"{place} {rng.choice(ORGANISATION_TYPES)}" if rng.random() < 0.6 else None,
        "sources": [{"title": f"{place} board paper"}] if rng.random() < 0.2 else [],
        "published_at": dates["updated_at"] if status == "published" else None,
        "imported_hash": None,
        "author_id": author_id,
        "review_id": None if kind == "review" else review_id,
        "status_note": None,
        "status_changed_at": None,
        **dates,
        "_place": place,
    }


def lesson_row(rng: random.Random, maker: TextMaker, entry: dict[str, Any], words: int) -> dict[str, Any]:
    """The `lessons` row: four sections sharing the entry's word budget."""
    place = entry["_place"]
    sizes = split_words(rng, words, (0.3, 0.25, 0.2, 0.25))
    recommendation = "\n".join(f"- {maker.text(size // 3, place)}" for size in (sizes[2],) * 3)
    return {
        "id": entry["id"],
        "driving_event": maker.text(sizes[0], place),
        "lesson_text": maker.text(sizes[1], place),
        "recommendation": recommendation,
        "evidence": maker.text(sizes[3], place),
        "maturity": rng.choice(("observation", "insight", "lesson", "learned")),
        "action_status": rng.choice(("identified", "accepted", "action-planned", "actioned")),
        "action_owner": None,
        "action_due": None,
        "action_due_precision": None,
        "action_note": None,
    }


def review_row(rng: random.Random, maker: TextMaker, entry: dict[str, Any], words: int) -> dict[str, Any]:
    """The `reviews` row; the body and terms of reference share the word budget."""
    place = entry["_place"]
    terms = rng.randint(60, 120) if rng.random() < 0.7 else 0
    entry["body"] = maker.text(max(words - terms, 100), place)
    return {
        "id": entry["id"],
        "commissioning_body": f"{place} clinical commissioning group",
        "review_status": rng.choice(("commissioned", "in-progress", "consulting", "published")),
        "terms_of_reference": maker.text(terms, place) if terms else None,
    }


def paper_row(rng: random.Random, maker: TextMaker, entry: dict[str, Any], words: int) -> dict[str, Any]:
    """The `papers` row; the body takes the word budget."""
    entry["body"] = maker.text(words, entry["_place"])
    return {
        "id": entry["id"],
        "meeting": f"{entry['_place']} board meeting",
        "meeting_date": entry["event_date"],
        "meeting_date_precision": entry["event_date_precision"],
        "paper_type": rng.choice(("agenda", "minutes", "discussion-paper", "briefing", "report")),
        "paper_status": "final",
    }


KIND_ROWS: dict[str, Callable[[random.Random, TextMaker, dict[str, Any], int], dict[str, Any]]] = {
    "lesson": lesson_row,
    "review": review_row,
    "paper": paper_row,
}


def kind_of(rng: random.Random, entry_id: int, plan: CorpusPlan) -> str:
    """Reviews take the first ids (so others can point at them); then 87% lessons, 13% papers."""
    if entry_id <= plan.reviews:
        return "review"
    return "lesson" if rng.random() < 0.87 else "paper"


def tags_for(rng: random.Random, plan: CorpusPlan, entry_id: int) -> list[dict[str, int]]:
    """One to four distinct tags, popular tags more often."""
    chosen = set(rng.choices(plan.tag_ids, weights=plan.tag_weights, k=rng.randint(1, 4)))
    return [{"entry_id": entry_id, "tag_id": tag_id} for tag_id in sorted(chosen)]


def generate(rng: random.Random, maker: TextMaker, plan: CorpusPlan) -> Iterator[tuple[str, list, dict, list]]:
    """Each entry as (kind, entries row list, kind row, tag rows), in id order."""
    for entry_id in range(1, plan.size + 1):
        kind = kind_of(rng, entry_id, plan)
        entry = entry_row(rng, maker, plan, entry_id, kind)
        words = rng.randint(300, 1500) - len(entry["summary"].split()) - len(entry["title"].split())
        detail = KIND_ROWS[kind](rng, maker, entry, max(words, 150))
        entry.pop("_place")
        yield kind, [entry], detail, tags_for(rng, plan, entry_id)


# The database


def insert_taxonomy() -> tuple[list[int], list[float]]:
    """Themes and tags from `content/taxonomy.yaml`; returns tag ids and Zipf-like weights."""
    text = (PROJECT_ROOT / "content" / "taxonomy.yaml").read_text(encoding="utf-8")
    themes, problems = parse_taxonomy(text, "taxonomy.yaml")
    assert not problems, problems
    theme_rows, tag_rows = [], []
    for position, theme in enumerate(themes, start=1):
        theme_rows.append({"id": position, "slug": theme.slug, "label": theme.label, "description": "", "position": 0})
        for tag_position, tag in enumerate(theme.tags):
            tag_rows.append({"slug": tag.slug, "label": tag.label, "theme_id": position, "position": tag_position})
    for number, row in enumerate(tag_rows, start=1):
        row["id"] = number
    db.session.execute(insert(Theme.__table__), theme_rows)
    db.session.execute(insert(Tag.__table__), tag_rows)
    db.session.commit()
    return [row["id"] for row in tag_rows], [1.0 / rank**0.8 for rank in range(1, len(tag_rows) + 1)]


def insert_authors(count: int) -> list[int]:
    """Authors of the entries, as plain member accounts."""
    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "email": f"author{number}@example.org",
            "display_name": f"Author {number}",
            "role": "member",
            "active": True,
            "password_hash": None,
            "session_token": f"author-token-{number}",
            "created_at": now,
            "is_demo": False,
        }
        for number in range(count)
    ]
    db.session.execute(insert(User.__table__), rows)
    db.session.commit()
    return list(db.session.scalars(select(User.id).where(User.email.like("author%"))))


def write_batch(batch: list[tuple[str, list, dict, list]]) -> None:
    """Insert a batch of generated entries with Core inserts (no ORM flush, so nothing is queued)."""
    entries = [row for _, rows, _, _ in batch for row in rows]
    db.session.execute(insert(Entry.__table__), entries)
    for kind, model in (("lesson", Lesson), ("review", Review), ("paper", Paper)):
        rows = [detail for entry_kind, _, detail, _ in batch if entry_kind == kind]
        if rows:
            db.session.execute(insert(model.__table__), rows)
    tags = [row for _, _, _, tag_rows in batch for row in tag_rows]
    db.session.execute(insert(entry_tags), tags)
    db.session.commit()


@dataclass
class Corpus:
    """What was loaded: the member who searches, and the place names (for rare terms)."""

    member_id: int
    member_token: str
    viewer: Viewer
    vocabulary: Vocabulary
    seconds: float


def load_corpus(size: int, seed: int) -> Corpus:
    """Generate `size` entries and write them into the app's database (needs an app context)."""
    started = time.perf_counter()
    rng = random.Random(seed)
    vocabulary = make_vocabulary(rng)
    tag_ids, tag_weights = insert_taxonomy()
    authors = insert_authors(AUTHORS)
    reviews = max(2, size * 6 // 100)
    member = make_user("member@example.org")
    plan = CorpusPlan(size, tag_ids, tag_weights, reviews, authors, member.id)
    maker = TextMaker(rng, vocabulary)
    batch: list[tuple[str, list, dict, list]] = []
    for generated in generate(rng, maker, plan):
        batch.append(generated)
        if len(batch) >= BATCH:
            write_batch(batch)
            batch = []
    if batch:
        write_batch(batch)
    seat_member(member.id)
    viewer = Viewer(user_id=member.id, role="member", panel_review_ids=frozenset({MEMBER_PANEL_REVIEW}))
    return Corpus(member.id, member.session_token, viewer, vocabulary, time.perf_counter() - started)


def existing_corpus(seed: int) -> Corpus:
    """The corpus a previous run kept (needs an app context on its database)."""
    member = db.session.scalar(select(User).where(User.email == "member@example.org"))
    assert member is not None, "no benchmark corpus in this database"
    viewer = Viewer(user_id=member.id, role="member", panel_review_ids=frozenset({MEMBER_PANEL_REVIEW}))
    return Corpus(member.id, member.session_token, viewer, make_vocabulary(random.Random(seed)), 0.0)


def seat_member(member_id: int) -> None:
    """Give the member a seat on the first review's panel, so the panel rule has work to do."""
    db.session.add(PanelMembership(user_id=member_id, review_id=MEMBER_PANEL_REVIEW))
    db.session.commit()


# The app


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        """Run the request in a fresh context, so requests share no `g` or database session."""
        return contextvars.Context().run(super().open, *args, **kwargs)


def make_app(folder: Path, meaning: bool = False) -> Flask:
    """A kb app whose database, index, content and instance folders all live in `folder`; `meaning`: SEARCH_MEANING."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = {
        "TESTING": True,
        "INSTANCE_PATH": folder / "instance",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'kb.sqlite3'}",
        "SEARCH_INDEX_DIR": str(folder / "search_index"),
        "CONTENT_DIR": str(folder / "content"),
        "SECRET_KEY": "benchmark-secret-key",
        "AUTO_MIGRATE": True,
        "SEARCH_REBUILD_AT_START": "off",
        "SEARCH_MEANING": meaning,
    }
    real_index = (PROJECT_ROOT / "search_index").resolve()
    assert Path(settings["SEARCH_INDEX_DIR"]).resolve() != real_index, "refusing to use the real search index"
    app = create_app(settings)
    app.test_client_class = IsolatedClient
    return app


def folder_size(folder: Path) -> int:
    """Bytes taken by the files in `folder`."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


@dataclass
class Rebuild:
    """How long the rebuild took and what it left on disk."""

    entries: int
    seconds: float
    cpu_seconds: float
    index_bytes: int
    segments: int

    @property
    def rate(self) -> float:
        """Entries indexed per second."""
        return self.entries / self.seconds


def time_rebuild(app: Flask) -> Rebuild:
    """Rebuild the app's search backend (and its layers) from the database, printing progress every tenth of the way."""
    store = index_store(app)
    done = [0]
    started, cpu_started = time.perf_counter(), time.process_time()
    total = [0]

    def progress(count: int) -> None:
        step = max(total[0] // 10, 1)
        before, done[0] = done[0], done[0] + count
        if done[0] // step > before // step:
            elapsed = time.perf_counter() - started
            print(f"  indexed {done[0]:>7} in {elapsed:6.0f} s ({done[0] / elapsed:5.0f}/s)", flush=True)

    with app.app_context():
        count = backend(app).rebuild(on_progress=progress, total=lambda n: total.__setitem__(0, n))
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    generation = store.root / (store.current_generation() or "")
    segments = indexing.segment_count(store.open_current())
    return Rebuild(count, seconds, cpu_seconds, folder_size(generation), segments)


# Timing helpers


@dataclass(frozen=True)
class Times:
    """Latencies of one measurement, in milliseconds."""

    values: list[float]
    cpu: list[float] = field(default_factory=list)
    """The process's CPU time for each run, which other work on the machine does not inflate."""

    @property
    def cpu_p50(self) -> float:
        """The median CPU time (0 when not recorded)."""
        return statistics.median(self.cpu) if self.cpu else 0.0

    @property
    def p50(self) -> float:
        """The median."""
        return statistics.median(self.values)

    @property
    def p95(self) -> float:
        """The 95th percentile (nearest rank)."""
        ordered = sorted(self.values)
        return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]

    def __str__(self) -> str:
        return f"{self.p50:7.1f} /{self.p95:7.1f}"


def repeat(action: Callable[[], object], count: int, warm_up: int = 3) -> Times:
    """Run `action` `warm_up` times untimed, then `count` times timed."""
    for _ in range(warm_up):
        action()
    values, cpu = [], []
    for _ in range(count):
        started, cpu_started = time.perf_counter(), time.process_time()
        action()
        values.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    return Times(values, cpu)


# Query shapes


@dataclass(frozen=True)
class Shape:
    """One kind of search: what is typed and which facet values are chosen."""

    name: str
    text: str
    facets: dict[str, list[str]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The search page's address for this shape."""
        return "/search?" + urlencode({"q": self.text, **self.facets}, doseq=True)


def make_shapes(vocabulary: Vocabulary) -> list[Shape]:
    """The six shapes, with words chosen from the generated vocabulary."""
    return [
        Shape("common term", "commissioning"),
        Shape("rare term", vocabulary.places[0]),
        Shape("AND of 3 words", "triage staffing pressure"),
        Shape("phrase", '"tender evaluation panel"'),
        Shape("term + facets", "readiness", {"kind": ["lesson"], "region": ["north-west"]}),
        Shape("full page", "provider"),
        Shape("question", QUESTION),
    ]


def kb_page(client: FlaskClient, shape: Shape) -> Callable[[], object]:
    """One request for the search page, checked to succeed."""

    def run() -> object:
        response = client.get(shape.url)
        assert response.status_code == 200, (shape.url, response.status_code)
        return response

    return run


def kb_service(app: Flask, viewer: Viewer, shape: Shape) -> Callable[[], object]:
    """One call of `kb.search.service.search` in a fresh app context (no Flask request, no template)."""
    wanted = SearchRequest(text=shape.text, facets=shape.facets, sort="relevance", per_page=10)

    def run() -> object:
        with app.app_context():
            return search(viewer, wanted)

    return run


# Bare Whoosh


class BareWhoosh:
    """The same searches straight on Whoosh: parse, filter by a cached visibility set, top 10."""

    def __init__(self, app: Flask, viewer: Viewer) -> None:
        store = index_store(app)
        self.app = app
        self.searcher: Searcher = index.open_dir(str(store.root / (store.current_generation() or ""))).searcher()
        self.analyzer = text_analyzer()
        started = time.perf_counter()
        self.visible = frozenset(self.searcher.docs_for_query(index_visibility_filter(viewer)))
        self.visibility_ms = (time.perf_counter() - started) * 1000
        self.allowed: dict[str, set[int]] = {}
        self.facets = {name: sorting.FieldFacet(name, allow_overlap=name in ("tag", "theme")) for name in FACET_FIELDS}

    def allowed_for(self, shape: Shape) -> set[int]:
        """The visible documents carrying the shape's chosen facet values (cached per shape)."""
        if shape.name not in self.allowed:
            chosen = facet_filter(
                {name: [facet_key(value) for value in values] for name, values in shape.facets.items()}
            )
            docs = self.visible if chosen is None else self.visible & set(self.searcher.docs_for_query(chosen))
            self.allowed[shape.name] = set(docs)
        return self.allowed[shape.name]

    def search(self, shape: Shape) -> Callable[[], object]:
        """Parse and run the query for the top 10 visible hits."""
        allowed = self.allowed_for(shape)

        def run() -> object:
            parsed = parse_user_query(shape.text).query
            return [hit["id"] for hit in self.searcher.search(parsed, filter=allowed, limit=10)]

        return run

    def page(self, shape: Shape) -> Callable[[], object]:
        """Search with Whoosh's own facet counts (`groupedby`) and highlight the top 10 hits' texts."""
        allowed = self.allowed_for(shape)

        def run() -> object:
            parsed = parse_user_query(shape.text).query
            results = self.searcher.search(
                parsed, filter=allowed, limit=10, groupedby=self.facets, maptype=sorting.Count
            )
            counts = {name: results.groups(name) for name in FACET_FIELDS}
            ids = [int(hit["id"]) for hit in results[:10]]
            terms = {text for fieldname, text in parsed.iter_all_terms() if fieldname in ("text", "title")}
            return counts, self.highlights(ids, terms)

        return run

    def highlights(self, ids: list[int], terms: set[str]) -> list[str]:
        """Each entry's title and best fragment of its texts, matched words marked."""
        entries, lessons = Entry.__table__.c, Lesson.__table__.c
        texts = (entries.summary, entries.body, lessons.driving_event, lessons.lesson_text, lessons.recommendation)
        query = (
            select(entries.id, entries.title, *texts, lessons.evidence)
            .select_from(Entry.__table__.outerjoin(Lesson.__table__, lessons.id == entries.id))
            .where(entries.id.in_(ids))
        )
        fragmenter = highlight.ContextFragmenter(maxchars=240, surround=60)
        formatter = highlight.HtmlFormatter()
        marked = []
        with self.app.app_context():
            for row in db.session.execute(query):
                text = "\n".join(part for part in row[2:] if part)
                for part in (row[1], text):
                    marked.append(highlight.highlight(part, terms, self.analyzer, fragmenter, formatter, top=1))
        return marked


# Save to searchable


@dataclass
class SaveReport:
    """Save-to-searchable latencies and what the index did meanwhile."""

    total: Times
    commit: Times
    search: Times
    next_page: Times
    """A full page for a common word right after each save, on the reopened searcher."""
    segments_before: int
    segments_after: int
    merges_seen: int
    retries: int
    by_meaning: Times | None = None
    """With search by meaning on: from the save until the meaning layer lists the entry for its new title."""
    meaning_misses: int = 0


def fresh_word(run: int, number: int) -> str:
    """A word that occurs nowhere in the corpus, nor in an earlier run's saves."""
    letters = "".join("bcdfghjklmnpqrstvwxz"[int(digit)] for digit in f"{run:012d}{number:04d}")
    return f"qzxsave{letters}"


def visible_ids(count: int, rng: random.Random) -> list[int]:
    """Ids of published public or members entries, for the member to find after a save."""
    query = select(Entry.id).where(Entry.status == "published", Entry.visibility.in_(("public", "members")))
    ids = list(db.session.scalars(query.order_by(Entry.id).limit(20000)))
    return rng.sample(ids, count)


def save_to_searchable(app: Flask, viewer: Viewer, count: int, seed: int, meaning: bool = False) -> SaveReport:
    """Save `count` entries, each with a fresh word in its title, and time until each is found.

    With `meaning`, also until the meaning layer lists the entry for its new title (after
    it is found by words, so the page's timings are not disturbed).
    """
    store = index_store(app)
    totals, commits, searches, pages, meanings = [], [], [], [], []
    merges = retries = misses = 0
    run = time.time_ns() // 10**6 % 10**12
    common = SearchRequest(text="provider", per_page=10)
    with app.app_context():
        ids = visible_ids(count, random.Random(seed))
        before = indexing.segment_count(store.open_current())
        for number, entry_id in enumerate(ids):
            word = fresh_word(run, number)
            entry = db.session.get(Entry, entry_id)
            entry.title = f"{entry.title} {word}"
            started = time.perf_counter()
            db.session.commit()
            committed = time.perf_counter()
            merges += int(indexing._merging.locked())
            retries += wait_until_found(viewer, word, entry_id)
            found = time.perf_counter()
            search(viewer, common)
            pages.append((time.perf_counter() - found) * 1000)
            if meaning:
                missed = wait_until_meaning(app, viewer, entry.title, entry_id)
                meanings.append((time.perf_counter() - started) * 1000 - pages[-1])
                misses += missed
            totals.append((found - started) * 1000)
            commits.append((committed - started) * 1000)
            searches.append((found - committed) * 1000)
        wait_for_merge()
        after = indexing.segment_count(store.open_current())
    times = Times(totals), Times(commits), Times(searches), Times(pages)
    return SaveReport(*times, before, after, merges, retries, Times(meanings) if meaning else None, misses)


def wait_until_meaning(app: Flask, viewer: Viewer, text: str, entry_id: int, limit: float = 5.0) -> int:
    """Ask the meaning layer for `text` until it lists `entry_id`; returns 1 if it never did within `limit` s."""
    deadline = time.monotonic() + limit
    while not meaning_costs.found_by_meaning(app, viewer, text, entry_id):
        if time.monotonic() > deadline:
            return 1
        time.sleep(0.005)
    return 0


def wait_until_found(viewer: Viewer, word: str, entry_id: int, limit: float = 30.0) -> int:
    """Search for `word` until entry `entry_id` is among the hits; returns how many searches missed."""
    deadline = time.monotonic() + limit
    missed = 0
    while True:
        results = search(viewer, SearchRequest(text=word, per_page=10))
        if any(hit.entry.id == entry_id for hit in results.hits):
            return missed
        missed += 1
        assert time.monotonic() < deadline, f"entry {entry_id} not searchable after {limit} s"
        time.sleep(0.005)


def wait_for_merge(limit: float = 120.0) -> None:
    """Wait for any background segment merge to finish."""
    deadline = time.monotonic() + limit
    while indexing._merging.locked() and time.monotonic() < deadline:
        time.sleep(0.05)
    for thread in threading.enumerate():
        if thread.name == "kb-search-merge":
            thread.join(max(deadline - time.monotonic(), 0))


# Profiling


WRAPPER_FILES = ("werkzeug/test.py", "flask/testing.py", "flask/app.py", "search_bench.py", "~")
"""Frames that only pass a request along; left out of the cumulative list so kb's and Whoosh's show."""


def short_name(function: tuple[str, int, str]) -> str:
    """`package/module.py:line(function)` for a profiled function."""
    filename, line, name = function
    parts = Path(filename).parts
    if "site-packages" in parts:
        parts = parts[parts.index("site-packages") + 1 :]
    elif "kb" in parts:
        parts = parts[parts.index("kb") :]
    return f"{'/'.join(parts[-2:])}:{line}({name})"


def top_functions(stats: pstats.Stats, requests: int, key: int, count: int = 15) -> list[str]:
    """The `count` functions with most time per request; `key` 3 sorts by cumulative, 2 by own time."""
    rows = [
        (values[key], values[2], values[1], function)
        for function, values in stats.stats.items()  # type: ignore[attr-defined]
        if key == 2 or not any(wrapper in function[0] for wrapper in WRAPPER_FILES)
    ]
    rows.sort(reverse=True)
    lines = [f"{'cumulative':>10} {'own':>8} {'calls':>8}  per request, ms"]
    for cumulative, own, calls, function in rows[:count]:
        if key == 2:
            cumulative = stats.stats[function][3]  # type: ignore[attr-defined]
        lines.append(
            f"{cumulative * 1000 / requests:10.1f} {own * 1000 / requests:8.1f} {calls / requests:8.0f}  "
            f"{short_name(function)}"
        )
    return lines


def profile_requests(client: FlaskClient, shape: Shape, count: int) -> str:
    """cProfile `count` requests for `shape`: the top 15 functions by cumulative and by own time."""
    profiler = cProfile.Profile()
    run = kb_page(client, shape)
    run()
    profiler.enable()
    for _ in range(count):
        run()
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt * 1000 / count  # type: ignore[attr-defined]
    lines = [f"{total:.0f} ms per request under the profiler; by cumulative time:"]
    lines += top_functions(stats, count, 3)
    lines.append("by own time:")
    lines += top_functions(stats, count, 2)
    return "\n".join(lines)


# One size, start to finish


@dataclass
class ShapeResult:
    """The figures for one shape of query at one size (bare Whoosh's only with search by meaning off)."""

    shape: Shape
    matches: int
    kb_page: Times
    kb_service: Times
    bare_search: Times | None = None
    bare_page: Times | None = None


@dataclass
class ModeResult:
    """Everything measured at one size with search by meaning off or on."""

    meaning: bool
    rebuild: Rebuild | None
    shapes: list[ShapeResult]
    saves: SaveReport
    visibility_ms: float | None
    matrix: meaning_costs.MatrixCost | None

    @property
    def name(self) -> str:
        """How the mode is printed."""
        return "meaning on" if self.meaning else "meaning off"


@dataclass
class SizeResult:
    """Everything measured at one corpus size."""

    size: int
    load_seconds: float
    modes: list[ModeResult]
    term_counts: dict[str, int]
    load: tuple[float, float]


def document_frequencies(app: Flask, shapes: list[Shape]) -> dict[str, int]:
    """How many documents contain each analysed word of the shapes' texts."""
    analyzer = text_analyzer()
    searcher = index_store(app).open_current().searcher()
    counts = {}
    for shape in shapes:
        for token in analyzer(shape.text.replace('"', "")):
            counts[token.text] = searcher.doc_frequency("text", token.text)
    searcher.close()
    return counts


def measure_shapes(
    app: Flask, corpus: Corpus, shapes: list[Shape], requests: int, bare_too: bool = True
) -> tuple[list[ShapeResult], float | None]:
    """Time every shape through the app, through the service, and (with `bare_too`) on bare Whoosh."""
    client = app.test_client()
    with app.app_context():
        login_as(client, db.session.get(User, corpus.member_id))
    bare = BareWhoosh(app, corpus.viewer) if bare_too else None
    results = []
    for shape in shapes:
        with app.app_context():
            matches = search(corpus.viewer, SearchRequest(text=shape.text, facets=shape.facets)).total
        result = ShapeResult(
            shape=shape,
            matches=matches,
            kb_page=repeat(kb_page(client, shape), requests),
            kb_service=repeat(kb_service(app, corpus.viewer, shape), requests),
        )
        if bare is not None:
            result.bare_search = repeat(bare.search(shape), requests)
            result.bare_page = repeat(bare.page(shape), requests)
        print(f"  {shape.name:16} {matches:>7} matches  kb page {result.kb_page}  bare page {result.bare_page}")
        results.append(result)
    if bare is None:
        return results, None
    bare.searcher.close()
    return results, bare.visibility_ms


def report_rebuild(rebuild: Rebuild, meaning: bool) -> None:
    """One line on a rebuild just timed."""
    what = "words and vectors" if meaning else "words alone"
    print(
        f"rebuild ({what}): {rebuild.seconds:.0f} s, {rebuild.rate:.0f} entries/s, "
        f"{rebuild.seconds * 1000 / rebuild.entries:.1f} ms per entry, "
        f"index {rebuild.index_bytes / 2**20:.0f} MB in {rebuild.segments} segment(s)",
        flush=True,
    )


def needs_rebuild(app: Flask, folder: Path, meaning: bool, reused: bool) -> bool:
    """A new corpus always; a kept one when its index, or (with meaning on) its vectors, are missing."""
    if not reused:
        return True
    if not (folder / "search_index" / "current").exists():
        return True
    return meaning and meaning_costs.parts_count(app)[0] == 0


def run_mode(
    app: Flask, folder: Path, corpus: Corpus, shapes: list[Shape], arguments: argparse.Namespace, reused: bool
) -> ModeResult:
    """Rebuild (unless kept), then time the shapes, profile and time saves, in `app`'s mode."""
    meaning = bool(app.config["SEARCH_MEANING"])
    print(f"\n-- search by meaning {'on' if meaning else 'off'} --", flush=True)
    rebuild = time_rebuild(app) if needs_rebuild(app, folder, meaning, reused) else None
    if rebuild is not None:
        report_rebuild(rebuild, meaning)
    matrix = meaning_costs.matrix_cost(app, corpus.viewer, QUESTION) if meaning else None
    if matrix is not None:
        print(f"matrix: {matrix}", flush=True)
    results, visibility_ms = measure_shapes(app, corpus, shapes, arguments.requests, bare_too=not meaning)
    if arguments.profile:
        client = app.test_client()
        with app.app_context():
            login_as(client, db.session.get(User, corpus.member_id))
        for shape in (shapes[5], shapes[6]) if meaning else (shapes[5], shapes[3]):
            print(f"\nprofile at {corpus_size(app)}, meaning {meaning}: {shape.name} ({shape.url}), 5 requests")
            print(profile_requests(client, shape, 5), flush=True)
    saves = save_to_searchable(app, corpus.viewer, max(arguments.requests, 30), arguments.seed, meaning)
    print(f"save-to-searchable p50/p95: {saves.total} ms; found by meaning {saves.by_meaning}", flush=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return ModeResult(meaning, rebuild, results, saves, visibility_ms, matrix)


def corpus_size(app: Flask) -> int:
    """Entries in the app's database."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Entry)) or 0


def run_size(size: int, folder: Path, arguments: argparse.Namespace) -> SizeResult:
    """Build and measure one corpus size in `folder` (or measure the one kept there), in each mode asked for."""
    load_at_start = os.getloadavg()[0]
    reused = arguments.reuse and (folder / "kb.sqlite3").exists()
    meanings = {"both": (False, True), "off": (False,), "on": (True,)}[arguments.meaning]
    first = make_app(folder, meanings[0])
    with first.app_context():
        corpus = existing_corpus(arguments.seed) if reused else load_corpus(size, arguments.seed)
    if reused:
        print(f"measuring the {size}-entry corpus kept in {folder}", flush=True)
    else:
        print(f"{size} entries generated and written in {corpus.seconds:.0f} s", flush=True)
    shapes = make_shapes(corpus.vocabulary)
    modes = []
    for meaning in meanings:
        app = first if meaning == meanings[0] else make_app(folder, meaning)
        modes.append(run_mode(app, folder, corpus, shapes, arguments, reused))
        if len(modes) == 1:
            counts = document_frequencies(app, shapes)
            print("documents per word: " + ", ".join(f"{word} {n}" for word, n in counts.items()), flush=True)
    load = (load_at_start, os.getloadavg()[0])
    return SizeResult(size, corpus.seconds, modes, counts, load)


# Report


def ratio(kb: Times, bare: Times | None) -> str:
    """kb's median over bare Whoosh's."""
    return f"{kb.p50 / bare.p50:5.2f}x" if bare is not None else "      -"


def print_mode(result: ModeResult) -> None:
    """The detailed tables of one mode at one size."""
    rebuild, saves = result.rebuild, result.saves
    print(f"\n-- {result.name} --")
    if rebuild is None:
        print("index reused from an earlier run: rebuild not measured")
    else:
        print(
            f"rebuild: {rebuild.seconds:.0f} s = {rebuild.rate:.0f} entries/s = "
            f"{rebuild.seconds * 1000 / rebuild.entries:.1f} ms per entry "
            f"({rebuild.entries / rebuild.cpu_seconds:.0f} per CPU second); "
            f"index {rebuild.index_bytes / 2**20:.0f} MB on disk, {rebuild.segments} segment(s)"
        )
    if result.visibility_ms is not None:
        print(f"bare visibility set, computed once: {result.visibility_ms:.1f} ms")
    if result.matrix is not None:
        matrix = result.matrix
        print(
            f"matrix: {matrix.parts} parts of {matrix.entries} entries ({matrix.parts / max(matrix.entries, 1):.1f} "
            f"per entry), {matrix.vector_mib:.1f} MiB of vectors; RSS grew {matrix.rss_mib:.1f} MiB at the first "
            f"meaning search, which took {matrix.first_ms:.0f} ms"
        )
    print(
        f"save-to-searchable p50/p95 ms: {saves.total}  (commit incl. index write {saves.commit}; "
        f"search until found {saves.search}); segments {saves.segments_before} -> {saves.segments_after}, "
        f"saves that found a merge running {saves.merges_seen}, searches that missed {saves.retries}"
    )
    if saves.by_meaning is not None:
        print(
            f"save to found by meaning p50/p95 ms: {saves.by_meaning}; never found within 5 s: {saves.meaning_misses}"
        )
    print(f"first full page ('provider', service) after each save p50/p95 ms: {saves.next_page}")
    print("\nlatency p50 / p95 ms")
    header = f"{'shape':16} {'matches':>7} | {'kb page':^16} | {'kb service':^16} | {'bare search':^16} | "
    print(header + f"{'bare page':^16} | {'page/bare search':>16} | {'page/bare page':>14}")
    for row in result.shapes:
        bare_search = str(row.bare_search) if row.bare_search else f"{'-':^16}"
        bare_page = str(row.bare_page) if row.bare_page else f"{'-':^16}"
        print(
            f"{row.shape.name:16} {row.matches:>7} | {row.kb_page} | {row.kb_service} | {bare_search} | "
            f"{bare_page} | {ratio(row.kb_page, row.bare_search):>16} | {ratio(row.kb_page, row.bare_page):>14}"
        )
    print("\nCPU time p50 ms (this process only, so less affected by other work on the machine)")
    print(f"{'shape':16} | {'kb page':>8} | {'kb service':>10} | {'bare search':>11} | {'bare page':>9}")
    for row in result.shapes:
        bare = [f"{times.cpu_p50:.1f}" if times else "-" for times in (row.bare_search, row.bare_page)]
        print(
            f"{row.shape.name:16} | {row.kb_page.cpu_p50:8.1f} | {row.kb_service.cpu_p50:10.1f} | "
            f"{bare[0]:>11} | {bare[1]:>9}"
        )


def print_size(result: SizeResult) -> None:
    """The detailed tables for one size, each mode, then off against on."""
    print(f"\n== {result.size} entries ==")
    if result.load_seconds:
        print(f"load (generate + insert): {result.load_seconds:.0f} s")
    for mode in result.modes:
        print_mode(mode)
    if len(result.modes) == 2:
        off, on = result.modes
        print("\nsearch page p50 / p95 ms, meaning off -> on")
        for before, after in zip(off.shapes, on.shapes, strict=True):
            print(f"  {before.shape.name:16} {before.kb_page} -> {after.kb_page}")
        print(f"  {'save-to-searchable':16} {off.saves.total} -> {on.saves.total}")
        if off.rebuild and on.rebuild:
            per_entry = [mode.rebuild.seconds * 1000 / mode.rebuild.entries for mode in (off, on) if mode.rebuild]
            print(f"  indexing per entry, ms: words alone {per_entry[0]:.1f}, words and vectors {per_entry[1]:.1f}")
    print(f"load average (1 min) at start and end: {result.load[0]:.1f}, {result.load[1]:.1f}")


def target_rows(result: SizeResult, mode: ModeResult) -> list[tuple[str, float, float | None]]:
    """(figure, value, target) for one mode at one size; latency targets apply at 10,000 entries and below."""
    rows = {row.shape.name: row for row in mode.shapes}
    small = result.size <= 10000
    page = rows["full page"]
    if mode.meaning:
        goal = MEANING_PAGE_P95 if small else None
        figures = [(f"{name} p95 ms", row.kb_page.p95, goal) for name, row in rows.items() if name != "phrase"]
        figures.append(("phrase p95 ms", rows["phrase"].kb_page.p95, None))
    else:
        figures = [
            ("common term p95 ms", rows["common term"].kb_page.p95, TARGETS["term p95"] if small else None),
            ("rare term p95 ms", rows["rare term"].kb_page.p95, TARGETS["term p95"] if small else None),
            ("filtered p95 ms", rows["term + facets"].kb_page.p95, TARGETS["filtered p95"] if small else None),
            ("full page p95 ms", page.kb_page.p95, TARGETS["page p95"] if small else None),
        ]
        if page.bare_page is not None:
            figures.append(("kb/bare full page (p50)", page.kb_page.p50 / page.bare_page.p50, TARGETS["ratio"]))
    figures.append(("save-to-searchable p95 ms", mode.saves.total.p95, 300.0 if small else 500.0))
    return figures


def print_targets(results: list[SizeResult]) -> None:
    """The figures the targets are about, each marked met or missed."""
    print("\n== against targets ==")
    for result in results:
        for mode in result.modes:
            for name, value, target in target_rows(result, mode):
                verdict = "no target" if target is None else ("met" if value <= target else "MISSED")
                print(f"{result.size:>7} {mode.name:11} {name:28} {value:9.2f}  target {target or '-':>6}  {verdict}")
            if mode.rebuild is None:
                continue
            rate = mode.rebuild.rate
            verdict = "met" if rate >= TARGETS["rebuild"] else "MISSED"
            print(
                f"{result.size:>7} {mode.name:11} {'rebuild entries/s':28} {rate:9.2f}  "
                f"target >= {TARGETS['rebuild']:.0f}  {verdict}"
            )


def print_memory(model: meaning_costs.ModelCost | None) -> None:
    """What the model takes, loaded alone in a fresh process."""
    if model is not None:
        print(
            f"\nmodel, loaded in a fresh process: {model.seconds:.2f} s, {model.mib:.0f} MiB resident, "
            f"{model.per_part_ms:.2f} ms to embed a part of about 130 words"
        )


def code_version() -> str:
    """The commit measured, and whether kb/ differs from it."""
    git = ["git", "-C", str(PROJECT_ROOT)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "kb"], capture_output=True, text=True).stdout.strip()
    return f"kb at commit {commit or 'unknown'}" + (" with uncommitted changes in kb/" if dirty else "")


def main() -> None:
    """Parse arguments, run every size, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", type=Path, help="keep the database and index in this folder")
    parser.add_argument("--profile", action="store_true", help="profile the slowest shapes' requests")
    parser.add_argument("--reuse", action="store_true", help="with --keep, measure corpora kept by an earlier run")
    parser.add_argument(
        "--meaning", choices=("both", "off", "on"), default="both", help="SEARCH_MEANING off, on or both"
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="then measure N gunicorn workers' memory on the last size"
    )
    arguments = parser.parse_args()
    root = arguments.keep or Path(tempfile.mkdtemp(prefix="kb-search-bench-"))
    print(f"{code_version()}; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}", flush=True)
    model = meaning_costs.model_cost() if arguments.meaning != "off" else None
    print_memory(model)
    results, served = [], []
    try:
        for size in arguments.sizes:
            folder = root / f"kb-{size}"
            assert arguments.reuse or not folder.exists(), f"{folder} exists; give an empty --keep folder or --reuse"
            results.append(run_size(size, folder, arguments))
            print_size(results[-1])
        if arguments.workers:
            served = worker_memory.measure(root / f"kb-{arguments.sizes[-1]}", arguments.workers)
    finally:
        if arguments.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    for result in results:
        print_size(result)
    print_memory(model)
    if served:
        worker_memory.print_table(served)
    print_targets(results)


if __name__ == "__main__":
    main()
