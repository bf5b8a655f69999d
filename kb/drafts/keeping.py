"""The hook every long form shares, so that nothing typed into it is lost.

A view marked with `keeps_typed_text` takes a post only from someone signed in with a
good form token. Any other post (the session ended while they typed, the form's token
is stale or missing) is kept as a draft and the person is sent to the form's page (its
GET address, never the post's) with `?draft=<token>`, through the sign-in page when
they are signed out. There the view fills its form with `restored_fields()`, with a
message that the text was kept and not sent. When a post is taken (the view answers
with a redirect), the person's drafts of that page are discarded.

A draft kb cannot give an owner comes back only in the browser that posted it: its
token is remembered in that browser's session, which a sign-in carries over. A post
sent from another site's page is never kept, so no one can put text into another
person's form.

The views so marked are exempt from the global CSRF check: this hook checks the token.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response
from wtforms import ValidationError

from kb.drafts import service
from kb.drafts.models import KEPT_HERE, KEPT_HERE_MAX, SAVED_HERE
from kb.errors import unit_of_work

View = TypeVar("View", bound=Callable[..., Any])

KEPT_MESSAGE = "Your text was kept and has not been sent yet. Check it, then send the form."
SIGN_IN_MESSAGE = "Sign in to send your form. What you typed has been kept and will be back in the form."
EXPIRED_MESSAGE = "This form expired before it was sent, so it was not saved."


def _token_refused() -> bool:
    """Whether the post's form token is missing, stale or not this session's."""
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return False
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return True
    return False


def _from_another_site() -> bool:
    """Whether the browser says the post was sent from a page of another site (a forged post)."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    return origin is not None and origin != "null" and urlsplit(origin).netloc != request.host


def _kept_here() -> list[str]:
    """The tokens of drafts without an owner that this browser posted."""
    kept = session.get(KEPT_HERE)
    return [token for token in kept if isinstance(token, str)] if isinstance(kept, list) else []


def with_draft(page: str, token: str, anchor: str = "") -> str:
    """The address of a form's page that brings back the draft with `token`."""
    joiner = "&" if "?" in page else "?"
    return f"{page}{joiner}draft={token}" + (f"#{anchor}" if anchor else "")


def _keep(page: str, anchor: str) -> Response:
    """Keep what was posted as a draft of `page` and send the person there, through the sign-in page if needed."""
    if _from_another_site():
        raise CSRFError("This form was sent from another site, so it was not saved.")
    signed_in = current_user.is_authenticated
    # Someone whose session ran out while they typed is still known by it (see kb.users.sessions).
    owner_id = current_user.id if signed_in else g.get("signed_out_user_id")
    path = urlsplit(page).path
    back = page + (f"#{anchor}" if anchor else "")
    try:
        fields = service.typed_fields(request.form)
    except service.DraftTooLargeError:
        fields = {}
    kept = service.has_text(fields)
    if kept:
        with unit_of_work():
            draft = service.keep_draft(path, fields, owner_id=owner_id, address=get_remote_address())
        back = with_draft(page, draft.token, anchor)
        if draft.owner_id is None:
            session[KEPT_HERE] = [*_kept_here(), draft.token][-KEPT_HERE_MAX:]
        else:
            session[SAVED_HERE] = True
    if signed_in:
        flash(EXPIRED_MESSAGE if kept else "This form expired before it was sent. Fill it in again.", "info")
        return redirect(back, code=303)
    flash(SIGN_IN_MESSAGE, "info")
    return redirect(url_for("auth.login", next=back), code=303)


def keeps_typed_text(page: Callable[..., str] | None = None, *, anchor: str = "") -> Callable[[View], View]:
    """Mark a long form's view (place it under `route` and `csrf.exempt`, above `login_required`).

    `page` gives the address of the page that shows the form from the view's arguments
    (the view's own address when not given: a view that answers GET and POST); `anchor`
    is the form's id on it. See the module's docstring for what the mark does.
    """

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(**kwargs: Any) -> Any:
            if request.method != "POST":
                return view(**kwargs)
            target = page(**kwargs) if page is not None else request.path
            if not current_user.is_authenticated or _token_refused():
                return _keep(target, anchor)
            answer = view(**kwargs)
            if isinstance(answer, Response) and 300 <= answer.status_code < 400:
                # Sent and taken: the drafts of this page have done their work.
                with unit_of_work():
                    service.discard_drafts(current_user.id, {urlsplit(target).path, request.path})
            return answer

        # The session check lets such a post through signed out, so that it is kept here.
        wrapper.keeps_text_when_signed_out = True  # type: ignore[attr-defined]
        # Marks the view as a long form (the bad-input suite expects a stale token to be kept, not refused).
        wrapper.keeps_typed_text = True  # type: ignore[attr-defined]
        return cast(View, wrapper)

    return decorate


def restored_fields(path: str | None = None) -> MultiDict[str, str] | None:
    """On a form's page: the fields of the draft named by `?draft=`, if the signed-in viewer typed it; else None.

    A draft nobody owns yet comes back only in the browser that posted it, and becomes
    the viewer's (see `service.claim_draft`). When fields come back, a message says they
    were kept and not sent. `path` is the page's address (the request's by default).
    """
    token = request.args.get("draft")
    if not token or not current_user.is_authenticated:
        return None
    kept_here = _kept_here()
    posted_here = token in kept_here
    with unit_of_work():
        draft = service.claim_draft(token, path or request.path, owner_id=current_user.id, posted_here=posted_here)
        owned = draft is not None and draft.owner_id is not None
    if draft is None:
        return None
    if owned and posted_here:
        # Now the viewer's own draft: the session need not vouch for it any more.
        session[KEPT_HERE] = [kept for kept in kept_here if kept != token]
    flash(KEPT_MESSAGE, "info")
    return MultiDict([(name, value) for name, values in draft.fields.items() for value in values])
