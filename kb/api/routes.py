"""Binding the API to the app: its blueprint with the token doorway, rate limit and headers, and its documents.

`/api/v1/openapi.json` is the OpenAPI 3.1 document (`kb.api.openapi`); `/api/v1/docs`
is the same read as a page. Every answer under `/api/` is private to its reader and
varies with who asks.
"""

from __future__ import annotations

from flask import Flask, render_template, request, url_for
from werkzeug.wrappers import Response

from kb.api import auth, reads, writes  # noqa: F401 (their views join the blueprint on import)
from kb.api.auth import CHALLENGE
from kb.api.blueprint import blueprint
from kb.api.cursors import allow_only
from kb.api.openapi import document, operations
from kb.api.problems import json_response, problem
from kb.extensions import csrf, limiter

blueprint.before_request(auth.identify)
csrf.exempt(blueprint)  # token requests need none; `auth.identify` checks cookie-signed writes itself
limiter.limit(auth.limit_value, key_func=auth.rate_key)(blueprint)


@blueprint.after_request
def _private(response: Response) -> Response:
    """Answers depend on who asks: never kept by a shared cache.

    The session hooks send a browser elsewhere on pages; here a session that ran out answers
    401 and one held at set-up (a staff account without its second factor) answers 403.
    Only the redirect back to the same address (a remembered sign-in starting again) stays.
    """
    if response.status_code in (302, 303) and response.location != request.full_path:
        if (response.location or "").startswith(url_for("auth.login")):
            response = problem(401, "The session has ended: sign in again, or use an API token.", headers=CHALLENGE)
        else:
            response = problem(403, "Finish setting up your account on kb's pages first, or use an API token.")
    response.headers["Cache-Control"] = "private, no-store"
    response.vary.update(("Authorization", "Cookie"))
    return response


@blueprint.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 document of this API."""
    allow_only()
    return json_response(document())


@blueprint.get("/docs")
def docs() -> str:
    """The API described for people: how to authenticate, each operation with its parameters and an example."""
    allow_only()
    return render_template("api/docs.html", operations=operations(), spec=document())


def init_app(app: Flask) -> None:
    """Bind the API's blueprint."""
    app.register_blueprint(blueprint)
