"""`flask --app kb backup [PATH]` and `flask --app kb restore PATH`: thin wrappers over `kb.backup.service`."""

from __future__ import annotations

import sys
from pathlib import Path
from types import TracebackType
from typing import Any

import click
from flask import Flask, current_app

from kb.backup.service import BackupError, backup_database, default_backup_path, restore_database
from kb.dates import utcnow
from kb.extensions import db
from kb.search.backend import backend
from kb.search.cli import rebuild_command

BINDIR_HELP = "Folder of PostgreSQL's pg_dump and pg_restore (default: PATH, pg_config, /usr/lib/postgresql)."


class LazyProgress:
    """A progress bar on stderr opened at the first report, when the total is known."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None
        self.shown = 0

    def __call__(self, done: int, total: int) -> None:
        """Show `done` of `total`."""
        if self.bar is None:
            self.bar = click.progressbar(length=max(total, 1), label=self.label, file=sys.stderr)
            self.bar.__enter__()
        if done > self.shown:  # A SQLite copy starts again when the site writes meanwhile.
            self.bar.update(done - self.shown)
            self.shown = done

    def __enter__(self) -> LazyProgress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.bar is not None:
            self.bar.__exit__(kind, error, trace)


@click.command("backup")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH when it already exists.")
@click.option("--pg-bindir", envvar="KB_PG_BINDIR", metavar="FOLDER", help=BINDIR_HELP)
def backup_command(path: Path | None, force: bool, pg_bindir: str | None) -> None:
    """Copy the database and every document to PATH (default: instance/backups/kb-<time>.sqlite3.tar or .dump.tar).

    Safe while the site is serving. One tar archive: the database copy (SQLite: made with
    SQLite's online backup API; PostgreSQL: a `pg_dump -Fc` archive), the bytes of every
    document version and a manifest with their SHA-256. For a human-readable archive of the
    entries, use `flask --app kb content export FOLDER`.
    """
    path = path or default_backup_path(Path(current_app.instance_path), db.engine.url, utcnow())
    try:
        with LazyProgress("Backing up") as progress:
            report = backup_database(db.engine, path, force=force, on_progress=progress, bindir=pg_bindir)
    except BackupError as problem:
        raise click.ClickException(str(problem)) from None
    click.echo(report.summary())


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace everything in the database when it already holds data.")
@click.option(
    "--no-rebuild",
    is_flag=True,
    help="Leave the search index to be rebuilt when the site next starts or searches, instead of now.",
)
@click.option("--pg-bindir", envvar="KB_PG_BINDIR", metavar="FOLDER", help=BINDIR_HELP)
def restore_command(path: Path, force: bool, no_rebuild: bool, pg_bindir: str | None) -> None:
    """Replace the database with the backup at PATH, put back its documents, upgrade it, rebuild the search index.

    Stop the site first. The archive is checked whole (every document against its SHA-256)
    before anything changes. A database that already holds data is replaced only with --force.
    """
    db.session.remove()  # Its connection would hold locks the restore must take.
    try:
        with LazyProgress("Restoring") as progress:
            report = restore_database(db.engine, path, force=force, on_progress=progress, bindir=pg_bindir)
    except BackupError as problem:
        raise click.ClickException(str(problem)) from None
    click.echo(report.summary())
    _refresh_search(current_app._get_current_object(), rebuild_now=not no_rebuild)  # type: ignore[attr-defined]


def _refresh_search(app: Flask, *, rebuild_now: bool) -> None:
    """Rebuild the search index from the restored database (as `search rebuild` does), or mark it for rebuilding."""
    search = backend(app)
    if rebuild_now:
        search.close()
        click.get_current_context().invoke(rebuild_command)
        return
    search.mark_for_rebuild()
    click.echo("Search index marked for rebuilding: the site rebuilds it when it next starts or searches.")


def init_app(app: Flask) -> None:
    """Register the two commands."""
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
