"""The PostgreSQL full-text search backend: a weighted tsvector per entry, queried in SQL.

Chosen with `SEARCH_BACKEND=postgresql` (on a PostgreSQL database); `backend.PostgresBackend`
implements `kb.search.interface.SearchBackend`, so callers do not change. Documents
follow the database through the same `search_queue` rows and after-commit drain as the
Whoosh index, but are written in the database itself, so every process on every host reads
the same documents and no file lock is needed.
"""
