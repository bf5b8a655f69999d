"""A long form's typed fields, kept on the server until they are sent or expire."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kb.dates import utcnow
from kb.extensions import Model

FORM_DRAFT_MAX_AGE = dt.timedelta(days=7)
"""A draft not touched for this long is ignored and purged."""

PATH_MAX = 500
"""The longest form page path a draft keeps."""

KEPT_HERE = "kept_drafts"
"""Session key: the tokens of the drafts without an owner that this browser posted (kept across a sign-in)."""

KEPT_HERE_MAX = 5
"""How many such tokens a session remembers; the oldest is forgotten first."""

SAVED_HERE = "saved_drafts"
"""Session key: this browser has saved a draft as someone typed, so form pages look for one to offer back.

Pages with a form skip that lookup for everyone else, which is nearly every page view.
"""


class FormDraft(Model):
    """What someone typed into one form page, under a random token.

    `path` is the page that shows the form (its GET address, without the query), and
    `fields` the form's fields as posted: each name with its list of values. A draft
    has an owner once anyone is known to have typed it (signed in while typing, or
    signed in with its link afterwards in the browser that posted it); a draft without
    an owner was posted from a session that had ended, is found only by its token
    together with that browser's session, and is capped per client address. One owner
    keeps one draft per page: saving again replaces it.
    """

    __tablename__ = "form_drafts"
    __table_args__ = (UniqueConstraint("owner_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(String(PATH_MAX))
    fields: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    client_address: Mapped[str | None] = mapped_column(String(64), index=True)
    """The client address (IPv6 by /64) that posted a draft without an owner: such drafts are capped per address."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
