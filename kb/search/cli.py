"""`flask --app kb search ...`: rebuild the index, check it against the database, drain the queue."""

from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from kb.search.backend import uses_postgresql
from kb.search.indexing import check, drain, rebuild
from kb.search.lifecycle import index_store
from kb.search.pg import indexing as pg_indexing
from kb.search.storage import IndexUnavailableError, LockTimeoutError

search_cli = AppGroup("search", help="Build, check and update the search index.")


@search_cli.command("rebuild")
@click.option(
    "--processes",
    type=click.IntRange(1, 16),
    default=min(2, os.cpu_count() or 1),
    show_default=True,
    help="Worker processes that analyse entries in parallel.",
)
def rebuild_command(processes: int) -> None:
    """Build a new index from the database and swap it in; search keeps working meanwhile."""
    store = index_store()
    bar: click._termui_impl.ProgressBar[int] | None = None

    def start(total: int) -> None:
        nonlocal bar
        bar = click.progressbar(length=total, label="Indexing entries", file=sys.stderr)
        bar.__enter__()

    def advance(done: int) -> None:
        if bar is not None:
            bar.update(done)

    try:
        if uses_postgresql():
            count = pg_indexing.rebuild(total=start, on_progress=advance)
        else:
            count = rebuild(store, processes=processes, total=start, on_progress=advance)
    except LockTimeoutError:
        raise click.ClickException("another rebuild is running; wait for it to finish") from None
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    where = "PostgreSQL search documents" if uses_postgresql() else store.root / (store.current_generation() or "")
    click.echo(f"Search index rebuilt: {count} entries, now in use ({where}).")


@search_cli.command("check")
def check_command() -> None:
    """Report entries missing from, stale in, or extra in the index; exit 1 when any are."""
    try:
        report = pg_indexing.check() if uses_postgresql() else check(index_store())
    except IndexUnavailableError as problem:
        click.echo(f"{problem}. Run `flask --app kb search rebuild`.", err=True)
        sys.exit(1)
    click.echo(
        f"{report.entries} entries in the database, {report.indexed} in the index, {report.pending} changes queued."
    )
    for label, items in (("missing from the index", report.missing), ("stale in the index", report.stale)):
        if items:
            click.echo(
                f"{len(items)} {label}: entry ids {', '.join(map(str, items[:50]))}{' ...' if len(items) > 50 else ''}"
            )
    if report.extra:
        click.echo(f"{len(report.extra)} in the index but not in the database: ids {', '.join(report.extra[:50])}")
    for entry_id, error in report.failed:
        click.echo(f"entry {entry_id} failed to index: {error}")
    if report.in_step:
        click.echo("The index is in step with the database.")
    else:
        click.echo("Run `flask --app kb search rebuild` to rebuild the index from the database.")
        sys.exit(1)


@search_cli.command("drain")
def drain_command() -> None:
    """Index every queued change now (saves normally do this themselves)."""
    try:
        timeout = current_app.config["SEARCH_LOCK_TIMEOUT"]
        if uses_postgresql():
            report = pg_indexing.drain(timeout=timeout)
        else:
            report = drain(index_store(), timeout=timeout, merge_in_background=False)
    except (LockTimeoutError, IndexUnavailableError) as problem:
        raise click.ClickException(str(problem)) from None
    click.echo(f"Indexed {report.indexed} queued entries; {len(report.failed)} failed.")
    if report.failed:
        sys.exit(1)
