"""Who an API request acts as: a personal access token, a signed-in browser, or nobody.

- `Authorization: Bearer kb_...` names an API token (`kb.access.service.authenticate`).
  Such a request never reads or sets a cookie (`kb.cookieless`).
  It acts as `viewer_for(token.user)`; it needs no CSRF token, and writes need a
  read-write token. A token that is not live answers 401 with `WWW-Authenticate: Bearer`.
- Without that header a signed-in browser's cookie works as on pages, and its writes keep
  CSRF (the `X-CSRFToken` header, as Flask-WTF reads it).
- Anonymous readers read what the public reads; writes need someone (401).

The API's rate limit is counted per live token, else per signed-in account, else per
address: a token that does not authenticate counts against its address, so made-up
tokens share one allowance.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from kb.access.models import AccessToken
from kb.access.service import authenticate
from kb.api.problems import ApiProblem
from kb.cookieless import bearer_token
from kb.errors import unit_of_work
from kb.extensions import csrf
from kb.permissions import ANONYMOUS, Viewer, viewer_for
from kb.states import TokenKind
from kb.users.models import User

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="kb"'}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
AUTHENTICATED_KEY = "kb.api.token"


def live_token() -> AccessToken | None:
    """The request's live API token, authenticated once per request (the rate limits ask before `identify`)."""
    if AUTHENTICATED_KEY not in request.environ:  # the environ, not `g`: a test's app context outlives its requests
        token_text = bearer_token(request)
        row = None
        if token_text is not None:
            with unit_of_work():  # commits the token's last use, written at most once a minute
                row = authenticate(token_text, TokenKind.API)
        request.environ[AUTHENTICATED_KEY] = row
    found: AccessToken | None = request.environ[AUTHENTICATED_KEY]
    return found


def rate_key() -> str:
    """The API's rate-limit key: the live token, else the signed-in account, else the client's address."""
    row = live_token()
    if row is not None:
        return f"api-token:{row.id}"
    if bearer_token(request) is None and current_user.is_authenticated:
        return f"api-user:{current_user.id}"
    return f"api-address:{get_remote_address()}"


def person_key(kind: str) -> str:
    """A per-person rate-limit key for `kind` of post, as `kb.extensions.per_person` makes it for pages.

    The token's owner, else the signed-in account, else the address: the API and the
    browser's form share one allowance per person.
    """
    row = live_token()
    if row is not None:
        return f"{kind}-user:{row.user_id}"
    if bearer_token(request) is None and current_user.is_authenticated:
        return f"{kind}-user:{current_user.id}"
    return f"{kind}-address:{get_remote_address()}"


def identify() -> None:
    """The API blueprint's first hook: who the request acts as (`g.viewer`, `g.api_actor`, `g.api_token`).

    Raises `ApiProblem` 401 for a token that is not live, and a CSRF error (400) for a
    cookie-signed write without a valid token.
    """
    token_text = bearer_token(request)
    g.api_token = None
    g.api_actor = None
    if token_text is not None:
        row = live_token()
        if row is None:
            raise ApiProblem(401, "The token is missing, unknown, expired or revoked.", headers=CHALLENGE)
        g.api_token = row
        g.api_actor = row.user
        g.viewer = viewer_for(row.user)
        return
    if current_user.is_authenticated:
        g.api_actor = current_user._get_current_object()
        if request.method in WRITE_METHODS:
            try:
                csrf.protect()
            except CSRFError as error:
                raise ApiProblem(400, f"The CSRF token is missing or invalid: {error.description}") from None


def api_viewer() -> Viewer:
    """The viewer of the current API request (anonymous when nobody is identified)."""
    return g.get("viewer", ANONYMOUS)


def writer() -> User:
    """The account a write acts as; raises `ApiProblem` 401 for nobody, 403 for a read-only token."""
    actor: User | None = g.get("api_actor")
    if actor is None:
        raise ApiProblem(401, "Writing needs a read-write API token or a signed-in session.", headers=CHALLENGE)
    token: AccessToken | None = g.get("api_token")
    if token is not None and not token.can_write:
        raise ApiProblem(403, "This token may only read. Make a read-write token to write.")
    return actor


def limit_value() -> str:
    """The API's rate limit from the settings (`API_LIMIT`)."""
    value: Any = current_app.config["API_LIMIT"]
    return str(value)
