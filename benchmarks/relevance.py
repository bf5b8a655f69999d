"""Relevance of search on the seed content: hit@1, hit@3 and MRR by words, by meaning and both, per kind.

    .venv/bin/python benchmarks/relevance.py [--distractors 3000] [--seed 20] [--misses]

Imports `content/` into a throwaway SQLite database with a Whoosh index, then asks every
question of `tests/relevance_questions.py` (questions, paraphrases, keyword queries) as a
signed-in member, three ways: the search page's ranking with `SEARCH_MEANING` off (lexical),
the meaning layer's own list (semantic), and the search page's ranking with it on (hybrid).
Then it adds `--distractors` generated lessons from other NHS programmes
(`tests/distractors.py`), rebuilds, and asks again. A question scores when any entry that
answers it is among the first results; MRR counts the first ten. `--misses` lists the
questions whose answer was not in the first three.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask

from benchmarks.search_bench import make_app
from kb.config import PROJECT_ROOT
from kb.content.service import import_directory
from kb.extensions import db
from kb.search.backend import backend
from tests.relevance import HYBRID, LEXICAL, MODES, SEMANTIC, Run, by_meaning, by_search, insert_distractors, run
from tests.relevance_questions import KINDS, QUESTIONS


def measure(words: Flask, both: Flask) -> dict[str, Run | None]:
    """Each mode's run over every question (None for the modes that need the meaning layer when it is off)."""
    meaning = by_meaning(both)
    return {
        LEXICAL: run(by_search(words)),
        SEMANTIC: run(meaning) if meaning else None,
        HYBRID: run(by_search(both)) if meaning else None,
    }


def report(title: str, runs: dict[str, Run | None], *, misses: bool) -> None:
    """Print each mode's scores overall and per kind."""
    print(f"\n{title}")
    print(f"  {'mode':<9} {'kind':<11} {'n':>3} {'hit@1':>6} {'hit@3':>6} {'MRR':>6}")
    for mode in MODES:
        measured = runs[mode]
        if measured is None:
            print(f"  {mode:<9} (search by meaning is off)")
            continue
        rows = [("all", measured.overall()), *measured.by_kind().items()]
        for kind, got in rows:
            print(f"  {mode:<9} {kind:<11} {got.questions:>3} {got.hit1:>6.2f} {got.hit3:>6.2f} {got.mrr:>6.2f}")
        if misses:
            for question, place in measured.misses():
                print(f"      miss ({question.kind}, first answer at {place or '-'}): {question.text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--distractors", type=int, default=3000, help="generated lessons added beside the seed")
    parser.add_argument("--seed", type=int, default=20, help="seed of the generated lessons")
    parser.add_argument("--misses", action="store_true", help="list the questions missed in the first three")
    arguments = parser.parse_args()
    counts = {kind: sum(question.kind == kind for question in QUESTIONS) for kind in KINDS}
    print(f"{len(QUESTIONS)} questions: " + ", ".join(f"{count} {kind}" for kind, count in counts.items()))
    with tempfile.TemporaryDirectory(prefix="kb-relevance-") as temporary:
        folder = Path(temporary)
        both = make_app(folder, meaning=True)
        with both.app_context():
            started = time.perf_counter()
            imported = import_directory(PROJECT_ROOT / "content")
            assert not imported.problems, [str(problem) for problem in imported.problems]
            db.session.commit()
            backend().rebuild()
            print(f"seed content imported and indexed in {time.perf_counter() - started:.1f} s")
        words = make_app(folder, meaning=False)
        report("Seed content only", measure(words, both), misses=arguments.misses)
        if arguments.distractors:
            with both.app_context():
                started = time.perf_counter()
                insert_distractors(arguments.distractors, arguments.seed)
                indexed = backend().rebuild()
                print(
                    f"\n{arguments.distractors} distractors added; {indexed} entries indexed in "
                    f"{time.perf_counter() - started:.1f} s"
                )
            title = f"Seed content with {arguments.distractors} distractor lessons"
            report(title, measure(words, both), misses=arguments.misses)


if __name__ == "__main__":
    main()
