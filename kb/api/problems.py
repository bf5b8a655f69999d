"""JSON answers of the API and its errors as `application/problem+json` (RFC 9457).

Every error under `/api/` is a problem document: `type`, `title`, `status`, `detail`, and
`errors` (one message per field) for input that cannot be taken. `kb.errors` asks
`is_api_request()` and answers with `problem()` there, so pages keep their HTML errors.
JSON is written with `<`, `>` and `&` escaped, so no answer can be read as markup.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Response, has_request_context, request
from werkzeug.exceptions import HTTPException

API_PREFIX = "/api/"
PROBLEM_TYPE = "application/problem+json"
PROBLEM_BASE = "https://kb.invalid/problems/"
"""Problem types are names under this base; `docs/api.md` lists them (they are identifiers, not pages)."""


def is_api_request() -> bool:
    """Whether the current request is for the API (its path starts `/api/`)."""
    return has_request_context() and request.path.startswith(API_PREFIX)


def dumps(value: Any) -> str:
    """`value` as compact JSON with `<`, `>` and `&` escaped, so no browser can read it as HTML."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def json_response(value: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON answer of `value`."""
    return Response(dumps(value), status=status, mimetype="application/json", headers=dict(headers or {}))


def problem_type(status: int) -> str:
    """The problem type of a status: a stable identifier naming the kind of error."""
    slug = HTTPStatus(status).phrase.lower().replace(" ", "-") if status in HTTPStatus._value2member_map_ else "error"
    return PROBLEM_BASE + slug


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    errors: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A problem document answering with `status`; `errors` names what is wrong with each field."""
    known = status in HTTPStatus._value2member_map_
    body: dict[str, Any] = {
        "type": problem_type(status),
        "title": title or (HTTPStatus(status).phrase if known else "Error"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = dict(errors)
    response = Response(dumps(body), status=status, mimetype=PROBLEM_TYPE, headers=dict(headers or {}))
    response.headers["Cache-Control"] = "no-store"
    return response


class ApiProblem(HTTPException):
    """An API answer that is an error: raised by views and hooks, answered by `kb.errors` as a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.code = status
        self.errors = dict(errors or {})
        self.extra_headers = dict(headers or {})


def http_problem(error: HTTPException) -> Response:
    """The problem document for any HTTP error raised under `/api/`, keeping the headers it carries."""
    code = error.code or 500
    if isinstance(error, ApiProblem):
        return problem(code, error.description or "", errors=error.errors, headers=error.extra_headers)
    headers = {
        name: value
        for name, value in error.get_headers()
        if name.lower() in ("retry-after", "allow", "www-authenticate") or name.lower().startswith("x-ratelimit")
    }
    detail = error.description or HTTPStatus(code).phrase
    if code == 429:
        detail = f"Too many requests: the limit is {error.description}. Wait, then try again."
    return problem(code, detail, headers=headers)
