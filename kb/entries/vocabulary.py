"""The controlled values of entries, with their labels; shared by import, models and pages."""

from __future__ import annotations

from kb.states import (
    ActionStatus,
    EntryKind,
    EntryStatus,
    LinkRelation,
    Maturity,
    PaperStatus,
    PaperType,
    ReviewStatus,
    Visibility,
)

KINDS: dict[str, str] = EntryKind.labels()
KIND_PLURALS: dict[str, str] = {"lesson": "lessons", "review": "reviews", "paper": "papers"}
KIND_LIST_TITLES: dict[str, str] = {"lesson": "Lessons", "review": "Reviews", "paper": "Meeting papers"}

STATUSES: dict[str, str] = EntryStatus.labels()
"""Where an entry is on its way to publication (see `kb.states.EntryStatus`)."""
AUTHOR_HIDDEN_STATUSES = frozenset({EntryStatus.REMOVED, EntryStatus.MERGED})
"""Statuses in which even an entry's author no longer sees it."""
VISIBILITIES: dict[str, str] = Visibility.labels()
MATURITIES: dict[str, str] = Maturity.labels()
ACTION_STATUSES: dict[str, str] = ActionStatus.labels()
REVIEW_STATUSES: dict[str, str] = ReviewStatus.labels()
PAPER_TYPES: dict[str, str] = PaperType.labels()
PAPER_STATUSES: dict[str, str] = PaperStatus.labels()

LESSON_SECTIONS: dict[str, str] = {
    "driving_event": "Driving event",
    "lesson": "Lesson",
    "recommendation": "Recommendation",
    "evidence": "Evidence",
}
"""A lesson's four sections, in the order every lesson page and file shows them."""

TEXT_LABELS: dict[str, str] = {
    **LESSON_SECTIONS,
    "body": "Text",
    "terms_of_reference": "Terms of reference",
    "action_evidence": "Evidence of action",
}
"""Headings for each stored text of an entry, as shown on a past revision's page."""

BACKLINK_RELATIONS: dict[str, str] = LinkRelation.labels()
"""How an entry that links here is described on the target's page."""


def entry_path(kind: str, slug: str) -> str:
    """The stable URL path of an entry, e.g. `/lessons/<slug>`."""
    return f"/{KIND_PLURALS[kind]}/{slug}"
