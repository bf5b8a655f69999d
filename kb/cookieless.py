"""Requests that never use a browser's cookie session: API calls with a bearer token, feeds, robots.txt, the sitemap.

Such a request is read as a token's owner or as a signed-out visitor, whatever cookies the
browser sends. It gets an empty session that is never read from a cookie nor saved, so it
sends no `Set-Cookie`, and Flask-Login is told nobody is signed in before it looks at a
cookie: an ended browser session never turns a feed address into a sign-in redirect.
"""

from __future__ import annotations

from flask import Flask, Request, g, request
from flask import Response as FlaskResponse
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin

from kb.extensions import login_manager

API_PREFIX = "/api/"
BEARER = "bearer "
FEEDS_PREFIX = "/feeds/"
DISCOVERY_PATHS = frozenset({"/robots.txt", "/sitemap.xml"})
"""With the feeds, the paths read as a signed-out visitor or by a feed token (`kb.feeds`)."""


def bearer_token(req: Request) -> str | None:
    """The token in an API request's `Authorization: Bearer` header (maybe empty); None without such a header."""
    if not req.path.startswith(API_PREFIX):
        return None
    header = req.headers.get("Authorization", "")
    if header[: len(BEARER)].lower() != BEARER:
        return None
    return header[len(BEARER) :].strip()


def is_cookieless(req: Request) -> bool:
    """Whether `req` is an API call with a bearer token or a read of a feed, robots.txt or the sitemap."""
    return req.path.startswith(FEEDS_PREFIX) or req.path in DISCOVERY_PATHS or bearer_token(req) is not None


class CookielessSessions(SecureCookieSessionInterface):
    """The cookie session for browsers; for a cookieless request, an empty session never read nor saved."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """A cookieless request's empty session, else the cookie's."""
        if is_cookieless(request):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: FlaskResponse) -> None:
        """Nothing for a cookieless request (no `Set-Cookie`), else the cookie as usual."""
        if is_cookieless(request):
            return
        super().save_session(app, session, response)


def _nobody_signed_in() -> None:
    """For a cookieless request, tell Flask-Login nobody is signed in before it reads the remember-me cookie."""
    if is_cookieless(request):
        g._login_user = login_manager.anonymous_user()


def init_app(app: Flask) -> None:
    """Give cookieless requests empty sessions; call before `kb.users.sessions.init_app`, so this hook runs first."""
    app.session_interface = CookielessSessions()
    app.before_request(_nobody_signed_in)
