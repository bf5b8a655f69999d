"""`flask --app kb mail ...`: sending the mail that waits in the outbox, from cron."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

mail_cli = AppGroup("mail", help="Send the mail waiting in the outbox.")


@mail_cli.command("send-pending")
@click.option(
    "--now",
    "at_once",
    is_flag=True,
    help="Try every unsent mail now, not waiting for its next try's time (e.g. once the mail server is fixed).",
)
@click.option("--quiet", is_flag=True, help="Print only the summary line, not a line per mail.")
def send_pending_command(at_once: bool, quiet: bool) -> None:
    """Send the mail that is due, then purge old sent mail; safe to run on several hosts at once.

    Exits with status 1 when a mail could not be sent (it waits for a later try), so cron reports it.
    """
    from sqlalchemy.exc import OperationalError

    from kb.mail.outbox import send_pending

    try:
        report = send_pending(wait=not at_once, on_mail=(lambda line: None) if quiet else lambda line: click.echo(line))
    except OperationalError as error:
        # Nothing is lost: a claim that was committed is taken over by a later run after its timeout.
        raise click.ClickException(f"the database is unavailable or busy, try again later: {error.orig}") from None
    click.echo(report.summary())
    if report.failed:
        sys.exit(1)
