"""Which search backend the app uses: `SEARCH_BACKEND=whoosh` (the default) or `postgresql`.

Whoosh keeps an index in files beside the app (one host; any database). The PostgreSQL
backend keeps weighted tsvector documents in the database itself, so every process on
every host searches the same documents; it needs a PostgreSQL database. docs/search.md
says when to choose which.
"""

from __future__ import annotations

import os

from flask import Flask, current_app

from kb.config import ConfigurationError

WHOOSH = "whoosh"
POSTGRESQL = "postgresql"
BACKENDS = (WHOOSH, POSTGRESQL)


def configure(app: Flask) -> str:
    """Settle `SEARCH_BACKEND` (from the app's settings, else the environment) and check it can work."""
    chosen = str(app.config.get("SEARCH_BACKEND") or os.environ.get("SEARCH_BACKEND") or WHOOSH).strip().lower()
    if chosen not in BACKENDS:
        raise ConfigurationError(f"SEARCH_BACKEND must be one of {', '.join(BACKENDS)}, not {chosen!r}")
    database = str(app.config.get("SQLALCHEMY_DATABASE_URI", ""))
    if chosen == POSTGRESQL and not database.startswith("postgresql"):
        raise ConfigurationError("SEARCH_BACKEND=postgresql needs a PostgreSQL database (DATABASE_URL)")
    app.config["SEARCH_BACKEND"] = chosen
    return chosen


def uses_postgresql(app: Flask | None = None) -> bool:
    """Whether the app searches with the PostgreSQL backend."""
    return (app or current_app).config.get("SEARCH_BACKEND") == POSTGRESQL
