"""Recording audit events. Services call `record_event`; it only adds to the session."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from kb.audit.models import ACTIONS, AuditEvent
from kb.extensions import db


def client_address() -> str | None:
    """The address of the current request's client, or None outside a request."""
    return request.remote_addr if has_request_context() else None


def _label_of(target: Any) -> tuple[str, int | None, str]:
    """The type, id and human label of an audited object."""
    if target is None:
        return "", None, ""
    table = getattr(target, "__tablename__", type(target).__name__.lower())
    type_name = "entry" if table == "entries" else table.removesuffix("s")
    label = (
        getattr(target, "email", None)
        or getattr(target, "slug", None)
        or getattr(target, "name", None)
        or str(getattr(target, "id", ""))
    )
    return type_name, getattr(target, "id", None), str(label)


def _actor_label(actor: Any) -> str:
    if actor is None:
        return "system"
    return f"{actor.display_name} <{actor.email}>"


def record_event(
    action: str,
    *,
    actor: Any,
    target: Any = None,
    old: str | None = None,
    new: str | None = None,
    target_label: str | None = None,
) -> AuditEvent:
    """Add an audit event for `action` by `actor` on `target` to the session.

    `actor` is a `User` or None (the system or an unknown visitor); raises `ValueError`
    for an action kb does not know, so a typo never records a meaningless event.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    target_type, target_id, label = _label_of(target)
    event = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", None),
        actor_label=_actor_label(actor),
        target_type=target_type,
        target_id=target_id,
        target_label=target_label if target_label is not None else label,
        old_value=old,
        new_value=new,
        address=client_address(),
    )
    db.session.add(event)
    return event
