"""What a backup file or a database holds: its schema revision and the rows in each table."""

from __future__ import annotations

from dataclasses import dataclass, field

SCHEMA_ROWS = frozenset({"alembic_version", "regions"})
"""Tables the migrations themselves fill, in every database."""


@dataclass(frozen=True)
class TableFacts:
    """The schema revision (None for an empty database) and the row count of every table."""

    revision: str | None
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def tables(self) -> int:
        """How many tables there are (the migrations' own `alembic_version` included)."""
        return len(self.rows)

    @property
    def total_rows(self) -> int:
        """Rows in every table, the migrations' own bookkeeping left out."""
        return sum(count for name, count in self.rows.items() if name != "alembic_version")

    def holds_data(self) -> bool:
        """Whether any table holds rows other than those the migrations write into every database.

        The migrations' bookkeeping and the regions list they fill are in a new, empty
        database too, so they alone do not make a restore replace someone's data.
        """
        return any(count for name, count in self.rows.items() if name not in SCHEMA_ROWS)
