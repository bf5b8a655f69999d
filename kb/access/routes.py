"""The "Personal access tokens" page of one's account: API tokens and the personal feed address.

A new token is shown once, in the answer to the post that made it (never stored, never
cached, never in a redirect); afterwards the page shows only its first characters.
Revoking asks first: the list's "Revoke" link shows the question on the same page, and
only its button's post (with a CSRF token) revokes.

Each showing of the page gives its make forms a one-time nonce, kept in the session and
used up by the first post that makes something: a refresh of that answer, or Back and
send again, makes nothing more (nor replaces the feed address just copied) and says so.
"""

from __future__ import annotations

import datetime as dt
import secrets

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
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
NONCE_FIELD = "form_nonce"
NONCES_KEY = "token_forms"
"""The session's recent token-page nonces, oldest first: [nonce, the kind it made, or "" while unused]."""
NONCES_KEPT = 10
"""Enough for a few open tabs and the answers' refreshes; an older form is told to send again."""
ALREADY_SENT = {
    TokenKind.API: (
        "That form was already sent: your token was made; if you did not copy it, revoke it and make another."
    ),
    TokenKind.FEED: "That form was already sent: your feed address was made; if you did not copy it, make a new one.",
}
OUT_OF_DATE = "That form is out of date, so nothing was changed. Check the page and send it again."


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


def _new_nonce() -> str:
    nonce = secrets.token_urlsafe(16)
    session[NONCES_KEY] = [*session.get(NONCES_KEY, []), [nonce, ""]][-NONCES_KEPT:]
    return nonce


def _refusal_of_nonce() -> str | None:
    """Why the posted form may not make anything (sent before, or unknown); None for an unused nonce."""
    nonce = request.form.get(NONCE_FIELD, "")
    for known, made in session.get(NONCES_KEY, []):
        if known == nonce:
            return ALREADY_SENT.get(made) if made else None
    return OUT_OF_DATE


def _use_nonce(kind: TokenKind) -> None:
    nonce = request.form.get(NONCE_FIELD, "")
    session[NONCES_KEY] = [[known, kind if known == nonce else made] for known, made in session.get(NONCES_KEY, [])]


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
        form_nonce=_new_nonce(),
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
    refusal = _refusal_of_nonce()
    if refusal is not None:
        return _page(form if refusal == OUT_OF_DATE else TokenForm(formdata=None), message=refusal)
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
    _use_nonce(TokenKind.API)
    return _page(TokenForm(formdata=None), new_token=token)


@blueprint.post("/account/feed-address")
@login_required
def make_feed_address() -> tuple[str, int, dict[str, str]]:
    """Make a new personal feed address (the old one stops working) and show it, this once."""
    user: User = current_user._get_current_object()
    refusal = _refusal_of_nonce()
    if refusal is not None:
        return _page(TokenForm(formdata=None), message=refusal)
    with unit_of_work():
        _row, token = service.new_feed_token(user)
    _use_nonce(TokenKind.FEED)
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
