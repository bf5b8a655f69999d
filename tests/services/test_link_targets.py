"""Link targets loaded for one text resolve every slug exactly as loading every entry does, merge chains included."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event, select

from kb.entries.models import Entry
from kb.entries.targets import LinkTargets, link_targets, named_slugs, targets_for
from kb.extensions import db


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements run inside the block."""
    seen: list[str] = []

    def record(*args: object) -> None:
        statement = args[2]
        assert isinstance(statement, str)
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _chain_and_loop() -> list[Entry]:
    """Five entries: a chain of two merges ending in the third, and two merged into each other."""
    entries = list(db.session.scalars(select(Entry).where(Entry.merged_into_id.is_(None)).order_by(Entry.id).limit(5)))
    first, second, third, fourth, fifth = entries
    first.merged_into_id, second.merged_into_id = second.id, third.id
    fourth.merged_into_id, fifth.merged_into_id = fifth.id, fourth.id
    db.session.flush()
    return entries


def test_targets_for_a_text_resolve_each_slug_as_loading_everything_does(seeded_app: Flask) -> None:
    _chain_and_loop()
    everything = link_targets()
    slugs = list(db.session.scalars(select(Entry.slug).order_by(Entry.id)))
    for slug in [*slugs, "no-such-entry"]:
        assert targets_for([f"See [[{slug}]]."]).get(slug) == everything.get(slug), slug
        assert LinkTargets().get(slug) == everything.get(slug), slug
    assert ("no-such-entry" in targets_for([])) is False


def test_a_merged_slug_leads_to_the_end_of_its_chain(seeded_app: Flask) -> None:
    first, _, third, fourth, fifth = _chain_and_loop()
    targets = targets_for([f"[[{first.slug}]] and [[{fourth.slug}|words]]"])
    assert targets[first.slug].id == third.id
    assert targets[fourth.slug].id == fifth.id


def test_targets_for_a_text_load_only_the_entries_it_names(seeded_app: Flask) -> None:
    slug = db.session.scalar(select(Entry.slug).where(Entry.merged_into_id.is_(None)).limit(1))
    with statements() as seen:
        targets = targets_for([f"One link: [[{slug}]]."])
        assert targets.get(slug) is not None
        assert targets.get("not-named-but-asked") is None
    assert len(seen) == 2


def test_named_slugs_find_every_link_form() -> None:
    assert named_slugs(["[[a]] [[b-c|words]] [[d\\-e]]", None, "no links", "[[ab]]"]) == {"a", "b-c", "d-e", "ab"}
