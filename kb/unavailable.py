"""When the database cannot be reached: every page answers 503 with a friendly page, and recovers by itself.

A lost connection, a database that is restarting, a pool that stays exhausted or a
locked SQLite file all surface as SQLAlchemy's `OperationalError`, `InterfaceError` or
pool `TimeoutError`. The request is answered with 503 and `Retry-After`, the details
go to the log (with the request id) and never to the page. Nothing is kept between
requests: the next request takes a connection from the pool again (SQLAlchemy drops
connections that broke, and `pool_pre_ping` tests each one before use), so when the
database is back the site is too, without a restart.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, render_template, request
from sqlalchemy import exc
from werkzeug.wrappers import Response

from kb.api.problems import is_api_request, problem
from kb.errors import SECRET_FIELDS
from kb.extensions import db, login_manager
from kb.permissions import ANONYMOUS

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
DATABASE_UNAVAILABLE = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError)
"""What SQLAlchemy raises when the database is unreachable, restarting, locked or out of connections."""
SQLITE_OUTAGES = (
    "unable to open database file",
    "database is locked",
    "database table is locked",
    "disk i/o error",
    "database or disk is full",
    "readonly database",
)
"""SQLite reports a missing table or a syntax error as an `OperationalError` too; only these are outages."""


def is_outage(error: Exception) -> bool:
    """Whether a database error means the database cannot be used now (503), rather than a fault in kb (500).

    PostgreSQL's driver raises `OperationalError` only for connection and server trouble;
    SQLite's also for SQL it cannot run, so its message decides.
    """
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if not isinstance(error, exc.OperationalError):
        return isinstance(error, DATABASE_UNAVAILABLE)
    original = getattr(error, "orig", None)
    if type(original).__module__.startswith("sqlite3"):
        message = str(original).lower()
        return any(outage in message for outage in SQLITE_OUTAGES)
    return True


FALLBACK_PAGE = (
    "<!DOCTYPE html><html lang=en-GB><head><meta charset=utf-8><title>Service unavailable – kb</title></head>"
    "<body><main><h1>Sorry, the service is unavailable</h1>"
    "<p>kb cannot reach its database just now. Try again in a few minutes.</p></main></body></html>"
)


def _forget_viewer() -> None:
    """Draw the page for nobody in particular, so that drawing it asks the database nothing.

    Flask-Login would otherwise try to load the signed-in user again for the header,
    and the header's counts would query for them.
    """
    g._login_user = login_manager.anonymous_user()
    g.viewer = ANONYMOUS


def _typed_text() -> list[tuple[str, str]]:
    """What a refused form carried, minus secrets, so the page can give it back."""
    if request.method != "POST":
        return []
    return [
        (name, value) for name, value in request.form.items(multi=True) if name not in SECRET_FIELDS and value.strip()
    ]


def _discard_session() -> None:
    try:
        db.session.rollback()
    except Exception:  # The connection is gone; the session is removed at teardown anyway.
        log.debug("Rolling back after a database failure failed too", exc_info=True)


def database_unavailable(error: Exception, *, after_view: bool = False) -> Response:
    """The 503 page (a problem document under `/api/`) for a request that could not reach the database.

    The error is logged, not shown.

    `after_view` says the database went away after the view had finished, so what was sent
    may have been saved and the page must not say it was lost. Raises `error` again when it
    is a fault in kb rather than an outage, for the 500 page.
    """
    if not is_outage(error):
        raise error
    first_line = (str(error).splitlines() or [""])[0][:300]
    log.error("Database unavailable, answered 503: %s: %s", type(error).__name__, first_line)
    _discard_session()
    _forget_viewer()
    if is_api_request():
        saved = " What was sent may have been saved: check before sending it again." if after_view else ""
        return problem(
            503,
            "kb cannot reach its database just now. Try again in a few minutes." + saved,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    try:
        body = render_template(
            "errors/503.html", typed=_typed_text(), after_view=after_view, retry_after=RETRY_AFTER_SECONDS
        )
    except Exception:  # The page itself must not fail: a plain one is better than a stack trace.
        log.exception("The 503 page could not be drawn; sent the plain one")
        body = FALLBACK_PAGE
    response = current_app.response_class(body, status=503, mimetype="text/html")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def end_session(exception: BaseException | None = None) -> None:
    """Remove the request's session at the end of its app context, whatever became of its connection.

    Removing it rolls back over the connection; when the database cut the connection after
    the answer was made (a restart), that would raise out of the request, after every error
    handler, and gunicorn would answer 500. The cut connection is thrown away instead.
    """
    try:
        db.session.remove()
    except exc.SQLAlchemyError as error:
        log.warning("Database connection lost at the end of a request: %s", type(error).__name__)
        db.session().invalidate()
        db.session.remove()


def init_app(app: Flask) -> None:
    """Answer 503 whenever a request of `app` meets an unreachable database."""
    for error_class in DATABASE_UNAVAILABLE:
        app.register_error_handler(error_class, database_unavailable)
    # Runs before Flask-SQLAlchemy's own removal (teardowns run last registered first), which then has nothing to do.
    app.teardown_appcontext(end_session)
