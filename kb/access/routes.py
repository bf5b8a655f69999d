"""The "Personal access tokens" page of one's account: API tokens and the personal feed address.

A new token is shown once, in the answer to the post that made it (never stored, never
cached, never in a redirect); afterwards the page shows only its first characters.
Revoking asks first: the list's "Revoke" link shows the question on the same page, and
only its button's post (with a CSRF token) revokes.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from kb.access import service
from kb.access.forms import TokenForm
from kb.access.models import AccessToken
from kb.dates import utcnow
from kb.errors import InvalidInputError, NotFoundError, unit_of_work
from kb.extensions import db
from kb.states import TokenKind, TokenScope
from kb.users.models import User

blueprint = Blueprint("access", __name__)

FEED_PATH = "/feeds/all.atom"
"""The feed of everything; `?token=` added to any feed address shows what its owner may read."""


def feed_address(token: str) -> str:
    """The absolute address of the feed of everything, read as the token's owner."""
    return f"{current_app.config['SITE_URL']}{FEED_PATH}?token={token}"


def _status(token: AccessToken, now: dt.datetime) -> str:
    if token.revoked_at is not None:
        return "Revoked"
    return "Active" if token.is_live(now) else "Expired"


def _own_token(user: User, token_id: int) -> AccessToken:
    token = db.session.get(AccessToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFoundError("There is no such token.")
    return token


def _revoke_target(user: User) -> AccessToken | None:
    """The live token named by `?revoke=` (to ask before revoking it), if it is the person's own."""
    wanted = request.args.get("revoke", "")
    if not wanted.isdecimal() or len(wanted) > 12:
        return None
    token = db.session.get(AccessToken, int(wanted))
    if token is None or token.user_id != user.id or not token.is_live(utcnow()):
        return None
    return token


def _page(
    form: TokenForm, *, new_token: str | None = None, new_feed: str | None = None, message: str | None = None
) -> tuple[str, int, dict[str, str]]:
    user: User = current_user._get_current_object()
    now = utcnow()
    api_tokens = service.listed_tokens(user, TokenKind.API)
    feed = service.live_tokens(user, TokenKind.FEED)
    status = 400 if message or form.errors else 200
    page = render_template(
        "access/tokens.html",
        form=form,
        message=message,
        api_tokens=api_tokens,
        statuses={token.id: _status(token, now) for token in api_tokens},
        live_ids={token.id for token in api_tokens if token.is_live(now)},
        feed_kind=TokenKind.FEED,
        scopes=TokenScope.labels(),
        listed_days=service.LISTED_AFTER_ENDING.days,
        feed_token=feed[0] if feed else None,
        new_token=new_token,
        new_feed=new_feed,
        revoking=_revoke_target(user),
    )
    # A page that may hold a token is never kept by a browser or a proxy.
    return page, status, {"Cache-Control": "no-store"}


@blueprint.get("/account/tokens")
@login_required
def tokens() -> tuple[str, int, dict[str, str]]:
    """The person's API tokens and feed address, with the forms to make and revoke them."""
    return _page(TokenForm(formdata=None))


@blueprint.post("/account/tokens")
@login_required
def make_token() -> tuple[str, int, dict[str, str]]:
    """Make an API token and show it, this once."""
    user: User = current_user._get_current_object()
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form)
    try:
        with unit_of_work():
            _row, token = service.issue_token(
                user,
                kind=TokenKind.API,
                name=form.name.data or "",
                scope=TokenScope.READ_WRITE if form.scope.data == TokenScope.READ_WRITE else TokenScope.READ,
                expires_in_days=form.expires_in_days(),
            )
    except InvalidInputError as error:
        form.name.errors = [*form.name.errors, str(error)]
        return _page(form)
    return _page(TokenForm(formdata=None), new_token=token)


@blueprint.post("/account/feed-address")
@login_required
def make_feed_address() -> tuple[str, int, dict[str, str]]:
    """Make a new personal feed address (the old one stops working) and show it, this once."""
    user: User = current_user._get_current_object()
    with unit_of_work():
        _row, token = service.new_feed_token(user)
    return _page(TokenForm(formdata=None), new_feed=feed_address(token))


@blueprint.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int) -> Response:
    """Revoke one of the person's tokens (someone else's, or none, is a 404)."""
    user: User = current_user._get_current_object()
    with unit_of_work():
        token = _own_token(user, token_id)
        service.revoke_token(user, token)
        name = token.name
        kind = token.kind
    what = "Your feed address" if kind == TokenKind.FEED else f"The token “{name}”"
    flash(f"{what} has been revoked. It no longer works.", "success")
    return redirect(url_for("access.tokens"))
