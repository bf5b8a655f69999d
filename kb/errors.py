"""Domain exceptions and the site's error pages."""

from __future__ import annotations

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

from kb.extensions import db


def _http_error(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    return render_template("errors/http.html", error=error, code=code), code


def _server_error(error: Exception) -> tuple[str, int]:
    db.session.rollback()
    return render_template("errors/500.html"), 500


def init_app(app: Flask) -> None:
    """Show every HTTP error and every unexpected failure in the site's own style."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(500, _server_error)
