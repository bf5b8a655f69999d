"""Every part's vector in one float32 matrix per worker, and the scoring of a viewer's visible entries against it.

`Matrices.current` reads the `meaning_parts` rows once and again only when their newest id,
count or sum of ids changes (one query of the table's index per search); it then reads only
the rows it does not hold. The same query reads the id of the newest token weights (`weights`),
so a worker embeds a question with the weights its parts were pooled with, reading them again
only when they change. Rows are kept in (entry, position) order, with each entry's mean vector
for "entries like this one". Scoring takes the entries the viewer may see (the one visibility
rule, as the search backend or `kb.permissions` applies it) and consults only their rows: a
hidden entry's vectors are never multiplied with anything for that viewer.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.search.meaning.model import DIMENSIONS, Weighting
from kb.search.meaning.weights import Current, newest_id_query
from kb.search.models import MeaningPart

CHUNK_ROWS = 256
"""Rows gathered and multiplied at a time: a viewer's rows are copied a small block at a time, kept in cache."""

Ids = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Scored:
    """An entry close in meaning: its id, its best part's similarity and that part's position."""

    entry_id: int
    score: float
    position: int


class PartMatrix:
    """The vectors of all parts (one model's), in (entry, position) order, with per-entry means."""

    def __init__(self, row_ids: Ids, entry_ids: Ids, positions: Ids, vectors: Floats) -> None:
        order = np.lexsort((positions, entry_ids))
        self.row_ids = row_ids[order]
        self.row_entries = entry_ids[order]
        self.positions = positions[order]
        self.vectors = np.ascontiguousarray(vectors[order], dtype=np.float32)
        self.entries, starts = np.unique(self.row_entries, return_index=True)
        self.starts = starts.astype(np.int64)
        self.row_entry_index = np.repeat(np.arange(len(self.entries)), np.diff(np.append(self.starts, len(order))))
        if len(self.entries):
            sums = np.add.reduceat(self.vectors, self.starts, axis=0)
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            self.entry_vectors = (sums / np.where(norms > 0, norms, 1.0)).astype(np.float32)
        else:
            self.entry_vectors = np.zeros((0, DIMENSIONS), dtype=np.float32)

    @classmethod
    def empty(cls) -> PartMatrix:
        """A matrix without rows."""
        none = np.zeros(0, dtype=np.int64)
        return cls(none, none, none, np.zeros((0, DIMENSIONS), dtype=np.float32))

    def __len__(self) -> int:
        return len(self.row_ids)

    @property
    def nbytes(self) -> int:
        """Memory the arrays take."""
        arrays = (self.row_ids, self.row_entries, self.positions, self.vectors, self.entries, self.starts)
        return sum(array.nbytes for array in arrays) + self.row_entry_index.nbytes + self.entry_vectors.nbytes

    def entry_mask(self, allowed: Collection[int] | Ids) -> npt.NDArray[np.bool_]:
        """Which of `entries` are in `allowed`."""
        if isinstance(allowed, np.ndarray):
            wanted = allowed.astype(np.int64, copy=False)
        else:
            wanted = np.fromiter(allowed, dtype=np.int64, count=len(allowed))
        return np.isin(self.entries, wanted)

    def entry_vector(self, entry_id: int) -> Floats | None:
        """The unit mean of an entry's part vectors, or None when it has no rows."""
        index = int(np.searchsorted(self.entries, entry_id))
        if index >= len(self.entries) or self.entries[index] != entry_id:
            return None
        return self.entry_vectors[index]

    def best_parts(self, query: Floats, allowed: npt.NDArray[np.bool_], floor: float, limit: int) -> list[Scored]:
        """Up to `limit` entries with `allowed` true whose best part is at least `floor` like `query`, best first."""
        rows = np.flatnonzero(allowed[self.row_entry_index])
        if not len(rows) or not np.any(query):
            return []
        scores = np.empty(len(rows), dtype=np.float32)
        gathered = np.empty((CHUNK_ROWS, self.vectors.shape[1]), dtype=np.float32)
        for start in range(0, len(rows), CHUNK_ROWS):
            chunk = rows[start : start + CHUNK_ROWS]
            block = gathered[: len(chunk)]
            np.take(self.vectors, chunk, axis=0, out=block)
            np.matmul(block, query, out=scores[start : start + len(chunk)])
        groups = self.row_entry_index[rows]
        starts = np.flatnonzero(np.diff(groups, prepend=-1))
        best = np.maximum.reduceat(scores, starts)
        keep = np.flatnonzero(best >= floor)
        order = keep[np.lexsort((self.entries[groups[starts[keep]]], -best[keep]))][:limit]
        found: list[Scored] = []
        for group in order:
            start = starts[group]
            end = starts[group + 1] if group + 1 < len(starts) else len(rows)
            row = rows[start + int(np.argmax(scores[start:end]))]
            found.append(Scored(int(self.row_entries[row]), float(best[group]), int(self.positions[row])))
        return found

    def like_entry(self, vector: Floats, allowed: npt.NDArray[np.bool_], floor: float, limit: int) -> list[Scored]:
        """Up to `limit` entries with `allowed` true whose mean vector is at least `floor` like `vector`, best first."""
        indexes = np.flatnonzero(allowed)
        if not len(indexes):
            return []
        scores = self.entry_vectors[indexes] @ vector
        keep = np.flatnonzero(scores >= floor)
        order = keep[np.lexsort((self.entries[indexes[keep]], -scores[keep]))][:limit]
        return [Scored(int(self.entries[indexes[i]]), float(scores[i]), 0) for i in order]


class Matrices:
    """One worker's matrix for one database, read again in part when the rows change."""

    def __init__(self, model: str) -> None:
        self.model = model
        self._matrix = PartMatrix.empty()
        self._version: tuple[int, int, int] | None = None
        self._lock = threading.Lock()
        self.weights = Current(model)

    @property
    def weighting(self) -> Weighting:
        """The token weights as of the last `current` (questions are embedded with these)."""
        return self.weights.weighting

    def current(self, session: Session) -> PartMatrix:
        """The matrix as the database holds it now, and the token weights followed (one query when nothing changed)."""
        # Every model's rows: the query then reads only the entry index, not the vectors.
        query = select(
            func.max(MeaningPart.id), func.count(MeaningPart.id), func.sum(MeaningPart.id), newest_id_query(self.model)
        )
        row = session.execute(query).one()
        self.weights.follow(session, int(row[3] or 0))
        version = (int(row[0] or 0), int(row[1] or 0), int(row[2] or 0))
        if version == self._version:
            return self._matrix
        with self._lock:
            if version != self._version:
                count = session.scalar(select(func.count(MeaningPart.id)).where(MeaningPart.model == self.model))
                self._matrix = self._reread(session, self._matrix, int(count or 0))
                self._version = version
            return self._matrix

    def _reread(self, session: Session, held: PartMatrix, count: int) -> PartMatrix:
        """`held` with the rows written since, and without those removed.

        An entry's rows are replaced together, so a new row of an entry drops every held row of
        it; when the count still differs (entries were removed), every row's id and entry are read
        (a held row stays only if both still match); when even that does not account for every
        row (another database), all is read afresh.
        """
        newest = int(held.row_ids.max()) if len(held) else 0
        added = session.execute(
            select(MeaningPart.id, MeaningPart.entry_id, MeaningPart.position, MeaningPart.vector).where(
                MeaningPart.model == self.model, MeaningPart.id > newest
            )
        ).all()
        new_entries = np.array(sorted({row[1] for row in added}), dtype=np.int64)
        kept = ~np.isin(held.row_entries, new_entries)
        if int(kept.sum()) + len(added) != count:
            rows = session.execute(select(MeaningPart.id, MeaningPart.entry_id).where(MeaningPart.model == self.model))
            listing = {row_id: entry_id for row_id, entry_id in rows}
            pairs = zip(held.row_ids.tolist(), held.row_entries.tolist(), strict=True)
            still = [listing.get(row_id) == entry_id for row_id, entry_id in pairs]
            kept &= np.array(still, dtype=bool)
            if int(kept.sum()) + len(added) != count and len(held):
                return self._reread(session, PartMatrix.empty(), count)
        vectors = np.zeros((len(added), DIMENSIONS), dtype=np.float32)
        for index, row in enumerate(added):
            vector = np.frombuffer(row[3], dtype="<f4")
            if len(vector) == DIMENSIONS:
                vectors[index] = vector
        return PartMatrix(
            np.concatenate([held.row_ids[kept], np.array([row[0] for row in added], dtype=np.int64)]),
            np.concatenate([held.row_entries[kept], np.array([row[1] for row in added], dtype=np.int64)]),
            np.concatenate([held.positions[kept], np.array([row[2] for row in added], dtype=np.int64)]),
            np.concatenate([held.vectors[kept], vectors]),
        )
