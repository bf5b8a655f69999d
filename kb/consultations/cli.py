"""`flask --app kb consult ...`: the closing reminders, run from cron."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

consult_cli = AppGroup("consult", help="Consultation jobs that run on a timer: the closing reminders.")


@consult_cli.command("send-reminders")
def send_reminders_command() -> None:
    """Mail followers who have not answered a consultation closing within two days; never twice.

    Exits with status 1 when the mail server refused a reminder, so cron reports it.
    """
    from kb.consultations.reminders import send_reminders

    report = send_reminders(on_line=lambda line: click.echo(line, err=True))
    click.echo(report.summary())
    if report.failed:
        sys.exit(1)
