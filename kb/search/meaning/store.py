"""The `meaning_parts` rows: each entry's parts and vectors, written when its index document is, checked like it.

`write` replaces the rows of the given entries with their current parts (removing those of
entries that are gone), embedding only parts whose fingerprint is new: an unchanged part
keeps its vector. A fingerprint covers the model and the version of the token weights the
vector was pooled with (`kb.search.meaning.weights`), so new weights make every vector
stale. An entry whose parts are all unchanged is not touched, so its rows keep their ids
and no worker reloads anything for it. `compare` reports the entries whose rows
are missing or stale, for `search check`.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import delete, exists, func, select, text
from sqlalchemy.orm import Session

from kb.entries.models import Entry
from kb.search.meaning.model import Embedder, Weighting
from kb.search.meaning.parts import Part, document_pages, entry_parts
from kb.search.models import MeaningPart
from kb.search.queue import BATCH_SIZE, all_entry_ids, batches, load_entries

log = logging.getLogger(__name__)

WRITE_LOCK = 7_320_020
"""PostgreSQL advisory lock key held while rows are replaced, so two processes never both insert an entry's rows."""


@dataclass
class WriteReport:
    """What `write` did: entries whose rows were replaced or removed, parts embedded, and failures."""

    written: int = 0
    embedded: int = 0
    removed: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)


def current_parts(session: Session, entry_ids: Collection[int]) -> dict[int, list[Part]]:
    """The parts each entry of `entry_ids` that still exists has now (entries that are gone left out)."""
    entries = load_entries(session, entry_ids)
    pages = document_pages(session, entries)
    return {entry_id: entry_parts(entry, pages.get(entry_id, ())) for entry_id, entry in entries.items()}


def stored_fingerprints(session: Session, entry_ids: Collection[int]) -> dict[int, list[tuple[str, str]]]:
    """Each entry's stored (model, fingerprint) pairs, in position order."""
    found: dict[int, list[tuple[str, str]]] = {}
    if not entry_ids:
        return found
    query = (
        select(MeaningPart.entry_id, MeaningPart.model, MeaningPart.fingerprint)
        .where(MeaningPart.entry_id.in_(sorted(entry_ids)))
        .order_by(MeaningPart.entry_id, MeaningPart.position, MeaningPart.id)
    )
    for entry_id, model, fingerprint in session.execute(query):
        found.setdefault(entry_id, []).append((model, fingerprint))
    return found


def _stored_vectors(session: Session, entry_ids: Collection[int], model: str) -> dict[str, bytes]:
    query = select(MeaningPart.fingerprint, MeaningPart.vector).where(
        MeaningPart.entry_id.in_(sorted(entry_ids)), MeaningPart.model == model
    )
    return {fingerprint: vector for fingerprint, vector in session.execute(query)}


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK})


def write(session: Session, entry_ids: Iterable[int], embedder: Embedder, weighting: Weighting) -> WriteReport:
    """Bring the rows of `entry_ids` in step with their entries, pooled with `weighting`, in batches, committing each.

    Never raises for an entry or a batch that fails (the model, the database): the batch's
    entries are listed in the report's `failed`, and their rows are left as they were.
    """
    report = WriteReport()
    for batch in batches(sorted(set(entry_ids)), BATCH_SIZE):
        try:
            _write_batch(session, batch, embedder, weighting, report)
            session.commit()
        except Exception as error:  # The word index is written already; this batch is retried later.
            session.rollback()
            log.exception("Could not write the meaning of entries %s", batch[:20])
            report.failed += [(entry_id, f"meaning: {type(error).__name__}: {error}") for entry_id in batch]
        session.expunge_all()
    return report


def _write_batch(
    session: Session, batch: list[int], embedder: Embedder, weighting: Weighting, report: WriteReport
) -> None:
    _lock(session)

    def fingerprint(part: Part) -> str:
        return part.fingerprint(embedder.name, weighting.version)

    parts = current_parts(session, batch)
    stored = stored_fingerprints(session, batch)
    gone = [entry_id for entry_id in batch if entry_id not in parts and entry_id in stored]
    changed = {
        entry_id: now
        for entry_id, now in parts.items()
        if stored.get(entry_id, []) != [(embedder.name, fingerprint(part)) for part in now]
    }
    if gone:
        session.execute(delete(MeaningPart).where(MeaningPart.entry_id.in_(gone)))
        report.removed += len(gone)
    if not changed:
        return
    known = _stored_vectors(session, changed, embedder.name)
    wanted = {
        fingerprint(part): part.text for now in changed.values() for part in now if fingerprint(part) not in known
    }
    if wanted:
        vectors = embedder.embed(list(wanted.values()), weighting.values)
        known |= {print_: vector.astype("<f4").tobytes() for print_, vector in zip(wanted, vectors, strict=True)}
        report.embedded += len(wanted)
    # The new rows go in before the old ones go, so their ids are above every id there was: SQLite
    # would otherwise hand the ids of deleted top rows out again, and workers would miss the change.
    newest = session.scalar(select(func.max(MeaningPart.id))) or 0
    session.add_all(
        MeaningPart(
            entry_id=entry_id,
            position=position,
            label=part.label[:300],
            anchor=part.anchor[:300],
            model=embedder.name,
            fingerprint=fingerprint(part),
            vector=known[fingerprint(part)],
        )
        for entry_id, now in changed.items()
        for position, part in enumerate(now)
    )
    session.flush()
    session.execute(delete(MeaningPart).where(MeaningPart.entry_id.in_(sorted(changed)), MeaningPart.id <= newest))
    report.written += len(changed)


def write_all(session: Session, embedder: Embedder, weighting: Weighting) -> WriteReport:
    """Bring every entry's rows in step (unchanged parts are not embedded again) and remove rows of entries gone."""
    report = write(session, all_entry_ids(session), embedder, weighting)
    orphans = ~exists().where(Entry.id == MeaningPart.entry_id)
    removed = session.execute(delete(MeaningPart).where(orphans).execution_options(synchronize_session=False))
    report.removed += removed.rowcount or 0  # type: ignore[attr-defined]
    session.commit()
    return report


def entries_without_parts(session: Session, limit: int | None = None) -> list[int]:
    """Ids of entries with no rows at all (never written, e.g. made before search by meaning was on)."""
    query = select(Entry.id).where(~exists().where(MeaningPart.entry_id == Entry.id)).order_by(Entry.id)
    return list(session.scalars(query if limit is None else query.limit(limit)))


@dataclass
class MeaningCheck:
    """Entries with missing rows (none stored) or stale ones (not the parts it has now), and rows of entries gone."""

    missing: list[int]
    stale: list[int]
    orphaned: list[int] = field(default_factory=list)
    """Ids of entries no longer in the database that still have rows (removed by the next rebuild)."""


def compare(session: Session, model: str, weighting: Weighting, *, batch_size: int = BATCH_SIZE) -> MeaningCheck:
    """Every entry's stored fingerprints against its parts now, pooled with `weighting`."""
    missing: list[int] = []
    stale: list[int] = []
    for batch in batches(all_entry_ids(session), batch_size):
        parts = current_parts(session, batch)
        stored = stored_fingerprints(session, batch)
        for entry_id, now in parts.items():
            if entry_id not in stored:
                missing.append(entry_id)
            elif stored[entry_id] != [(model, part.fingerprint(model, weighting.version)) for part in now]:
                stale.append(entry_id)
        session.expunge_all()
    orphaned = session.scalars(
        select(MeaningPart.entry_id).where(~exists().where(Entry.id == MeaningPart.entry_id)).distinct()
    )
    return MeaningCheck(sorted(missing), sorted(stale), sorted(orphaned))


def part_count(session: Session) -> int:
    """How many rows there are."""
    return session.scalar(select(func.count(MeaningPart.id))) or 0


def as_vector(data: bytes) -> np.ndarray:
    """A stored vector as float32."""
    return np.frombuffer(data, dtype="<f4")
