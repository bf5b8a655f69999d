"""Rate-limit counters kept in a SQL database, so every worker on every host counts the same attempts.

Flask-Limiter keeps its counters in the storage named by `RATELIMIT_STORAGE_URI`. The
default, `memory://`, is private to one process: with four gunicorn workers a limit of
six sign-in attempts would allow twenty-four. Set `RATELIMIT_STORAGE_URI=database` to
keep them in kb's own database (a table `kb_rate_limits`, made on first use), or
`kb+<SQLAlchemy URL>` to keep them in another database; `redis://...` and
`memcached://...` work too, with their client packages installed.

The counters are fixed windows (Flask-Limiter's default strategy): a counter starts at
the first attempt and is forgotten when its window ends. One statement increments or
restarts a counter, so two processes counting at once both count.
"""

from __future__ import annotations

import random
import time
from typing import Any, ClassVar

from flask import Flask
from limits.storage import Storage
from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    case,
    create_engine,
    delete,
    exc,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite

SCHEME_PREFIX = "kb+"
SAME_DATABASE = "database"
# Outside the models' metadata on purpose: the storage makes its table itself, in whichever database it is given.
counters = Table(
    "kb_rate_limits",
    MetaData(),
    Column("limit_key", String(512), primary_key=True),
    Column("hits", Integer, nullable=False),
    Column("expires_at", Float, nullable=False),
)
PURGE_ONE_IN = 500
"""About one increment in this many also deletes every counter whose window has ended."""


def _with_psycopg(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


class DatabaseStorage(Storage):
    """Flask-Limiter storage on a SQL database (SQLite 3.35+ or PostgreSQL): `kb+<SQLAlchemy URL>`."""

    # limits reads the schemes from the class when it registers it, but types them as an instance attribute.
    STORAGE_SCHEME: ClassVar[list[str]] = ["kb+sqlite", "kb+postgres", "kb+postgresql", "kb+postgresql+psycopg"]  # type: ignore[misc]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        if not uri or not uri.startswith(SCHEME_PREFIX):
            raise ValueError(f"a database rate-limit storage needs a kb+<database URL>, not {uri!r}")
        self.url = _with_psycopg(uri.removeprefix(SCHEME_PREFIX))
        self._engine: Engine | None = None

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        """What a failing database raises (kept as is: kb answers 503 for an unreachable database)."""
        return exc.SQLAlchemyError

    @property
    def engine(self) -> Engine:
        """A small pool of the storage's own, made (with its table) on first use in this process."""
        if self._engine is None:
            options: dict[str, Any] = {"pool_pre_ping": True}
            if self.url.startswith("sqlite"):
                options = {"connect_args": {"timeout": 15}}
            engine = create_engine(self.url, **options)
            try:
                counters.create(engine, checkfirst=True)
            except exc.SQLAlchemyError:  # Another process made it at the same moment.
                if not inspect(engine).has_table(counters.name):
                    raise
            self._engine = engine
        return self._engine

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count `amount` more hits on `key`, starting a window of `expiry` seconds if none is running."""
        now = time.time()
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        ended = counters.c.expires_at <= now
        statement = (
            dialect.insert(counters)
            .values(limit_key=key, hits=amount, expires_at=now + expiry)
            .on_conflict_do_update(
                index_elements=[counters.c.limit_key],
                set_={
                    "hits": case((ended, amount), else_=counters.c.hits + amount),
                    "expires_at": case((ended, now + expiry), else_=counters.c.expires_at),
                },
            )
            .returning(counters.c.hits)
        )
        with self.engine.begin() as connection:
            hits = connection.execute(statement).scalar_one()
            if random.randrange(PURGE_ONE_IN) == 0:  # noqa: S311 - spreading clean-ups, not a secret
                connection.execute(delete(counters).where(ended))
        return int(hits)

    def _running(self, key: str, column: Column[Any]) -> Any:
        with self.engine.connect() as connection:
            return connection.scalar(
                select(column).where(counters.c.limit_key == key, counters.c.expires_at > time.time())
            )

    def get(self, key: str) -> int:
        """The hits counted on `key` in its running window (0 when none runs)."""
        return int(self._running(key, counters.c.hits) or 0)

    def get_expiry(self, key: str) -> float:
        """When `key`'s window ends, as a Unix time (now when none runs)."""
        return float(self._running(key, counters.c.expires_at) or time.time())

    def check(self) -> bool:
        """Whether the database answers."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except exc.SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        """Forget every counter; returns how many there were."""
        with self.engine.begin() as connection:
            return connection.execute(delete(counters)).rowcount

    def clear(self, key: str) -> None:
        """Forget `key`'s counter."""
        with self.engine.begin() as connection:
            connection.execute(delete(counters).where(counters.c.limit_key == key))


def storage_uri(configured: str, database_uri: str) -> str:
    """The storage URI Flask-Limiter is given: `database` means kb's own database."""
    if configured.strip().lower() == SAME_DATABASE:
        return SCHEME_PREFIX + database_uri
    return configured


def init_app(app: Flask) -> None:
    """Resolve `RATELIMIT_STORAGE_URI=database` to kb's database; call before the limiter's `init_app`.

    Importing this module registers the `kb+...` schemes with Flask-Limiter.
    """
    app.config["RATELIMIT_STORAGE_URI"] = storage_uri(
        app.config.get("RATELIMIT_STORAGE_URI") or "memory://", app.config["SQLALCHEMY_DATABASE_URI"]
    )
