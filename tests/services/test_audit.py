"""The audit log only grows: recorded events cannot be changed or deleted through the app."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from kb.audit.models import AuditEvent, AuditLogIsAppendOnlyError
from kb.audit.service import record_event
from kb.extensions import db
from tests.accounts import make_user


def test_an_event_records_who_what_old_new_and_when(seeded_app: Flask) -> None:
    admin = make_user("admin@example.org", role="admin")
    member = make_user("member@example.org")
    record_event("user.role", actor=admin, target=member, old="member", new="moderator")
    db.session.commit()
    (event,) = db.session.scalars(select(AuditEvent))
    assert (event.actor_id, event.action, event.target_type, event.target_id) == (
        admin.id,
        "user.role",
        "user",
        member.id,
    )
    assert (event.target_label, event.old_value, event.new_value) == ("member@example.org", "member", "moderator")
    assert event.actor_label == "Admin <admin@example.org>"
    assert event.at is not None


def test_unknown_actions_are_refused(seeded_app: Flask) -> None:
    with pytest.raises(ValueError, match="unknown audit action"):
        record_event("user.rolee", actor=None)


@pytest.mark.parametrize("change", ["edit", "delete"])
def test_a_recorded_event_cannot_be_changed_or_deleted(seeded_app: Flask, change: str) -> None:
    record_event("logout", actor=None)
    db.session.commit()
    event = db.session.scalar(select(AuditEvent))
    if change == "edit":
        event.new_value = "rewritten"
    else:
        db.session.delete(event)
    with pytest.raises(AuditLogIsAppendOnlyError):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(AuditEvent)).new_value is None
