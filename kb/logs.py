"""Structured logs: one JSON object a line, each carrying the request id of the request it belongs to.

Every request gets an id: the caller's `X-Request-ID` when it is a sensible token (a
proxy or load balancer in front usually sets one), else a new random one. The id is
returned in the response's `X-Request-ID` header and added to every log record written
while the request runs, so one request can be followed through the proxy's, gunicorn's
and kb's logs. `gunicorn.conf.py` installs `JsonFormatter` and `RequestIdFilter` through
`logging_config()`; `flask run` keeps Python's plain format.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Mapping
from typing import Any

from flask import Flask, g, has_request_context, request
from werkzeug.wrappers import Response

REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
"""A caller's request id is kept only if it is short and made of token characters (no spaces or quotes)."""

_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
"""Attributes every log record has; anything else on a record was passed in `extra=` and is logged too."""

ACCESS_LOGGER = "gunicorn.access"
_TOKEN_VALUE = re.compile(r"(^|&|%26|%3F)(token=|token%3D)(?:(?!%26)[^&])*", re.IGNORECASE)
"""A personal feed token in a query string (`/feeds/all.atom?token=kb_...`), also percent-encoded inside
another parameter (`next=%2Ffeeds%2Fall.atom%3Ftoken%3Dkb_...`): kept out of request lines."""
_EMERGENCY_LINK = re.compile(r"(/login/emergency/)[^/?]+")
"""An admin's one-time emergency sign-in link (`/login/emergency/<token>`): its token is kept out of request lines."""


def request_id_from(header: str | None) -> str:
    """The id for a request: the caller's `X-Request-ID` when acceptable, else a new random one."""
    candidate = (header or "").strip()
    if _ACCEPTED_ID.fullmatch(candidate):
        return candidate
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The id of the request being handled, or None outside a request."""
    if not has_request_context():
        return None
    return g.get("request_id")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record written while a request is handled (None outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Never drops a record; only annotates it."""
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        return True


def _access_fields(atoms: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of one gunicorn access-log line, from gunicorn's named atoms."""
    sent = atoms.get("B")
    return {
        "event": "request",
        "method": atoms.get("m"),
        "path": _EMERGENCY_LINK.sub(r"\1[hidden]", str(atoms["U"])) if atoms.get("U") is not None else None,
        "query": _TOKEN_VALUE.sub(r"\1\2[hidden]", str(atoms.get("q") or "")) or None,
        "status": int(atoms["s"]) if str(atoms.get("s", "")).isdigit() else atoms.get("s"),
        "bytes": sent if isinstance(sent, int) else None,
        "duration_ms": round(int(atoms.get("D") or 0) / 1000, 1),
        "remote_addr": atoms.get("h"),
        "user_agent": atoms.get("a"),
        "request_id": atoms.get("{x-request-id}o") or None,
    }


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON: time (UTC), level, logger, message, request id, extras.

    gunicorn's access records become structured request lines (method, path, status,
    duration, request id) instead of the Apache format string.
    """

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON object on one line."""
        fields: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        if record.name == ACCESS_LOGGER and isinstance(record.args, Mapping):
            fields.update(_access_fields(record.args))
        else:
            fields["message"] = record.getMessage()
            fields["request_id"] = getattr(record, "request_id", None)
        for name, value in vars(record).items():
            if name not in _RECORD_FIELDS and name not in fields:
                fields[name] = value
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return json.dumps(fields, default=str, ensure_ascii=False)


def logging_config(level: str = "INFO", *, access: bool = True) -> dict[str, Any]:
    """A `logging.config.dictConfig` that writes JSON lines to standard error, for gunicorn's `logconfig_dict`.

    kb's own loggers, gunicorn's error log and (unless `access` is false) its one line per
    request all go through it.
    """
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "json",
        "filters": ["request_id"],
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"json": handler},
        "root": {"level": level, "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": ["json"], "propagate": False},
            ACCESS_LOGGER: {"level": "INFO" if access else "CRITICAL", "handlers": ["json"], "propagate": False},
            # Alembic says which plug-ins it loaded at every start; only its warnings matter here.
            "alembic": {"level": "WARNING"},
        },
    }


def _start_request() -> None:
    g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))


def _return_request_id(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    return response


def init_app(app: Flask) -> None:
    """Give every request of `app` an id and return it in the `X-Request-ID` response header.

    Registered before any other hook, so even a request refused early has its id.
    """
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_return_request_id)
