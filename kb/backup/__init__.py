"""Backing up and restoring the whole database: every account, entry, comment, finding and consultation.

`flask --app kb backup [PATH]` writes one file: on SQLite a copy made with SQLite's
online backup API (safe while the site is serving), on PostgreSQL a `pg_dump -Fc`
archive. `flask --app kb restore PATH` puts such a file back (`pg_restore --clean` on
PostgreSQL), upgrades it to the current schema and rebuilds the search index.
`flask --app kb content export` is the human-readable archive of the entries alone.
"""
