"""Read-side queries for the admin pages: accounts, organisations, reviews and the audit log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, not_, or_, select
from sqlalchemy.orm import selectinload

from kb.audit.models import AuditEvent
from kb.dates import LONDON
from kb.entries.models import Review
from kb.extensions import db
from kb.pagination import Page, paginate
from kb.states import AccountStatus
from kb.users.models import Organisation, User

ACCOUNT_STATUSES: dict[str, str] = AccountStatus.labels()


def account_status(user: User) -> str:
    """`deactivated`, `invited` (no password set yet) or `active`; demo accounts never need one."""
    if not user.active:
        return "deactivated"
    if user.password_hash is None and not user.is_demo:
        return "invited"
    return "active"


def _status_condition(status: str) -> ColumnElement[bool]:
    """The SQL form of `account_status(user) == status`."""
    invited = and_(User.password_hash.is_(None), User.is_demo.is_(False))
    if status == AccountStatus.DEACTIVATED:
        return User.active.is_(False)
    if status == AccountStatus.INVITED:
        return and_(User.active.is_(True), invited)
    return and_(User.active.is_(True), not_(invited))


@dataclass
class UserFilters:
    """Filters on the users list; empty values mean "any", unknown ones are ignored."""

    text: str = ""
    role: str = ""
    organisation_id: int | None = None
    status: str = ""


def list_users(filters: UserFilters, number: int, per_page: int) -> Page:
    """One page of accounts matching `filters`, by name."""
    query = select(User).options(selectinload(User.organisation))
    if filters.text:
        needle = filters.text.lower()
        query = query.where(
            or_(
                func.lower(User.display_name).contains(needle, autoescape=True),
                func.lower(User.email).contains(needle, autoescape=True),
            )
        )
    if filters.role:
        query = query.where(User.role == filters.role)
    if filters.organisation_id is not None:
        query = query.where(User.organisation_id == filters.organisation_id)
    if filters.status in ACCOUNT_STATUSES:
        query = query.where(_status_condition(filters.status))
    return paginate(query.order_by(func.lower(User.display_name), User.id), number, per_page)


def organisation_choices() -> list[tuple[str, str]]:
    """Every organisation as a (id, name) choice, by name."""
    rows = db.session.execute(select(Organisation.id, Organisation.name).order_by(func.lower(Organisation.name)))
    return [(str(id_), name) for id_, name in rows]


def organisations_with_counts() -> list[tuple[Organisation, int]]:
    """Every organisation with how many accounts belong to it, by name."""
    query = (
        select(Organisation, func.count(User.id))
        .outerjoin(User, User.organisation_id == Organisation.id)
        .group_by(Organisation.id)
        .order_by(func.lower(Organisation.name))
    )
    return [(organisation, count) for organisation, count in db.session.execute(query)]


def review_choices(excluding: set[int]) -> list[tuple[str, str]]:
    """Reviews as (id, title) choices, by title, leaving out the ids in `excluding`."""
    rows = db.session.execute(select(Review.id, Review.title).order_by(Review.title))
    return [(str(id_), title) for id_, title in rows if id_ not in excluding]


@dataclass
class AuditFilters:
    """Filters on the audit log; dates are whole days in Europe/London, both inclusive."""

    action: str = ""
    actor: str = ""
    target: str = ""
    day_from: dt.date | None = None
    day_to: dt.date | None = None


def london_midnight(day: dt.date) -> dt.datetime:
    """The UTC moment a day starts in Europe/London."""
    return dt.datetime.combine(day, dt.time(), tzinfo=LONDON).astimezone(dt.UTC)


def list_events(filters: AuditFilters, number: int, per_page: int) -> Page:
    """One page of audit events matching `filters`, newest first."""
    query = select(AuditEvent)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.actor:
        query = query.where(func.lower(AuditEvent.actor_label).contains(filters.actor.lower(), autoescape=True))
    if filters.target:
        query = query.where(func.lower(AuditEvent.target_label).contains(filters.target.lower(), autoescape=True))
    if filters.day_from:
        query = query.where(AuditEvent.at >= london_midnight(filters.day_from))
    if filters.day_to:
        query = query.where(AuditEvent.at < london_midnight(filters.day_to + dt.timedelta(days=1)))
    return paginate(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()), number, per_page)
