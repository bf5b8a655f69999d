"""An entry page's one set of related entries: each entry once, under why it is related.

The groups, in the order they claim an entry: the lesson's decided recurrences (a
moderator's judgement on the pair), the links the entry makes (its source, see also),
the links other entries make to it, the search's lessons from other regions or years
(`search.similar_lessons_elsewhere`, through `kb.actions.recurrence_queries`), and
similar entries (`search.related`), which never include a lesson a moderator judged not
the same as this one. Every part applies the visibility rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kb.actions.recurrence_queries import RecurrenceSection, recurrence_section
from kb.entries import queries
from kb.entries.models import Entry, Lesson
from kb.entries.vocabulary import BACKLINK_RELATIONS, KINDS
from kb.permissions import Viewer
from kb.search import service as search
from kb.states import LinkRelation


@dataclass(frozen=True)
class RelatedEntry:
    """An entry related to the one shown, with every way they link (as words for the page)."""

    entry: Entry
    reasons: tuple[str, ...]


@dataclass
class RelatedSet:
    """What an entry page lists as related, without repeats."""

    links_from: list[RelatedEntry] = field(default_factory=list)
    links_to: list[RelatedEntry] = field(default_factory=list)
    recurrence: RecurrenceSection | None = None
    similar: list[Entry] = field(default_factory=list)
    reasons: dict[int, tuple[str, ...]] = field(default_factory=dict)
    """How each linked entry links, by id, also for those listed under recurrence."""

    @property
    def entry_ids(self) -> list[int]:
        """Every entry listed, in page order."""
        ids = [item.entry.id for item in (*self.links_from, *self.links_to)]
        ids += self.recurrence.entry_ids if self.recurrence is not None else []
        return ids + [entry.id for entry in self.similar]

    def __bool__(self) -> bool:
        return bool(self.links_from or self.links_to or self.recurrence or self.similar)


MUTUAL_SEE_ALSO = "each lists the other under see also"


def _outgoing_reason(relation: str, entry: Entry) -> str:
    kind = KINDS[entry.kind].lower()
    if relation == LinkRelation.SOURCE:
        return f"this {kind} was drawn from it"
    return f"under this {kind}'s see also"


def _incoming_reasons(relations: list[str], outgoing: list[str], entry: Entry) -> list[str]:
    """How an entry links here, after how this one links to it; see also both ways said once."""
    mine = _outgoing_reason(LinkRelation.SEE_ALSO, entry)
    if LinkRelation.SEE_ALSO in relations and mine in outgoing:
        outgoing[outgoing.index(mine)] = MUTUAL_SEE_ALSO
        relations = [relation for relation in relations if relation != LinkRelation.SEE_ALSO]
    return [BACKLINK_RELATIONS[relation] for relation in relations]


def related_set(viewer: Viewer, entry: Entry) -> RelatedSet:
    """The related entries `viewer` may see on `entry`'s page, each once, grouped by why."""
    outgoing = queries.related_entries(viewer, entry)
    backlinks = queries.backlinks(viewer, entry)
    entries: dict[int, Entry] = {}
    reasons: dict[int, list[str]] = {}
    for relation in (LinkRelation.SOURCE, LinkRelation.SEE_ALSO):
        for target in outgoing[relation]:
            entries.setdefault(target.id, target)
            reasons.setdefault(target.id, []).append(_outgoing_reason(relation, entry))
    made = list(entries)
    for backlink in backlinks:
        entries.setdefault(backlink.source.id, backlink.source)
        found = reasons.setdefault(backlink.source.id, [])
        found.extend(_incoming_reasons(backlink.relations, found, entry))
    linked = list(entries)
    recurrence = recurrence_section(viewer, entry, exclude=linked) if isinstance(entry, Lesson) else None
    in_recurrence = set(recurrence.entry_ids) if recurrence is not None else set()
    listed = [*linked, *(recurrence.excluded_ids if recurrence is not None else ())]
    to_only = [entry_id for entry_id in linked if entry_id not in made]
    return RelatedSet(
        links_from=[RelatedEntry(entries[i], tuple(reasons[i])) for i in made if i not in in_recurrence],
        links_to=[RelatedEntry(entries[i], tuple(reasons[i])) for i in to_only if i not in in_recurrence],
        recurrence=recurrence,
        similar=search.related(viewer, entry, exclude=listed),
        reasons={entry_id: tuple(found) for entry_id, found in reasons.items()},
    )
