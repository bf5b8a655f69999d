"""`flask --app kb consult ...`: the opening notices and closing reminders, run from cron."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

consult_cli = AppGroup("consult", help="Consultation jobs that run on a timer: opening notices and closing reminders.")


@consult_cli.command("send-reminders")
def send_reminders_command() -> None:
    """Tell members of consultations that have opened, and remind followers of those closing within two days.

    Each opening is told once and each reminder sent once, however often it runs. Exits
    with status 1 when the mail server refused a reminder, so cron reports it.
    """
    from kb.consultations.opening import announce_openings
    from kb.consultations.reminders import send_reminders

    opened = announce_openings(on_line=lambda line: click.echo(line, err=True))
    click.echo(f"Told members of {opened} consultation{'s' if opened != 1 else ''} that opened.")

    report = send_reminders(on_line=lambda line: click.echo(line, err=True))
    click.echo(report.summary())
    if report.failed:
        sys.exit(1)
