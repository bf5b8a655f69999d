"""The one policy: who may see which entry, and who may do what.

Visibility is a property of published entries:

| visibility | who sees a published entry                                   |
|------------|--------------------------------------------------------------|
| `public`   | everyone, signed in or not                                   |
| `members`  | anyone signed in                                             |
| `panel`    | the panel of the entry's review (a review's own panel for a review), moderators, admins |
| `draft`    | its author, moderators, admins                               |

An entry that is not published (draft, submitted, returned, rejected, or hidden by a
moderator) is seen only by its author, moderators and admins; one removed or merged
into another by a moderator only by moderators and admins. The rule exists three times, as `visible_entries` (a SQL
condition every query uses), as `can_view_entry` (a predicate for one loaded entry) and
as `index_visibility_filter` (a query over the search index);
`tests/services/test_visibility_rule.py` and `tests/services/test_search_visibility.py`
check that they always agree. What a
viewer may not see answers 404, exactly like what does not exist.

Actions other than reading go through `can(viewer, action, entry)`, declared as data in
`ACTION_RULES`, so templates and services ask the same question.

The `Viewer` (`kb.permissions_viewer`) and the link-showing rule (`kb.permissions_links`)
live in modules of their own; they are re-exported here, the one place callers import from.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from whoosh import query as whoosh_query

from kb.actions.models import Recurrence
from kb.comments.models import Comment
from kb.consultations.models import Consultation, Response
from kb.consultations.windows import CLOSED, state_at
from kb.dates import utcnow
from kb.entries.models import Entry
from kb.entries.vocabulary import AUTHOR_HIDDEN_STATUSES, STATUSES
from kb.errors import NotAllowedError
from kb.panels.models import Finding
from kb.permissions_links import LinkEnd as LinkEnd
from kb.permissions_links import TargetLookup as TargetLookup
from kb.permissions_links import link_end as link_end
from kb.permissions_links import link_end_for as link_end_for
from kb.permissions_links import link_is_shown as link_is_shown
from kb.permissions_links import link_resolver as link_resolver
from kb.permissions_viewer import ANONYMOUS as ANONYMOUS
from kb.permissions_viewer import STAFF_ROLES as STAFF_ROLES
from kb.permissions_viewer import Viewer as Viewer
from kb.permissions_viewer import current_viewer as current_viewer
from kb.permissions_viewer import viewer_for as viewer_for
from kb.states import CommentStatus, EntryKind, EntryStatus, FindingStatus, ResponseStatus, Visibility

if TYPE_CHECKING:
    from kb.comments.queries import ThreadComment
    from kb.users.models import User

AUTHOR_EDITABLE_STATUSES = frozenset({EntryStatus.DRAFT, EntryStatus.RETURNED})


def _panel_review_id(entry: Entry) -> int | None:
    """The review whose panel a `panel` entry belongs to: its own id for a review."""
    return entry.id if entry.kind == EntryKind.REVIEW else entry.review_id


def visible_entries(viewer: Viewer | None) -> ColumnElement[bool]:
    """SQL condition on `Entry` that keeps only the entries `viewer` may see."""
    return _visible_entries(viewer or ANONYMOUS)


@lru_cache(maxsize=1024)
def _visible_entries(viewer: Viewer) -> ColumnElement[bool]:
    # Built once per viewer and process: SQL expressions are immutable, and one reused keeps
    # SQLAlchemy from building it and its cache key again in every statement of every page.
    if viewer.is_staff:
        return true()
    published = Entry.status == EntryStatus.PUBLISHED
    if not viewer.is_authenticated:
        return and_(published, Entry.visibility == Visibility.PUBLIC)
    audience: list[ColumnElement[bool]] = [Entry.visibility.in_((Visibility.PUBLIC, Visibility.MEMBERS))]
    if viewer.panel_review_ids:
        ids = sorted(viewer.panel_review_ids)
        on_panel = or_(
            and_(Entry.kind != EntryKind.REVIEW, Entry.review_id.in_(ids)),
            and_(Entry.kind == EntryKind.REVIEW, Entry.id.in_(ids)),
        )
        audience.append(and_(Entry.visibility == Visibility.PANEL, on_panel))
    own = and_(Entry.author_id == viewer.user_id, Entry.status.not_in(sorted(AUTHOR_HIDDEN_STATUSES)))
    return or_(and_(published, or_(*audience)), own)


def listed_entries(viewer: Viewer | None) -> ColumnElement[bool]:
    """SQL condition on `Entry` for what lists, search results and similar-entry lists show.

    The entries `visible_entries(viewer)` lets through, less merged duplicates: a merged
    entry's address leads to the entry that absorbed it, so listing it (only staff could
    see it) would show the same thing twice under a title that no longer has a page.
    """
    return _listed_entries(viewer or ANONYMOUS)


@lru_cache(maxsize=1024)
def _listed_entries(viewer: Viewer) -> ColumnElement[bool]:
    if viewer.is_staff:
        return Entry.status != EntryStatus.MERGED
    return _visible_entries(viewer)


def visibility_key(viewer: Viewer | None, *, wrote_entries: bool) -> tuple[object, ...]:
    """What decides the entries `visible_entries(viewer)` lets through: viewers with equal keys see equal entries.

    Staff see everything; anonymous viewers the same public entries; a member what their
    panel seats open, plus, when they wrote entries (`wrote_entries`), their own. Kept
    beside `visible_entries` so that a new input to the rule changes both.
    """
    viewer = viewer or ANONYMOUS
    if viewer.is_staff:
        return ("staff",)
    if not viewer.is_authenticated:
        return ("anonymous",)
    return ("member", tuple(sorted(viewer.panel_review_ids)), viewer.user_id if wrote_entries else None)


def can_view_entry(viewer: Viewer | None, entry: Entry) -> bool:
    """Whether `viewer` may see `entry`; the same rule as `visible_entries`."""
    viewer = viewer or ANONYMOUS
    if viewer.is_staff:
        return True
    if viewer.is_authenticated and entry.author_id == viewer.user_id:
        return entry.status not in AUTHOR_HIDDEN_STATUSES
    if entry.status != EntryStatus.PUBLISHED:
        return False
    if entry.visibility == Visibility.PUBLIC:
        return True
    if not viewer.is_authenticated:
        return False
    if entry.visibility == Visibility.MEMBERS:
        return True
    if entry.visibility == Visibility.PANEL:
        return _panel_review_id(entry) in viewer.panel_review_ids
    return False


def index_visibility_filter(viewer: Viewer | None) -> whoosh_query.Query:
    """The same rule as a query over the search index's fields: `status`, `visibility`, `author`, `panel`.

    Staff get every entry (any status), which also keeps out the index's documents that
    are not entries. `tests/services/test_search_visibility.py` checks that this, the SQL
    condition and the predicate always pick the same entries.
    """
    viewer = viewer or ANONYMOUS
    term = whoosh_query.Term
    if viewer.is_staff:
        return whoosh_query.Or([term("status", status) for status in STATUSES])
    published = term("status", "published")
    if not viewer.is_authenticated:
        return whoosh_query.And([published, term("visibility", "public")])
    audience: list[whoosh_query.Query] = [term("visibility", "public"), term("visibility", "members")]
    if viewer.panel_review_ids:
        panels = whoosh_query.Or([term("panel", str(review_id)) for review_id in sorted(viewer.panel_review_ids)])
        audience.append(whoosh_query.And([term("visibility", "panel"), panels]))
    hidden_from_author = whoosh_query.Or([term("status", status) for status in sorted(AUTHOR_HIDDEN_STATUSES)])
    own = whoosh_query.AndNot(term("author", str(viewer.user_id)), hidden_from_author)
    return whoosh_query.Or([whoosh_query.And([published, whoosh_query.Or(audience)]), own])


def index_listing_filter(viewer: Viewer | None) -> whoosh_query.Query:
    """`listed_entries` over the search index's fields: the visibility rule, less merged duplicates for staff."""
    viewer = viewer or ANONYMOUS
    if viewer.is_staff:
        listed = [status for status in STATUSES if status != EntryStatus.MERGED]
        return whoosh_query.Or([whoosh_query.Term("status", status) for status in listed])
    return index_visibility_filter(viewer)


def can_view_if_published(viewer: Viewer | None, entry: Entry) -> bool:
    """Whether `viewer` could read `entry` if it were published: its visibility alone decides.

    Used where an entry has left publication (merged into another) and the question is
    whether a reader was ever meant to know of it.
    """
    viewer = viewer or ANONYMOUS
    if viewer.is_staff or entry.visibility == Visibility.PUBLIC:
        return True
    if not viewer.is_authenticated:
        return False
    if entry.visibility == Visibility.MEMBERS or entry.author_id == viewer.user_id:
        return True
    return entry.visibility == Visibility.PANEL and _panel_review_id(entry) in viewer.panel_review_ids


def _audience(entry: Entry) -> str:
    """Who besides staff reads an entry: `public`, `members`, `panel`, or `author` (not published, or draft)."""
    if entry.status != EntryStatus.PUBLISHED or entry.visibility == Visibility.DRAFT:
        return "author"
    return entry.visibility


def audience_contains(wide: Entry, narrow: Entry) -> bool:
    """Whether everyone who may read `narrow` may also read `wide` (staff read both).

    Moving material written for `wide`'s readers (a merged duplicate's comments) into
    `narrow` shows it to no one new exactly when this holds.
    """
    scope, wide_scope = _audience(narrow), _audience(wide)
    if scope == "public":
        covered = wide_scope == "public"
    elif scope == "members":
        covered = wide_scope in ("public", "members")
    elif scope == "panel":
        same_panel = wide_scope == "panel" and _panel_review_id(wide) == _panel_review_id(narrow)
        covered = wide_scope in ("public", "members") or same_panel
    else:
        covered = True
    author = narrow.author
    return covered and (author is None or can_view_entry(viewer_for(author), wide))


def nothing_visible() -> ColumnElement[bool]:
    """A SQL condition that keeps no rows, for surfaces a viewer may not use at all."""
    return false()


def is_author(viewer: Viewer | None, entry: Entry | None) -> bool:
    """Whether the signed-in `viewer` wrote `entry`."""
    viewer = viewer or ANONYMOUS
    return entry is not None and viewer.is_authenticated and entry.author_id == viewer.user_id


def on_panel_of(viewer: Viewer, entry: Entry | None) -> bool:
    """Whether `viewer` is staff or sits on the panel of `entry`'s review (a review's own panel)."""
    if viewer.is_staff:
        return True
    return entry is not None and _panel_review_id(entry) in viewer.panel_review_ids


ACTION_RULES: dict[str, Callable[[Viewer, Entry | None], bool]] = {
    # Contributing: any member writes a lesson; its author edits it until it is submitted.
    "entry.create": lambda viewer, entry: viewer.is_authenticated,
    "entry.edit": lambda viewer, entry: (
        viewer.is_staff or (is_author(viewer, entry) and entry is not None and entry.status in AUTHOR_EDITABLE_STATUSES)
    ),
    "entry.submit": lambda viewer, entry: (
        is_author(viewer, entry) and entry is not None and entry.status in AUTHOR_EDITABLE_STATUSES
    ),
    # Moderation: publish, return or reject a submission; set visibility and status.
    "entry.moderate": lambda viewer, entry: viewer.is_staff,
    "entry.set-restricted-fields": lambda viewer, entry: viewer.is_staff,
    # Staff write reviews and meeting papers in the browser (members write only lessons).
    "entry.create-any-kind": lambda viewer, entry: viewer.is_staff,
    # Discussion: members comment on what they can see and flag what needs a moderator.
    "comment.post": lambda viewer, entry: viewer.is_authenticated,
    "flag.raise": lambda viewer, entry: viewer.is_authenticated,
    "comment.moderate": lambda viewer, entry: viewer.is_staff,
    # Curation: merge duplicates, feature, lock, and set a lesson's maturity and action status.
    "entry.curate": lambda viewer, entry: viewer.is_staff,
    # Tags: rename, merge, and move into a theme.
    "taxonomy.curate": lambda viewer, entry: viewer.is_staff,
    # Review panels: a review's panel (and staff) work in its workspace, draft and agree findings.
    "review.work": lambda viewer, entry: on_panel_of(viewer, entry),
    "review.list-panels": lambda viewer, entry: viewer.is_staff or bool(viewer.panel_review_ids),
    # Consultations: staff or the consulted entry's panel open one; signed-in readers answer.
    "consultation.manage": lambda viewer, entry: on_panel_of(viewer, entry),
    "consultation.respond": lambda viewer, entry: viewer.is_authenticated,
    # Lessons to action: staff or the lesson's review panel record action; staff confirm recurrences.
    "lesson.action": lambda viewer, entry: on_panel_of(viewer, entry),
    "recurrence.decide": lambda viewer, entry: viewer.is_staff,
    # Running the site.
    "users.manage": lambda viewer, entry: viewer.is_admin,
    "audit.browse": lambda viewer, entry: viewer.is_admin,
}


def can(viewer: Viewer | None, action: str, entry: Entry | None = None) -> bool:
    """Whether `viewer` may do `action` (a key of `ACTION_RULES`), to `entry` if given.

    An action on an entry also needs the right to see it. Raises `KeyError` for an
    unknown action, so a misspelt check fails loudly instead of silently refusing.
    """
    viewer = viewer or ANONYMOUS
    rule = ACTION_RULES[action]
    if entry is not None and not can_view_entry(viewer, entry):
        return False
    return rule(viewer, entry)


def can_read_comment(viewer: Viewer | None, comment: Comment | ThreadComment) -> bool:
    """Whether `viewer` may read a comment's text (its entry's visibility is checked separately).

    A finding's discussion (`finding_id` set) is read only by those who may work on the
    finding, its review's panel and staff; for everyone else it does not exist. A hidden comment
    is read by moderators and its author; a removed one by moderators alone. Everyone else
    sees a placeholder in its place.
    """
    viewer = viewer or ANONYMOUS
    if comment.finding_id is not None and not on_panel_of(viewer, comment.entry):
        return False
    if comment.status == CommentStatus.VISIBLE or viewer.is_staff:
        return True
    return comment.status == CommentStatus.HIDDEN and viewer.is_authenticated and comment.author_id == viewer.user_id


def readable_comments(viewer: Viewer | None) -> ColumnElement[bool]:
    """SQL condition on `Comment`: the comments whose text `viewer` may read, the rule of `can_read_comment`.

    `tests/services/test_comments.py` checks that the two agree for every status and kind of viewer.
    """
    viewer = viewer or ANONYMOUS
    if viewer.is_staff:
        return true()
    seats = sorted(viewer.panel_review_ids)  # a finding's comment's entry is its review
    discussion: ColumnElement[bool] = Comment.finding_id.is_(None)
    if seats:
        discussion = or_(discussion, Comment.entry_id.in_(seats))
    if not viewer.is_authenticated:
        return and_(Comment.status == CommentStatus.VISIBLE, discussion)
    own_hidden = and_(Comment.status == CommentStatus.HIDDEN, Comment.author_id == viewer.user_id)
    return and_(or_(Comment.status == CommentStatus.VISIBLE, own_hidden), discussion)


def can_edit_comment(viewer: Viewer | None, comment: Comment | ThreadComment) -> bool:
    """Whether `viewer` may edit a comment: its author, while it is visible and its entry is readable."""
    viewer = viewer or ANONYMOUS
    return (
        viewer.is_authenticated
        and comment.author_id == viewer.user_id
        and comment.status == CommentStatus.VISIBLE
        and can_view_entry(viewer, comment.entry)
        and can_read_comment(viewer, comment)
    )


def can_view_finding(viewer: Viewer | None, finding: Finding) -> bool:
    """Whether `viewer` may read a finding: its review's panel and staff always; once published, the review's readers.

    `visible_findings` is the same rule in SQL.
    """
    viewer = viewer or ANONYMOUS
    review = finding.review
    if not can_view_entry(viewer, review):
        return False
    return finding.status == FindingStatus.PUBLISHED or on_panel_of(viewer, review)


def visible_findings(viewer: Viewer | None) -> ColumnElement[bool]:
    """SQL condition on `Finding`: the findings `viewer` may read, the rule of `can_view_finding`."""
    viewer = viewer or ANONYMOUS
    readable_reviews = select(Entry.id).where(Entry.kind == EntryKind.REVIEW, visible_entries(viewer))
    in_readable_review = Finding.review_id.in_(readable_reviews)
    if viewer.is_staff:
        return true()
    on_panel = Finding.review_id.in_(sorted(viewer.panel_review_ids)) if viewer.panel_review_ids else false()
    return and_(in_readable_review, or_(Finding.status == FindingStatus.PUBLISHED, on_panel))


def can_view_consultation(viewer: Viewer | None, consultation: Consultation) -> bool:
    """Whether `viewer` may read a consultation: it follows the consulted entry."""
    return can_view_entry(viewer, consultation.entry)


def visible_consultations(viewer: Viewer | None) -> ColumnElement[bool]:
    """SQL condition on `Consultation`, the rule of `can_view_consultation`."""
    return Consultation.entry_id.in_(select(Entry.id).where(visible_entries(viewer)))


def can_read_response(viewer: Viewer | None, response: Response) -> bool:
    """Whether `viewer` may read a response: its author, and the consulted entry's panel and staff once closed.

    Only while `viewer` may read the consultation. Respondents' answers are not shown to
    other members; the panel reads them to analyse.
    """
    viewer = viewer or ANONYMOUS
    consultation = response.consultation
    if not can_view_consultation(viewer, consultation):
        return False
    if viewer.is_authenticated and response.user_id == viewer.user_id:
        return True
    # Nobody reads answers their authors may still change: the panel reads them once it has closed.
    closed = state_at(consultation.opens_at, consultation.closes_at, utcnow()) == CLOSED
    return closed and response.status == ResponseStatus.SUBMITTED and on_panel_of(viewer, consultation.entry)


def can_view_recurrence(viewer: Viewer | None, recurrence: Recurrence) -> bool:
    """Whether `viewer` may see a recurrence: only when they may see both lessons."""
    return can_view_entry(viewer, recurrence.first) and can_view_entry(viewer, recurrence.second)


class PermissionDeniedError(NotAllowedError):
    """The actor may not do this; raised by services through `require`."""


def require(actor: User | None, action: str, entry: Entry | None = None) -> None:
    """Raise `PermissionDeniedError` unless `actor` may do `action` (to `entry`): the services' check."""
    if not can(viewer_for(actor), action, entry):
        raise PermissionDeniedError(action)
