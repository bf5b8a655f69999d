"""Sets of document numbers for filter queries, cached so that a save does not start from nothing.

The visibility filter and every facet value are sets of document numbers. A term's set is
read once per index segment (segments never change, only grow in number and get merged)
and kept for as long as that segment exists; a new searcher only combines the cached
per-segment sets, shifts them to its own numbering and removes deleted documents. So
after a save, which adds one small segment, the next search reads only that segment.
Each document's entry id is kept the same way (`entry_ids_by_docnum`), so the entries of a
set of documents are one array lookup. The sets of a reader's query words are not cached
(`query_docs`): they have no end.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
from whoosh import query as q
from whoosh.reading import IndexReader, TermNotFound

from kb.search.storage import SearcherState

_segments: dict[str, dict[tuple[str, str], frozenset[int]]] = {}
_segment_entry_ids: dict[str, npt.NDArray[np.int64]] = {}
_segments_lock = threading.Lock()

NO_ENTRY = -1
"""The entry id `entry_ids_by_docnum` gives a document that is not an entry's."""


def _leaves(state: SearcherState) -> list[tuple[IndexReader, int]]:
    """The segment readers with their first document number; an empty index has none."""
    leaves = [(searcher.reader(), offset) for searcher, offset in state.searcher.leaf_searchers()]
    return [(reader, offset) for reader, offset in leaves if reader.segment() is not None]


def _segment_id(reader: IndexReader) -> str:
    return reader.segment().segment_id()


def _segment_postings(reader: IndexReader, fieldname: str, text: str) -> frozenset[int]:
    """The segment-local numbers of every document with the term, deleted ones included."""
    cache = _segments.setdefault(_segment_id(reader), {})
    key = (fieldname, text)
    if key not in cache:
        # The unfiltered postings: deleted documents are removed per searcher, not per segment.
        terms = reader._terms
        btext = reader.schema[fieldname].to_bytes(text)
        try:
            ids = terms.matcher(fieldname, btext, reader.schema[fieldname].format).all_ids()
            cache[key] = frozenset(ids)
        except (KeyError, TermNotFound):
            cache[key] = frozenset()
    return cache[key]


def forget_old_segments(live: Iterable[str]) -> None:
    """Drop cached sets of segments that no longer exist (merged away or in an old generation)."""
    keep = set(live)
    with _segments_lock:
        for segment in list(_segments):
            if segment not in keep:
                del _segments[segment]
        for segment in list(_segment_entry_ids):
            if segment not in keep:
                del _segment_entry_ids[segment]


def _deleted(state: SearcherState) -> frozenset[int]:
    if "deleted" not in state.cache:
        deleted: set[int] = set()
        for reader, offset in _leaves(state):
            deleted.update(offset + number for number in getattr(reader, "deleted_docs_set", None) or ())
        state.cache["deleted"] = frozenset(deleted)
    return state.cache["deleted"]


def term_docs(state: SearcherState, fieldname: str, text: str) -> frozenset[int]:
    """The live documents that have the term `fieldname:text`."""
    key = ("term", fieldname, text)
    if key not in state.cache:
        parts = []
        for reader, offset in _leaves(state):
            local = _segment_postings(reader, fieldname, text)
            parts.append(local if offset == 0 else frozenset(offset + number for number in local))
        combined = parts[0] if len(parts) == 1 else frozenset().union(*parts)  # No parts: an empty index.
        deleted = _deleted(state)
        state.cache[key] = combined - deleted if deleted else combined
    return state.cache[key]


def _segment_ids_by_docnum(reader: IndexReader) -> npt.NDArray[np.int64]:
    """The entry id stored with each of a segment's documents, deleted ones included, by segment-local number."""
    segment = _segment_id(reader)
    if segment not in _segment_entry_ids:
        ids = np.full(reader.doc_count_all(), NO_ENTRY, dtype=np.int64)
        for docnum in range(len(ids)):
            stored = reader.stored_fields(docnum).get("id")
            if stored is not None and str(stored).isdigit():
                ids[docnum] = int(stored)
        _segment_entry_ids[segment] = ids
        return ids
    return _segment_entry_ids[segment]


def entry_ids_by_docnum(state: SearcherState) -> npt.NDArray[np.int64]:
    """Each document number's entry id (`NO_ENTRY` for other documents); deleted documents keep theirs."""
    if "entry ids" not in state.cache:
        ids = np.full(state.searcher.doc_count_all(), NO_ENTRY, dtype=np.int64)
        for reader, offset in _leaves(state):
            local = _segment_ids_by_docnum(reader)
            ids[offset : offset + len(local)] = local
        state.cache["entry ids"] = ids
    return state.cache["entry ids"]


def all_docs(state: SearcherState) -> frozenset[int]:
    """Every live document."""
    if "all" not in state.cache:
        state.cache["all"] = frozenset(state.searcher.reader().all_doc_ids())
    return state.cache["all"]


def docset(state: SearcherState, node: q.Query | None) -> frozenset[int]:
    """The documents a filter query matches (None matches all); And, Or, Not and Term are cached."""
    if node is None:
        return all_docs(state)
    if isinstance(node, q.Term):
        return term_docs(state, node.fieldname, node.text)
    key = ("query", node)
    if key in state.cache:
        return state.cache[key]
    if isinstance(node, q.And):
        sets = sorted((docset(state, child) for child in node.subqueries), key=len)
        result = frozenset.intersection(*sets) if sets else all_docs(state)
    elif isinstance(node, q.Or):
        result = frozenset().union(*(docset(state, child) for child in node.subqueries))
    elif isinstance(node, q.Not):
        result = all_docs(state) - docset(state, node.query)
    else:
        result = frozenset(state.searcher.docs_for_query(node))
    state.cache[key] = result
    return result


def facet_values(state: SearcherState, fieldname: str) -> list[str]:
    """Every value a facet field has in the index."""
    key = ("values", fieldname)
    if key not in state.cache:
        state.cache[key] = [value.decode("utf-8") for value in state.searcher.reader().lexicon(fieldname)]
    return state.cache[key]


def live_segments(state: SearcherState) -> list[str]:
    """The ids of the segments this searcher reads."""
    return [_segment_id(reader) for reader, _ in _leaves(state)]


def query_docs(state: SearcherState, node: q.Query) -> frozenset[int]:
    """The live documents a query made from a reader's words matches, read afresh and never cached.

    The words of searches are endless, so caching their sets (as `docset` does for the
    visibility and facet filters, which are few) would grow the caches without bound.
    A query of only negative parts is every live document less those its parts match.
    """
    if isinstance(node, q.Not):
        return all_docs(state) - query_docs(state, node.query)
    if isinstance(node, q.And) and node.subqueries and all(isinstance(child, q.Not) for child in node.subqueries):
        return all_docs(state) - frozenset().union(*(query_docs(state, child.query) for child in node.subqueries))
    return frozenset(state.searcher.docs_for_query(node))
