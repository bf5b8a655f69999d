"""Probes for load balancers and orchestrators: `/healthz` (alive and connected) and `/readyz` (ready for traffic).

Both answer JSON, 200 when every check passes and 503 otherwise, with one entry per
check. Failure details go to the log, not the answer, which anyone can read.

- `/healthz`: the database answers a query, and search can be reached (the Whoosh index
  opens and reads, or is being rebuilt, in which case the site still serves and says so).
- `/readyz`: the database answers and its schema is at the latest migration, and the
  search index is open (not missing, damaged or being rebuilt). A host that is not ready
  is left out of rotation until it is. Its `warnings` list what is wrong without stopping
  the host from serving: Whoosh searching a PostgreSQL database, which is right for one
  host only (every host would fail the probe alike, so failing it would take the whole
  site down to fix what only search suffers from), and requests forwarded by a proxy kb
  was not told of (`KB_PROXY_HOPS`), which makes every client look like one address.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import text
from werkzeug.wrappers import Response

from kb.database import schema_revision
from kb.extensions import db
from kb.search.backend import backend, divergence_warning
from kb.search.queue import failing_count

log = logging.getLogger(__name__)

blueprint = Blueprint("health", __name__)


@dataclass(frozen=True)
class Check:
    """The outcome of one check: passed or not, a short public reason, and how long it took."""

    ok: bool
    detail: str
    ms: float = 0.0

    def as_json(self) -> dict[str, object]:
        """The check as shown in the probe's answer."""
        return {"ok": self.ok, "detail": self.detail, "ms": self.ms}


def _timed(check: Callable[[], Check]) -> Check:
    started = time.perf_counter()
    result = check()
    return Check(result.ok, result.detail, round((time.perf_counter() - started) * 1000, 1))


def _failed(what: str, error: Exception) -> Check:
    first_line = (str(error).splitlines() or [""])[0][:300]
    log.error("Health check: %s failed: %s: %s", what, type(error).__name__, first_line)
    return Check(False, f"{what} unreachable")


def check_database() -> Check:
    """The database answers a query on a connection of its own."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # Whatever the driver raises, the answer is "not reachable".
        return _failed("database", error)
    return Check(True, "reachable")


def _latest_migrations() -> frozenset[str]:
    """The head revisions of the migrations shipped with this code (read once per process)."""
    heads = current_app.extensions.get("kb_migration_heads")
    if heads is None:
        config = current_app.extensions["migrate"].migrate.get_config()
        heads = frozenset(ScriptDirectory.from_config(config).get_heads())
        current_app.extensions["kb_migration_heads"] = heads
    return heads


def check_schema() -> Check:
    """The database's schema is at the latest migration of this code."""
    try:
        revision = schema_revision()
    except Exception as error:
        return _failed("database", error)
    if revision not in _latest_migrations():
        log.warning("Ready check: the database is at migration %s, not the latest", revision or "empty")
        return Check(False, "database schema is not at the latest migration; run `flask --app kb db upgrade`")
    return Check(True, "at the latest migration")


def _with_unwritten_changes(check: Check) -> Check:
    """`check`, its detail saying how many saved changes could not be written to the index yet, if any.

    Search still answers (without those changes), so this alone does not fail a probe;
    the changes are retried by later searches and saves.
    """
    try:
        waiting = failing_count(db.session())
    except Exception:  # The database check reports (and logs) a database that cannot be read.
        return check
    if not waiting:
        return check
    log.error("Health check: %s saved changes could not be written to the search index yet", waiting)
    plural = "change" if waiting == 1 else "changes"
    return Check(check.ok, f"{check.detail}; {waiting} saved {plural} not in it yet: writing it failed, retrying")


def check_search(*, rebuilding_is_ok: bool) -> Check:
    """Search can be used: the backend says it can serve (a Whoosh index opens and reads).

    The detail also says when saved changes wait because writing the index failed.
    """
    try:
        status = backend().status()
    except Exception as error:
        return _failed("search index", error)
    problem = status.problem
    if problem is None:
        return _with_unwritten_changes(Check(True, status.detail))
    if status.rebuilding:
        log.warning("Health check: the search index is being rebuilt")
        return Check(rebuilding_is_ok, "index is being rebuilt")
    log.error("Health check: search index unusable: %s", problem)
    return Check(False, "index missing or damaged")


def _answer(checks: dict[str, Check], warnings: list[str] | None = None) -> tuple[Response, int]:
    ok = all(check.ok for check in checks.values())
    body: dict[str, object] = {
        "status": "ok" if ok else "unavailable",
        "checks": {name: check.as_json() for name, check in checks.items()},
    }
    if warnings is not None:
        body["warnings"] = warnings
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if ok else 503


UNDECLARED_PROXY_WARNING = (
    "Requests arrive with an X-Forwarded-For header but KB_PROXY_HOPS is 0, so every client looks like the "
    "proxy: rate limits and sign-in throttling count the whole site as one address. Set KB_PROXY_HOPS to the "
    "number of proxies in front of kb (docs/deployment.md)."
)
_FORWARDED_SEEN = "kb_forwarded_without_hops"


def watch_for_an_undeclared_proxy(app: Flask) -> None:
    """Warn once per process, in the log and in `/readyz`, when a proxy forwards requests that kb was not told of."""
    inner = app.wsgi_app

    def watching(environ: dict[str, Any], start_response: Any) -> Any:
        if "HTTP_X_FORWARDED_FOR" in environ and not app.extensions.get(_FORWARDED_SEEN):
            app.extensions[_FORWARDED_SEEN] = True
            log.warning(UNDECLARED_PROXY_WARNING)
        return inner(environ, start_response)

    app.wsgi_app = watching  # type: ignore[method-assign]


def _warnings() -> list[str]:
    found = [warning] if (warning := divergence_warning()) else []
    if current_app.extensions.get(_FORWARDED_SEEN):
        found.append(UNDECLARED_PROXY_WARNING)
    return found


@blueprint.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Alive and connected: the database answers and search is reachable (a rebuild in progress counts)."""
    return _answer({"database": _timed(check_database), "search": _timed(lambda: check_search(rebuilding_is_ok=True))})


@blueprint.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Ready for traffic: the schema is at the latest migration and the search index is open; warnings beside."""
    checks = {"database": _timed(check_schema), "search": _timed(lambda: check_search(rebuilding_is_ok=False))}
    return _answer(checks, _warnings())
