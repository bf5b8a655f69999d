"""Demo mode's sample organisations and one account per role."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from kb.entries.models import Entry, Review
from kb.extensions import db
from kb.states import Visibility
from kb.users.models import Organisation, PanelMembership, User
from kb.users.service import find_user_by_email

DEMO_ORGANISATIONS = (
    ("Demo out-of-hours provider", "out-of-hours-provider", "South West"),
    ("Demo clinical commissioning group", "commissioner", "South West"),
    ("Demo national body", "national-body", None),
)
DEMO_ACCOUNTS = (
    ("demo-member@example.org", "Dana Member", "member", 0, False),
    ("demo-panel@example.org", "Pat Panel", "member", 1, True),
    ("demo-panel-two@example.org", "Sam Panel", "member", 0, True),
    ("demo-moderator@example.org", "Morgan Moderator", "moderator", 2, False),
    ("demo-admin@example.org", "Alex Admin", "admin", 2, False),
)


def ensure_demo_accounts() -> list[User]:
    """The sample organisations and one account per role, for demo mode; idempotent.

    Demo accounts have no password: they are entered only through the demo buttons on
    the sign-in page, which exist only while demo mode is on. The panel account sits on
    the panel of the review with the most panel-only material (the first by title if none);
    two panel accounts sit on it, so the panel's work together (agreeing, discussing, settling
    a clash) can be tried from two browsers.
    """
    organisations = []
    for name, type_, region in DEMO_ORGANISATIONS:
        organisation = db.session.scalar(select(Organisation).where(Organisation.name == name))
        if organisation is None:
            organisation = Organisation(name=name, type=type_, region=region)
            db.session.add(organisation)
        organisations.append(organisation)
    material = aliased(Entry)
    panel_material = select(func.count(material.id)).where(
        material.review_id == Review.id, material.visibility == Visibility.PANEL
    )
    first_review = db.session.scalar(
        select(Review).order_by(panel_material.scalar_subquery().desc(), Review.title).limit(1)
    )
    users = []
    for email, name, role, organisation_index, on_panel in DEMO_ACCOUNTS:
        user = find_user_by_email(email)
        if user is None:
            user = User(email=email, display_name=name, role=role, is_demo=True)
            user.organisation = organisations[organisation_index]
            db.session.add(user)
            db.session.flush()
        if on_panel and first_review is not None and not user.panel_seats:
            user.panel_seats.append(PanelMembership(review_id=first_review.id))
        users.append(user)
    db.session.flush()
    return users
