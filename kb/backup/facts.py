"""What a backup file or a database holds: its schema revision and the rows in each table."""

from __future__ import annotations

from dataclasses import dataclass, field


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
        """Whether any table other than the migrations' bookkeeping has a row."""
        return self.total_rows > 0
