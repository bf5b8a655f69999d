"""The tables of the PostgreSQL search backend, kept out of the models' metadata.

They exist only on PostgreSQL (their migration does nothing on SQLite), so they are not in
`db.metadata`: comparing the models with a SQLite database must not miss them.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table, Text, false
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR

metadata = MetaData()

search_documents = Table(
    "search_documents",
    metadata,
    Column("entry_id", Integer, primary_key=True),
    Column("document", TSVECTOR, nullable=False),
    Column("region", String(200), nullable=False, server_default=""),
    Column("year", String(4), nullable=False),
    Column("sort_date", DateTime, nullable=False),
    Column("tags", ARRAY(Text), nullable=False),
    Column("themes", ARRAY(Text), nullable=False),
    Column("fingerprint", String(16), nullable=False),
    Column("has_pages", Boolean, nullable=False, server_default=false()),
)
"""One row per entry: its weighted words (A title, B summary and lesson, C recommendation and
tags, D everything else, readable comments and document pages), the facet values it was
indexed with, and whether it holds pages of documents (so a results page reads pages only then)."""

search_words = Table("search_words", metadata, Column("word", Text, primary_key=True))
"""Every unstemmed word of every indexed entry, for spelling corrections and `word~`."""

POSTGRES_ONLY_TABLES = frozenset({"search_documents", "search_words"})
"""Tables a schema comparison on PostgreSQL should leave out (they are not in `db.metadata`)."""
