"""Entries as the targets of links: what rendering a `[[slug]]` needs to know about the entry it names.

A save or a page loads only the entries its texts name (`targets_for`); bulk work (an
import, rendering everything again) loads every entry at once (`link_targets`). Either
way the slug of a duplicate merged into another entry resolves to that entry, through
any chain of merges, so texts naming the duplicate keep linking to what replaced it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from kb.entries.models import Entry
from kb.entries.vocabulary import entry_path
from kb.extensions import db

_NAMED = re.compile(r"\[\[([a-z0-9\\-]+)")
"""A slug a text may link to: generous (escapes kept out), since a slug missed is only loaded later."""


@dataclass(frozen=True)
class TargetInfo:
    """What rendering a link needs to know about the entry it points to."""

    id: int
    kind: str
    path: str
    title: str
    status: str
    visibility: str
    review_id: int | None


_COLUMNS = (
    Entry.id,
    Entry.slug,
    Entry.kind,
    Entry.title,
    Entry.status,
    Entry.visibility,
    Entry.review_id,
    Entry.merged_into_id,
)


class LinkTargets:
    """Link targets by slug, read like a dict: `get`, `in` and `[]`.

    Entries are loaded by slug as they are asked for (and those given up front in one
    query), with the entries their merge chains lead to; an unknown slug is remembered as
    unknown. With `everything`, every entry is loaded at once and nothing more is asked.
    Queries go through `session` (the app's session unless given).
    """

    def __init__(self, slugs: Iterable[str] = (), *, everything: bool = False, session: Session | None = None) -> None:
        self._session = session if session is not None else db.session
        self._rows: dict[int, Row] = {}
        self._ids: dict[str, int | None] = {}
        self._complete = everything
        if everything:
            self._add(self._session.execute(select(*_COLUMNS)).all())
        else:
            self.load(slugs)

    def load(self, slugs: Iterable[str]) -> None:
        """Load, in one query and their merge chains, the entries of `slugs` not yet known."""
        wanted = {slug for slug in slugs if slug not in self._ids}
        if not wanted or self._complete:
            return
        self._add(self._session.execute(select(*_COLUMNS).where(Entry.slug.in_(sorted(wanted)))).all())
        self._ids.update((slug, None) for slug in wanted if slug not in self._ids)
        missing = self._unloaded_merge_targets()
        while missing:
            self._add(self._session.execute(select(*_COLUMNS).where(Entry.id.in_(sorted(missing)))).all())
            missing = self._unloaded_merge_targets() - missing

    def _add(self, rows: Iterable[Row]) -> None:
        for row in rows:
            self._rows[row.id] = row
            self._ids[row.slug] = row.id

    def _unloaded_merge_targets(self) -> set[int]:
        return {row.merged_into_id for row in self._rows.values() if row.merged_into_id is not None} - set(self._rows)

    def get(self, slug: str | None) -> TargetInfo | None:
        """The entry links to `slug` lead to, or None when no entry has that slug."""
        if slug is None:
            return None
        if slug not in self._ids and not self._complete:
            self.load([slug])
        entry_id = self._ids.get(slug)
        if entry_id is None:
            return None
        row = self._rows[_final_target(entry_id, self._rows)]
        return TargetInfo(
            row.id, row.kind, entry_path(row.kind, row.slug), row.title, row.status, row.visibility, row.review_id
        )

    def __contains__(self, slug: object) -> bool:
        return isinstance(slug, str) and self.get(slug) is not None

    def __getitem__(self, slug: str) -> TargetInfo:
        target = self.get(slug)
        if target is None:
            raise KeyError(slug)
        return target


def _final_target(entry_id: int, rows: dict[int, Row]) -> int:
    """Where an entry's links lead: itself, or the end of its chain of merges (a loop stops where it closes)."""
    seen = {entry_id}
    while (next_id := rows[entry_id].merged_into_id) is not None and next_id not in seen:
        entry_id = next_id
        seen.add(entry_id)
    return entry_id


def named_slugs(texts: Iterable[str | None]) -> set[str]:
    """The slugs `[[...]]` links in these Markdown texts may name."""
    return {match.group(1).replace("\\", "") for text in texts if text for match in _NAMED.finditer(text)}


def link_targets() -> LinkTargets:
    """Every entry as a possible link target, loaded in one query: for work on many texts at once."""
    return LinkTargets(everything=True)


def targets_for(texts: Iterable[str | None], slugs: Iterable[str | None] = ()) -> LinkTargets:
    """Link targets for these texts: the entries they name (and `slugs`) are loaded at once, any other when asked."""
    return LinkTargets(named_slugs(texts) | {slug for slug in slugs if slug})
