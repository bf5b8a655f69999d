"""Domain exceptions and the site's error pages.

Every exception kb raises on purpose derives from `KbError`, most through one of five
kinds: `NotFoundError`, `NotAllowedError`, `ConflictError`, `InvalidInputError`,
`UnavailableError`. A kind that leaves a view unhandled is answered here, once: the
request's work is rolled back and the kind's page is shown with its status. Views catch
a domain error only to do something else with it (show the form again with what was
typed and the message).

A view's one write is a unit of work (`with unit_of_work(): ...`): committed when it
finishes, rolled back when anything is raised inside it, so a view never rolls back by
hand and nothing half-written is kept or shown.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, default_exceptions
from werkzeug.wrappers import Response

from kb.api.problems import http_problem, is_api_request, problem
from kb.extensions import db


class KbError(Exception):
    """Base of every exception kb raises on purpose; `status` is the HTTP status its kind answers with."""

    status = 500


class NotFoundError(KbError, LookupError):
    """The thing asked for does not exist, or the viewer may not know it does."""

    status = 404


class NotAllowedError(KbError):
    """The actor may not do this. Answered 404 (a refusal hides the thing) except where `REFUSED_OPENLY` says."""

    status = 404


class ConflictError(KbError):
    """The thing changed under the person, or is in a state that does not allow this now."""

    status = 409


class InvalidInputError(KbError, ValueError):
    """What was sent cannot be accepted as it is; the message says why, in words for the person."""

    status = 400


class UnavailableError(KbError):
    """Something kb depends on (the index, the mail server) cannot be used now."""

    status = 503


KINDS: tuple[type[KbError], ...] = (
    NotFoundError,
    NotAllowedError,
    ConflictError,
    InvalidInputError,
    UnavailableError,
)
"""The kinds answered with their own status and page when no view handles them."""

REFUSED_OPENLY = frozenset({"comments", "consultations", "contributions"})
"""Blueprints whose refusals answer 403 rather than 404.

Their pages act on an entry the viewer can read (comment on it, answer or set up its
consultation, change or submit their own lesson), so "you cannot do that" hides nothing.
Everywhere else (panels, moderation, analysis, admin, following) a refusal answers 404,
as if the thing were not there.
"""

log = logging.getLogger(__name__)

SECRET_FIELDS = frozenset({"csrf_token", "password", "current", "confirm", "code"})


def _http_error(error: HTTPException) -> tuple[str, int] | Response:
    if is_api_request():
        return http_problem(error)
    return error_page(error)


def error_page(error: HTTPException) -> tuple[str, int]:
    """The site's page for an HTTP error, for error handlers, which must answer rather than call `abort()`."""
    code = error.code or 500
    return render_template("errors/http.html", error=error, code=code), code


def discard_work() -> None:
    """Roll back whatever the request's session holds; a connection already gone is left to the teardown."""
    try:
        db.session.rollback()
    except Exception:  # An outage: its own handler answers, and the session is removed at teardown anyway.
        log.debug("Rolling back after an error failed too", exc_info=True)


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit the session when the block finishes; on anything raised in it (or by the commit), roll back and re-raise.

    The view catches, outside the block, only the errors it answers itself (a form shown
    again with the message); every other error reaches the handlers with nothing kept.
    """
    try:
        yield
        db.session.commit()
    except BaseException:
        discard_work()
        raise


def _domain_error(error: KbError) -> tuple[str, int] | Response:
    """The page for a domain error no view handled: the request's work is rolled back, then its kind answers."""
    discard_work()
    code = error.status
    if isinstance(error, NotAllowedError) and request.blueprint in REFUSED_OPENLY:
        code = 403
    if is_api_request():
        # The API's own refusals are raised as ApiProblem; a domain error reaching here says only its kind.
        return problem(code, default_exceptions[code].description or "")
    return _http_error(default_exceptions[code]())


def _csrf_error(error: CSRFError) -> tuple[str, int] | Response:
    """A refused form: say why, and show back what was typed so nothing is lost."""
    if is_api_request():
        return problem(400, f"The CSRF token is missing or invalid: {error.description}")
    typed = [
        (name, value) for name, value in request.form.items(multi=True) if name not in SECRET_FIELDS and value.strip()
    ]
    return render_template("errors/csrf.html", typed=typed, reason=error.description), 400


def _server_error(error: Exception) -> tuple[str, int] | Response:
    """The 500 page; or the 503 page for a database outage that no other handler saw.

    Flask hands a failure in an after-request hook (the rate limiter reads its counters
    there for its headers) only to this handler, wrapped as a 500. The view has finished
    by then, so what was sent may have been saved: the page says so.
    """
    from kb.unavailable import database_unavailable, is_outage  # kb.unavailable imports this module.

    original = getattr(error, "original_exception", None)
    if isinstance(original, Exception) and is_outage(original):
        return database_unavailable(original, after_view=True)
    db.session.rollback()
    if is_api_request():
        return problem(500, "Something went wrong on kb's side. Try again later.")
    return render_template("errors/500.html"), 500


def init_app(app: Flask) -> None:
    """Show every HTTP error and every unexpected failure in the site's own style."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(500, _server_error)
    for kind in KINDS:
        app.register_error_handler(kind, _domain_error)
