"""The visibility rule, checked three ways over every kind of entry and every kind of viewer.

A generated set of entries covers every kind × status × visibility × panel (review A's,
review B's, none) × author (the `author` account, someone else, a deactivated account,
nobody). For every viewer, the predicate `can_view_entry`, the SQL condition
`visible_entries` and the table written out in `SEES` below must name the same entries.
The table is written from the rule as the issue states it, not from `kb.permissions`.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from kb.entries.models import Entry, Lesson, Paper, Review
from kb.entries.vocabulary import STATUSES, VISIBILITIES
from kb.extensions import db
from kb.permissions import (
    ANONYMOUS,
    Viewer,
    can_view_entry,
    link_end_for,
    link_is_shown,
    viewer_for,
    visible_entries,
)
from kb.users.models import PanelMembership
from tests.accounts import make_user
from tests.conftest import make_app

KINDS = {"lesson": Lesson, "paper": Paper, "review": Review}
PANELS = ("a", "b", "none")
AUTHORS = ("author", "other", "deactivated", "nobody")
VIEWERS = ("anonymous", "member", "author", "panel-a", "panel-b", "moderator", "admin", "deactivated")

EVERYONE = frozenset(VIEWERS)
SIGNED_IN = EVERYONE - {"anonymous", "deactivated"}
STAFF = frozenset({"moderator", "admin"})
PANEL_OF = {"a": frozenset({"panel-a"}), "b": frozenset({"panel-b"}), "none": frozenset()}

SEES: dict[str, frozenset[str] | None] = {
    "public": EVERYONE,
    "members": SIGNED_IN,
    "panel": None,  # staff, and the panel the entry belongs to: see `expected_viewers`
    "draft": STAFF,
}
"""Who sees a published entry, by visibility, leaving its author aside."""

UNPUBLISHED_SEEN_BY = STAFF
"""Who sees an entry that is not published (draft, submitted, returned, rejected, hidden, removed, merged).

The deactivated account is a moderator with seats on both panels, so the table shows that
deactivation takes everything away, role and seats alike.
"""


@dataclass(frozen=True)
class Case:
    """One generated entry's make-up."""

    kind: str
    status: str
    visibility: str
    panel: str
    author: str

    @property
    def slug(self) -> str:
        return f"{self.kind}-{self.status}-{self.visibility}-panel-{self.panel}-by-{self.author}"


CASES = [Case(*values) for values in itertools.product(KINDS, STATUSES, VISIBILITIES, PANELS, AUTHORS)]


def expected_viewers(case: Case) -> frozenset[str]:
    """The table: who may see the entry `case` describes."""
    if case.status != "published":
        seen_by = UNPUBLISHED_SEEN_BY
    elif case.visibility == "panel":
        seen_by = STAFF | PANEL_OF[case.panel]
    else:
        seen_by = SEES[case.visibility] or frozenset()
    # An author sees their own entry while their account is active, unless a moderator
    # removed it or merged it into another; a deactivated author is a signed-out reader.
    if case.author == "author" and case.status not in ("removed", "merged"):
        seen_by |= {"author"}
    return frozenset(seen_by)


@dataclass
class World:
    """The app, the viewers and the generated entries, built once for the module."""

    app: Flask
    viewers: dict[str, Viewer]
    entries: dict[str, Entry]
    review_ids: dict[str, int]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, empty_database: Path) -> Iterator[World]:
    app = make_app(tmp_path_factory.mktemp("visibility-rule"), empty_database)
    with app.app_context():
        review_a = Review(slug="review-a", title="Review A", commissioning_body="Board")
        review_b = Review(slug="review-b", title="Review B", commissioning_body="Board")
        db.session.add_all([review_a, review_b])
        db.session.commit()
        users = {
            "member": make_user("member@example.org"),
            "author": make_user("author@example.org"),
            "other": make_user("other@example.org"),
            "panel-a": make_user("panel-a@example.org", panels=(review_a,)),
            "panel-b": make_user("panel-b@example.org", panels=(review_b,)),
            "moderator": make_user("moderator@example.org", role="moderator"),
            "admin": make_user("admin@example.org", role="admin"),
            "deactivated": make_user(
                "deactivated@example.org", role="moderator", panels=(review_a, review_b), active=False
            ),
        }
        panel_review = {"a": review_a.id, "b": review_b.id, "none": None}
        for case in CASES:
            author = users.get(case.author)
            entry = KINDS[case.kind](
                slug=case.slug,
                title=case.slug,
                status=case.status,
                visibility=case.visibility,
                author_id=author.id if author else None,
            )
            if case.kind == "review":
                # A review's panel is its own: that panel's member sits on this review.
                if case.panel != "none":
                    users[f"panel-{case.panel}"].panel_seats.append(PanelMembership(review=entry))
            else:
                entry.review_id = panel_review[case.panel]
            db.session.add(entry)
        db.session.commit()
        viewers = {name: viewer_for(user) for name, user in users.items() if name != "other"}
        viewers["anonymous"] = viewer_for(None)
        entries = {entry.slug: entry for entry in db.session.scalars(select(Entry))}
        yield World(app, viewers, entries, {"a": review_a.id, "b": review_b.id})
        db.session.remove()
        db.engine.dispose()


def sql_visible(viewer: Viewer) -> set[str]:
    return set(db.session.scalars(select(Entry.slug).where(visible_entries(viewer))))


def generated(slugs: set[str]) -> set[str]:
    return {slug for slug in slugs if slug not in ("review-a", "review-b")}


def test_the_generated_set_covers_every_combination(world):
    assert len(CASES) == len(KINDS) * len(STATUSES) * len(VISIBILITIES) * len(PANELS) * len(AUTHORS) == 1152
    assert set(world.entries) - {"review-a", "review-b"} == {case.slug for case in CASES}
    assert set(world.viewers) == set(VIEWERS)


def test_a_deactivated_account_views_as_anonymous(world):
    assert world.viewers["deactivated"] == ANONYMOUS
    assert world.viewers["anonymous"] == ANONYMOUS


def test_panel_seats_are_what_the_table_assumes(world):
    panel_a, panel_b = world.viewers["panel-a"], world.viewers["panel-b"]
    assert world.review_ids["a"] in panel_a.panel_review_ids
    assert world.review_ids["b"] not in panel_a.panel_review_ids
    assert world.review_ids["b"] in panel_b.panel_review_ids
    assert not panel_a.panel_review_ids & panel_b.panel_review_ids


def mismatches(found: set[str], expected: set[str]) -> list[str]:
    return sorted(f"+{slug}" for slug in found - expected) + sorted(f"-{slug}" for slug in expected - found)


def expected_for(viewer: str) -> set[str]:
    return {case.slug for case in CASES if viewer in expected_viewers(case)}


@pytest.mark.parametrize("viewer", VIEWERS)
def test_predicate_matches_the_table(world, viewer):
    sees = world.viewers[viewer]
    found = {slug for slug in generated(set(world.entries)) if can_view_entry(sees, world.entries[slug])}
    assert mismatches(found, expected_for(viewer)) == []


@pytest.mark.parametrize("viewer", VIEWERS)
def test_sql_filter_matches_the_table(world, viewer):
    found = generated(sql_visible(world.viewers[viewer]))
    assert mismatches(found, expected_for(viewer)) == []


@pytest.mark.parametrize("viewer", VIEWERS)
def test_predicate_and_sql_filter_agree_on_every_entry(world, viewer):
    """Including the two reviews the panels sit on, which the table does not cover."""
    sees = world.viewers[viewer]
    by_predicate = {slug for slug, entry in world.entries.items() if can_view_entry(sees, entry)}
    assert mismatches(sql_visible(sees), by_predicate) == []


@pytest.mark.parametrize("viewer", VIEWERS)
def test_every_viewer_sees_at_least_the_public_entries_and_staff_see_all(world, viewer):
    """Catches a table and a rule that agree by both being empty or both being everything."""
    found = generated(sql_visible(world.viewers[viewer]))
    public = {c.slug for c in CASES if c.status == "published" and c.visibility == "public"}
    assert public <= found
    if viewer in STAFF:
        assert found == {case.slug for case in CASES}
    else:
        assert len(found) < len(CASES) // 2


def test_a_review_with_a_stray_review_key_still_belongs_to_its_own_panel(world):
    """A review's panel is its own, even when its file names another review under `review:`.

    Import accepts `review:` on a review and stores it as `review_id`; the predicate then
    hides the entry from review A's panel, but the SQL condition lists it to them.
    """
    with world.app.app_context():
        stray = Review(
            slug="review-naming-review-a",
            title="Panel review naming review A",
            commissioning_body="Board",
            visibility="panel",
            review_id=world.review_ids["a"],
        )
        db.session.add(stray)
        db.session.flush()
        panel_a = world.viewers["panel-a"]
        by_predicate = can_view_entry(panel_a, stray)
        by_sql = "review-naming-review-a" in sql_visible(panel_a)
        db.session.rollback()
    assert by_predicate is False
    assert by_sql is False


def test_a_link_is_shown_only_when_every_reader_of_the_linking_entry_may_see_its_target(world):
    """`link_is_shown` decides once, for every reader, whether a link shows its target's title."""
    readers = {slug: {v for v in VIEWERS if can_view_entry(world.viewers[v], e)} for slug, e in world.entries.items()}
    with world.app.app_context():
        ends = {slug: link_end_for(db.session.merge(e, load=True)) for slug, e in world.entries.items()}
    leaks: Counter[str] = Counter()
    examples = []
    for (source, source_end), (target, target_end) in itertools.product(ends.items(), repeat=2):
        if source != target and link_is_shown(source_end, target_end):
            extra = readers[source] - readers[target]
            leaks.update(extra)
            if extra and len(examples) < 3:
                examples.append(f"{source} -> {target}: {sorted(extra)}")
    assert not leaks, f"titles reach readers who may not see them: {dict(leaks)}, e.g. {examples}"
