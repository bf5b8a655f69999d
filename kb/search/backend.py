"""Which search backend the app uses: `SEARCH_BACKEND=whoosh` (the default) or `postgresql`, chosen once.

`build` makes the app's one `SearchBackend` at start (wrapped in each of `LAYERS`), and
`backend()` hands it to every caller, so nothing else asks which one runs.

Whoosh keeps an index in files beside the app (one host; any database). The PostgreSQL
backend keeps weighted tsvector documents in the database itself, so every process on
every host searches the same documents; it needs a PostgreSQL database. docs/search.md
says when to choose which. Whoosh on a PostgreSQL database is right for one host only;
`divergence_warning` says so (at start and in `/readyz`) unless `SEARCH_ONE_HOST=1`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from flask import Flask, current_app

from kb.config import ConfigurationError
from kb.search.interface import SearchBackend
from kb.search.meaning import layer as meaning_layer
from kb.search.pg.backend import PostgresBackend
from kb.search.storage import IndexStore
from kb.search.whoosh_backend import WhooshBackend

WHOOSH = "whoosh"
POSTGRESQL = "postgresql"
BACKENDS = (WHOOSH, POSTGRESQL)
EXTENSION = "kb_search_backend"
STORE_EXTENSION = "kb_search"

LAYERS: tuple[Callable[[SearchBackend, Flask], SearchBackend], ...] = (meaning_layer.make,)
"""Layers wrapped around the chosen backend, innermost first (see `interface.Layer`)."""


def configure(app: Flask) -> str:
    """Settle `SEARCH_BACKEND` (from the app's settings, else the environment) and check it can work."""
    chosen = str(app.config.get("SEARCH_BACKEND") or os.environ.get("SEARCH_BACKEND") or WHOOSH).strip().lower()
    if chosen not in BACKENDS:
        raise ConfigurationError(f"SEARCH_BACKEND must be one of {', '.join(BACKENDS)}, not {chosen!r}")
    database = str(app.config.get("SQLALCHEMY_DATABASE_URI", ""))
    if chosen == POSTGRESQL and not database.startswith("postgresql"):
        raise ConfigurationError("SEARCH_BACKEND=postgresql needs a PostgreSQL database (DATABASE_URL)")
    app.config["SEARCH_BACKEND"] = chosen
    one_host = app.config.get("SEARCH_ONE_HOST", os.environ.get("SEARCH_ONE_HOST", ""))
    app.config["SEARCH_ONE_HOST"] = str(one_host).strip().lower() in {"1", "true", "yes", "on"}
    return chosen


def divergence_warning(app: Flask | None = None) -> str | None:
    """What to set when Whoosh serves a PostgreSQL database, else None (also None with `SEARCH_ONE_HOST`).

    Each host keeps its own Whoosh index, and a change is indexed only by the host that
    saved it, so several hosts on one database search different, incomplete indexes with
    no error anywhere.
    """
    app = app or current_app
    database = str(app.config.get("SQLALCHEMY_DATABASE_URI", ""))
    if app.config.get("SEARCH_BACKEND") != WHOOSH or not database.startswith("postgresql"):
        return None
    if app.config.get("SEARCH_ONE_HOST"):
        return None
    return (
        "Search uses Whoosh (an index in files on this host) with a PostgreSQL database: if more than one host "
        "serves this database, each finds only what was saved on that host. Set SEARCH_BACKEND=postgresql on "
        "every host and run `flask --app kb search rebuild` once; or, if this is the only host, SEARCH_ONE_HOST=1."
    )


def build(app: Flask) -> SearchBackend:
    """Settle `SEARCH_BACKEND`, make that backend (and its layers) once, and keep it on the app.

    The Whoosh index store is made whichever backend runs: commands that manage the
    index's folder (`index_store`) find it either way.
    """
    chosen = configure(app)
    store = IndexStore(Path(app.config["SEARCH_INDEX_DIR"]))
    app.extensions[STORE_EXTENSION] = store
    made: SearchBackend = PostgresBackend() if chosen == POSTGRESQL else WhooshBackend(app, store)
    for layer in LAYERS:
        made = layer(made, app)
    app.extensions[EXTENSION] = made
    return made


def backend(app: Flask | None = None) -> SearchBackend:
    """The app's search backend, made at start by `build`."""
    return (app or current_app).extensions[EXTENSION]


def index_store(app: Flask | None = None) -> IndexStore:
    """The app's Whoosh index folder (for tests, benchmarks and commands that handle its files)."""
    return (app or current_app).extensions[STORE_EXTENSION]
