"""Who hears of a comment in a finding's discussion, and who its @mentions may name.

A finding's discussion is read only by those who may work on the finding (its review's
panel and staff), so only they can be mentioned in it: an @handle naming anyone else tells
nobody and stays plain text. A new comment tells the panel (kind `finding_comment`) and
those it mentions (kind `mention`); a person mentioned hears only of the mention. An edit
tells only the people it newly mentions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kb.extensions import db
from kb.notifications import mails
from kb.notifications.models import Notification
from kb.notifications.service import mention_names, mentioned_people
from kb.notifications.telling import tell
from kb.permissions import can, viewer_for
from kb.states import NotificationKind
from kb.users.models import PanelMembership, User

if TYPE_CHECKING:
    from kb.comments.models import Comment
    from kb.panels.models import Finding


def may_work_on(person: User, finding: Finding) -> bool:
    """Whether `person` may work on `finding` (and so read and be told of its discussion)."""
    return person.active and can(viewer_for(person), "review.work", finding.review)


def _people(ids: list[int]) -> dict[int, User]:
    if not ids:
        return {}
    query = select(User).where(User.id.in_(ids)).options(selectinload(User.panel_seats))
    return {person.id: person for person in db.session.scalars(query)}


def finding_mentions(body: str, finding: Finding) -> dict[str, int]:
    """The @handles in `body` that name exactly one person who may work on `finding`, with their ids."""
    found = mentioned_people(body)
    people = _people(sorted(set(found.values())))
    return {handle: user_id for handle, user_id in found.items() if may_work_on(people[user_id], finding)}


def finding_mention_names(body: str, finding: Finding) -> dict[str, str]:
    """`finding_mentions` with display names, for marking mentions in the rendered comment."""
    allowed = set(finding_mentions(body, finding))
    return {handle: name for handle, name in mention_names(body).items() if handle in allowed}


def panel_of(finding: Finding) -> list[User]:
    """The active people with a seat on the finding's review's panel, in id order."""
    query = (
        select(User)
        .join(PanelMembership, PanelMembership.user_id == User.id)
        .where(PanelMembership.review_id == finding.review_id, User.active.is_(True))
        .options(selectinload(User.panel_seats))
        .order_by(User.id)
    )
    return list(db.session.scalars(query))


def _mentioned(comment: Comment, finding: Finding, *, actor: User, newly_after: str | None) -> list[Notification]:
    ids = set(finding_mentions(comment.body, finding).values())
    if newly_after is not None:
        ids -= set(finding_mentions(newly_after, finding).values())
    people = _people(sorted(ids))
    return _tell(list(people.values()), NotificationKind.MENTION, comment, finding, actor=actor)


def _tell(people: list[User], kind: str, comment: Comment, finding: Finding, *, actor: User) -> list[Notification]:
    what = "mentioned you in" if kind == NotificationKind.MENTION else "commented on"
    told = tell(
        people,
        kind=kind,
        actor=actor,
        message=f"{actor.display_name} {what} the discussion of finding {finding.number}: “{finding.title}”",
        link=f"/reviews/{finding.review.slug}/findings/{finding.number}#{comment.anchor}",
        entry=finding.review,
        finding=finding,
        paragraphs=[mails.excerpt(comment.body)],
        may_hear=lambda person: may_work_on(person, finding),
    )
    for notification in told:
        notification.comment_id = comment.id
    db.session.flush()
    return told


def comment_posted(comment: Comment, finding: Finding, *, actor: User) -> list[Notification]:
    """Tell of a new comment on `finding`: mentions first, then the rest of the panel. Returns what was written.

    The link is the comment's place on the finding's page.
    """
    mentioned = _mentioned(comment, finding, actor=actor, newly_after=None)
    # Everyone mentioned is left out of the rest, also those whose mention wrote no row (mail only).
    mentioned_ids = set(finding_mentions(comment.body, finding).values())
    rest = [person for person in panel_of(finding) if person.id not in mentioned_ids]
    return mentioned + _tell(rest, NotificationKind.FINDING_COMMENT, comment, finding, actor=actor)


def comment_edited(comment: Comment, finding: Finding, *, actor: User, previous_body: str) -> list[Notification]:
    """Tell only the people an edit of a finding's comment newly mentions."""
    return _mentioned(comment, finding, actor=actor, newly_after=previous_body)
