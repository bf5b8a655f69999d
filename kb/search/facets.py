"""How the search page reads and shows facets: the values asked for, titles, readable labels, and their order."""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from kb.entries.models import Entry
from kb.entries.vocabulary import KINDS, STATUSES
from kb.extensions import db
from kb.search.schema import FACET_FIELDS
from kb.search.service import FacetCount, SearchResults
from kb.search.text import facet_key
from kb.taxonomy.models import Tag, Theme

FACET_TITLES = {"kind": "Type", "theme": "Theme", "tag": "Tag", "region": "Region", "year": "Year", "status": "Status"}
MAX_CHOSEN = 10
"""The most values of one facet a search filters by."""


def chosen_facets(args: MultiDict[str, str]) -> dict[str, list[str]]:
    """The facet values a query string asks for: trimmed, lower case, sorted, at most `MAX_CHOSEN` of each facet."""
    chosen: dict[str, list[str]] = {}
    for name in FACET_FIELDS:
        values = [value.strip().lower() for value in args.getlist(name) if value.strip()]
        if values:
            chosen[name] = sorted(set(values))[:MAX_CHOSEN]
    return chosen


def facet_labels(results: SearchResults) -> dict[str, dict[str, str]]:
    """Readable labels for the facet values on this page, from the vocabulary and the database.

    Only values some result has are looked up: a chosen value no visible entry has is
    shown as it was typed, so its label cannot tell anyone that a hidden entry uses it.
    """
    shown = {name: [count.value for count in counts if count.count] for name, counts in results.facets.items()}
    labels: dict[str, dict[str, str]] = {
        "kind": {value: KINDS.get(value, value) for value in shown.get("kind", [])},
        "status": {value: STATUSES.get(value, value) for value in shown.get("status", [])},
        "year": {value: value for value in shown.get("year", [])},
    }
    if shown.get("tag"):
        labels["tag"] = dict(db.session.execute(select(Tag.slug, Tag.label).where(Tag.slug.in_(shown["tag"]))).all())
    if shown.get("theme"):
        rows = db.session.execute(select(Theme.slug, Theme.label).where(Theme.slug.in_(shown["theme"]))).all()
        labels["theme"] = dict(rows)
    if shown.get("region"):
        regions = db.session.scalars(select(Entry.region).where(Entry.region.is_not(None)).distinct())
        labels["region"] = {
            facet_key(region): region
            for region in regions
            if region is not None and facet_key(region) in shown["region"]
        }
    return labels


def ordered_facets(results: SearchResults, labels: dict[str, dict[str, str]]) -> list[tuple[str, list[FacetCount]]]:
    """Each facet's values in the order shown: years newest first, others by count then label."""
    ordered = []
    for name in FACET_FIELDS:
        counts = results.facets.get(name, [])
        if name == "year":
            counts = sorted(counts, key=lambda count: count.value, reverse=True)
        else:
            named = labels.get(name, {})
            counts = sorted(counts, key=lambda count: (-count.count, named.get(count.value, count.value).lower()))
        ordered.append((name, counts))
    return ordered
