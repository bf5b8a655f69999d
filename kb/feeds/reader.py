"""Who a feed is read as: anyone (public content only), or the owner of a personal feed token.

A feed address without `token` is read as an anonymous visitor, whoever asks, even a
signed-in browser: that is what makes it safe to cache publicly. With `?token=kb_...`
it is read as the token's owner (`viewer_for`), with their current role and panels;
the token is checked by `kb.access.service.authenticate`, and nobody is signed in.
"""

from __future__ import annotations

from flask import g, request

from kb.access.service import authenticate
from kb.errors import unit_of_work
from kb.permissions import ANONYMOUS, Viewer, viewer_for
from kb.states import TokenKind

TOKEN_ARG = "token"  # noqa: S105 (the query argument's name, not a secret)


def asks_with_token() -> bool:
    """Whether the request names a feed token at all (an empty one counts: it is refused, never ignored)."""
    return TOKEN_ARG in request.args


def find_reader() -> Viewer | None:
    """The viewer this feed request reads as, kept in `g`; None when its token is refused.

    A refused token (wrong, revoked, expired, of another kind, or of a deactivated account)
    never falls back to the public feed. Marking the token used is committed here.
    """
    if not asks_with_token():
        g.feed_viewer = ANONYMOUS
        return ANONYMOUS
    with unit_of_work():
        row = authenticate(request.args.get(TOKEN_ARG, ""), TokenKind.FEED)
        viewer = viewer_for(row.user) if row is not None else None
    if viewer is None or not viewer.is_authenticated:
        return None
    g.feed_viewer = viewer
    return viewer


def feed_viewer() -> Viewer:
    """The viewer `find_reader` chose for this request."""
    viewer: Viewer = g.get("feed_viewer", ANONYMOUS)
    return viewer
