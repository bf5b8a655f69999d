"""`flask --app kb ...` commands; each is a thin wrapper over a service."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from kb.content.service import content_files, export_directory, import_directory
from kb.extensions import db

content_cli = AppGroup("content", help="Import and export entries as Markdown files.")


@content_cli.command("import")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def import_command(directory: Path | None) -> None:
    """Load every content file in DIRECTORY (default: CONTENT_DIR) into the database."""
    directory = directory or Path(current_app.config["CONTENT_DIR"])
    if not directory.is_dir():
        raise click.UsageError(f"no such folder: {directory}")
    total = len(content_files(directory))
    with click.progressbar(length=total, label=f"Importing {directory}", file=sys.stderr) as bar:
        report = import_directory(directory, on_file=lambda path: bar.update(1))
    db.session.commit()
    for problem in report.problems:
        click.echo(str(problem), err=True)
    click.echo(f"Import finished: {report.summary()}.")
    if report.failed or report.problems:
        sys.exit(1)


@content_cli.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_command(directory: Path) -> None:
    """Write every entry and the taxonomy to DIRECTORY as content files."""
    count = export_directory(directory)
    click.echo(f"Export finished: {count} entries written to {directory}.")


def init_app(app: Flask) -> None:
    """Register the command groups."""
    app.cli.add_command(content_cli)
