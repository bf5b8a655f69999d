"""Domain exceptions and the site's error pages."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from kb.extensions import db

SECRET_FIELDS = frozenset({"csrf_token", "password", "current", "confirm", "code"})


def _http_error(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    return render_template("errors/http.html", error=error, code=code), code


def error_page(error: HTTPException) -> tuple[str, int]:
    """The site's page for an HTTP error, for error handlers, which must answer rather than call `abort()`."""
    return _http_error(error)


def _csrf_error(error: CSRFError) -> tuple[str, int]:
    """A refused form: say why, and show back what was typed so nothing is lost."""
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
    return render_template("errors/500.html"), 500


def init_app(app: Flask) -> None:
    """Show every HTTP error and every unexpected failure in the site's own style."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(500, _server_error)
