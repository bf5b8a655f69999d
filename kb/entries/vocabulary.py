"""The controlled values of entries, with their labels; shared by import, models and pages."""

from __future__ import annotations

KINDS: dict[str, str] = {"lesson": "Lesson", "review": "Review", "paper": "Meeting paper"}
KIND_PLURALS: dict[str, str] = {"lesson": "lessons", "review": "reviews", "paper": "papers"}
KIND_LIST_TITLES: dict[str, str] = {"lesson": "Lessons", "review": "Reviews", "paper": "Meeting papers"}

STATUSES: dict[str, str] = {
    "draft": "Draft",
    "submitted": "Submitted for publication",
    "returned": "Returned to author",
    "rejected": "Rejected",
    "published": "Published",
    "hidden": "Hidden by a moderator",
    "removed": "Removed by a moderator",
    "merged": "Merged into another entry",
}
"""Where an entry is on its way to publication; only `published` entries follow `visibility`.

`hidden` (after a flag) leaves the entry to its author and moderators; `removed` and
`merged` leave it to moderators alone, and a merged entry's address redirects to the
entry it was merged into."""
AUTHOR_HIDDEN_STATUSES = frozenset({"removed", "merged"})
"""Statuses in which even an entry's author no longer sees it."""
VISIBILITIES: dict[str, str] = {
    "public": "Everyone",
    "members": "Members",
    "panel": "Review panel",
    "draft": "Author and moderators",
}
MATURITIES: dict[str, str] = {
    "observation": "Observation",
    "insight": "Insight",
    "lesson": "Lesson",
    "learned": "Lesson learned",
}
ACTION_STATUSES: dict[str, str] = {
    "identified": "Identified",
    "accepted": "Accepted",
    "action-planned": "Action planned",
    "actioned": "Actioned",
    "verified": "Verified",
    "not-accepted": "Not accepted",
}
REVIEW_STATUSES: dict[str, str] = {
    "commissioned": "Commissioned",
    "in-progress": "In progress",
    "consulting": "Consulting",
    "published": "Published",
}
PAPER_TYPES: dict[str, str] = {
    "agenda": "Agenda",
    "minutes": "Minutes",
    "discussion-paper": "Discussion paper",
    "briefing": "Briefing",
    "report": "Report",
}
PAPER_STATUSES: dict[str, str] = {"draft": "Draft", "final": "Final"}

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

BACKLINK_RELATIONS: dict[str, str] = {
    "source": "drawn from this",
    "see_also": "lists this under see also",
    "mention": "mentions this in its text",
}
"""How an entry that links here is described on the target's page."""


def entry_path(kind: str, slug: str) -> str:
    """The stable URL path of an entry, e.g. `/lessons/<slug>`."""
    return f"/{KIND_PLURALS[kind]}/{slug}"
