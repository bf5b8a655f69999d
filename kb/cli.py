"""`flask --app kb ...` commands; each is a thin wrapper over a service."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from kb.backup import cli as backup_cli
from kb.comments.cli import comments_cli
from kb.consultations.cli import consult_cli
from kb.content.attachments import MissingDocumentError
from kb.content.export import export_directory
from kb.content.rerender import count_stored, rerender_everything
from kb.content.service import content_files, import_directory
from kb.drafts.cli import drafts_cli
from kb.extensions import db
from kb.mail.cli import mail_cli
from kb.notifications.cli import notify_cli
from kb.permissions import Viewer
from kb.search.cli import search_cli
from kb.search.lifecycle import ensure_index

content_cli = AppGroup("content", help="Import and export entries as Markdown files.")


@content_cli.command("import")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def import_command(directory: Path | None) -> None:
    """Load every content file in DIRECTORY (default: CONTENT_DIR) into the database."""
    directory = directory or Path(current_app.config["CONTENT_DIR"])
    if not directory.is_dir():
        raise click.UsageError(f"no such folder: {directory}")
    ensure_index(current_app, mode="inline")
    total = len(content_files(directory))
    with click.progressbar(length=total, label=f"Importing {directory}", file=sys.stderr) as bar:
        report = import_directory(directory, on_file=lambda path: bar.update(1))
    db.session.commit()
    for problem in report.problems:
        click.echo(str(problem), err=True)
    for note in report.notes:
        click.echo(f"{note} (note)", err=True)
    click.echo(f"Import finished: {report.summary()}.")
    if report.failed or report.problems:
        sys.exit(1)


@content_cli.command("rerender")
def rerender_command() -> None:
    """Render every stored text again (entries, findings, consultation texts, comments) and commit."""
    with click.progressbar(length=count_stored(), label="Rendering stored texts", file=sys.stderr) as bar:
        report = rerender_everything(on_row=lambda: bar.update(1))
    db.session.commit()
    for slug in report.failed or []:
        click.echo(f"{slug}: its stored document no longer parses; left as it was", err=True)
    click.echo(f"Rerender finished: {report.summary()}.")
    if report.failed:
        sys.exit(1)


@content_cli.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--as",
    "as_email",
    metavar="EMAIL",
    help="Write only the entries the account with this email may see (default: every entry).",
)
def export_command(directory: Path, as_email: str | None) -> None:
    """Write every entry and the taxonomy to DIRECTORY as content files.

    With --as EMAIL, only what that account may see on the site is written; a deactivated
    account sees what a signed-out reader sees. Without it, everything is, for archives.
    """
    from kb.permissions import viewer_for
    from kb.users.service import find_user_by_email

    if as_email is None:
        count = _export(directory)
        click.echo(f"Export finished: {count} entries written to {directory}.")
        return
    user = find_user_by_email(as_email)
    if user is None:
        raise click.BadParameter(f"no account has the email address {as_email!r}", param_hint="'--as'")
    count = _export(directory, visible_to=viewer_for(user))
    seen_as = user.email if user.active else f"{user.email} (deactivated, so as a signed-out reader)"
    click.echo(f"Export finished: {count} entries visible to {seen_as} written to {directory}.")


def _export(directory: Path, visible_to: Viewer | None = None) -> int:
    """Run the export, turning a missing document file into the command's error message."""
    try:
        return export_directory(directory, visible_to=visible_to)
    except MissingDocumentError as error:
        raise click.ClickException(f"the export stopped: {error}") from None


users_cli = AppGroup("users", help="Manage accounts from the command line.")


@users_cli.command("create-admin")
@click.argument("email")
@click.option("--name", default="", help="The admin's display name (default: the part of EMAIL before @).")
def create_admin_command(email: str, name: str) -> None:
    """Create the first admin and print a one-time link where they set a password."""
    from kb.users.service import AccountError, create_first_admin

    try:
        user, link = create_first_admin(email, name)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    days = current_app.config["INVITE_MAX_AGE"].days
    click.echo(f"Admin account for {user.email} is ready.")
    click.echo(f"Open this link to choose a password (it works once, for {days} days):")
    click.echo(link)


@users_cli.command("emergency-link")
@click.argument("email")
def emergency_link_command(email: str) -> None:
    """Print a one-time sign-in link for an admin, for when single sign-on is down (works for 15 minutes)."""
    from kb.users.service import AccountError
    from kb.users.sso import emergency_link

    try:
        link = emergency_link(email)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo("Open this link to sign in (it works once, for 15 minutes; a second factor is still asked for):")
    click.echo(link)


@users_cli.command("demo")
def demo_command() -> None:
    """Add the demo organisations and one account per role (only when KB_DEMO=1)."""
    from kb.users.demo import ensure_demo_accounts

    if not current_app.config["DEMO_MODE"]:
        raise click.ClickException("demo mode is off: set KB_DEMO=1 (never in production)")
    users = ensure_demo_accounts()
    db.session.commit()
    click.echo(f"Demo accounts ready: {', '.join(user.email for user in users)}.")


def init_app(app: Flask) -> None:
    """Register the command groups."""
    app.cli.add_command(content_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(notify_cli)
    app.cli.add_command(comments_cli)
    app.cli.add_command(drafts_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(consult_cli)
    backup_cli.init_app(app)
