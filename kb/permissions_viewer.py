"""Who is looking: the `Viewer` every permission question is asked about.

A viewer is anonymous, or a signed-in user with a role and panel seats; `viewer_for`
makes one from an account and `current_viewer` gives the one of the current request.
What a viewer may see and do is decided in `kb.permissions`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import g, has_request_context

from kb.states import Role

if TYPE_CHECKING:
    from kb.users.models import User

STAFF_ROLES = frozenset({Role.MODERATOR, Role.ADMIN})


@dataclass(frozen=True)
class Viewer:
    """Whoever is looking: anonymous, or a signed-in user with a role and panel seats."""

    user_id: int | None = None
    role: str | None = None
    panel_review_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_authenticated(self) -> bool:
        """Whether the viewer is signed in."""
        return self.user_id is not None

    @property
    def is_staff(self) -> bool:
        """Moderators and admins, who see every entry."""
        return self.role in STAFF_ROLES

    @property
    def is_admin(self) -> bool:
        """Admins, who run accounts and read the audit log."""
        return self.role == Role.ADMIN


ANONYMOUS = Viewer()


def viewer_for(user: User | None) -> Viewer:
    """The viewer a user acts as; `ANONYMOUS` for None or a deactivated account."""
    if user is None or not user.active:
        return ANONYMOUS
    seats = frozenset(seat.review_id for seat in user.panel_seats)
    return Viewer(user_id=user.id, role=user.role, panel_review_ids=seats)


def current_viewer() -> Viewer:
    """The viewer of the current request, set once per request by `kb.users.sessions`."""
    if has_request_context():
        return g.get("viewer", ANONYMOUS)
    return ANONYMOUS
