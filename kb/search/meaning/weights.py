"""Token weights for search by meaning: each token's inverse document frequency over every entry's parts.

A part's vector, and a question's, is the mean of its tokens' vectors weighted by
idf(t) = ln((N + 1) / (df(t) + 1)) + 1, where N is the number of parts and df(t) the number
of parts holding token t, so a rare word says more than one found everywhere. `refresh`
counts them from every entry's parts (on rebuild, and at the first fill of a site that has
none) into the `meaning_weights` table every process shares; saves in between use the newest
row. `Current` holds a worker's copy and reads the table again only when a newer row appears.
Without a row (a new, empty site) every token weighs 1: the plain mean.
"""

from __future__ import annotations

import hashlib
import logging
import threading

import numpy as np
from sqlalchemy import ScalarSelect, delete, func, select
from sqlalchemy.orm import Session

from kb.search.meaning.model import PLAIN, Embedder, Vectors, Weighting
from kb.search.meaning.store import current_parts
from kb.search.models import MeaningWeights
from kb.search.queue import BATCH_SIZE, all_entry_ids, batches

log = logging.getLogger(__name__)


def idf(frequencies: np.ndarray, parts: int) -> Vectors:
    """The weight of each token held by `frequencies[token]` of `parts` parts."""
    return (np.log((parts + 1) / (frequencies.astype(np.float64) + 1)) + 1).astype(np.float32)


def count(session: Session, embedder: Embedder) -> tuple[int, np.ndarray]:
    """The number of parts of every entry, and how many of them hold each token of the vocabulary."""
    frequencies = np.zeros(embedder.vocabulary, dtype=np.int64)
    parts = 0
    for batch in batches(all_entry_ids(session), BATCH_SIZE):
        texts = [part.text for found in current_parts(session, batch).values() for part in found]
        for ids in embedder.token_ids(texts):
            frequencies[np.unique(ids)] += 1
        parts += len(texts)
        session.expunge_all()
    return parts, frequencies


def version_of(model: str, values: Vectors) -> str:
    """A hash naming `values` as weights of `model`."""
    digest = hashlib.sha256(model.encode("utf-8") + b"\x1f" + values.astype("<f4").tobytes())
    return digest.hexdigest()[:16]


def newest_id(session: Session, model: str) -> int:
    """The id of the newest row of weights of `model`, or 0 when there is none."""
    return session.scalar(select(func.max(MeaningWeights.id)).where(MeaningWeights.model == model)) or 0


def newest_id_query(model: str) -> ScalarSelect[int | None]:
    """`newest_id` as a scalar subquery, to be read alongside another query."""
    return select(func.max(MeaningWeights.id)).where(MeaningWeights.model == model).scalar_subquery()


def load(session: Session, model: str) -> tuple[int, Weighting]:
    """The newest row of weights of `model` and its id, or (0, the plain mean) when there is none."""
    row = session.execute(
        select(MeaningWeights).where(MeaningWeights.model == model).order_by(MeaningWeights.id.desc()).limit(1)
    ).scalar_one_or_none()
    if row is None:
        return 0, PLAIN
    values = np.frombuffer(row.weights, dtype="<f4").astype(np.float32)
    return row.id, Weighting(row.version, values, row.parts)


def refresh(session: Session, embedder: Embedder) -> Weighting:
    """Count the weights from every entry's parts now and keep them as the newest row (committed).

    When they are the weights the newest row holds already, nothing is written, so no vector goes stale.
    """
    parts, frequencies = count(session, embedder)
    values = idf(frequencies, parts)
    version = version_of(embedder.name, values)
    _, held = load(session, embedder.name)
    if held.version == version:
        return held
    row = MeaningWeights(model=embedder.name, version=version, parts=parts, weights=values.astype("<f4").tobytes())
    session.add(row)
    session.flush()
    session.execute(delete(MeaningWeights).where(MeaningWeights.model == embedder.name, MeaningWeights.id < row.id))
    session.commit()
    log.info("Token weights %s counted over %s parts", version, parts)
    return Weighting(version, values, parts)


class Current:
    """One worker's copy of the newest weights of a model, read again only when a newer row appears."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.weighting = PLAIN
        self._id: int | None = None
        self._lock = threading.Lock()

    def follow(self, session: Session, newest: int) -> Weighting:
        """The weights, read again when `newest` (the newest row's id, read by the caller) is not the one held."""
        if newest != self._id:
            with self._lock:
                if newest != self._id:
                    found_id, self.weighting = load(session, self.model)
                    if self.weighting.plain:
                        log.info("No token weights for %s yet: vectors are plain means until a rebuild", self.model)
                    self._id = found_id
        return self.weighting

    def now(self, session: Session) -> Weighting:
        """The weights as the table holds them now (one small query when nothing changed)."""
        return self.follow(session, newest_id(session, self.model))
