"""`flask --app kb notify ...`: the daily digest, run from cron."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

notify_cli = AppGroup("notify", help="Send notification mail that waits: the daily digest.")


@notify_cli.command("send-digest")
def send_digest_command() -> None:
    """Mail each person one digest of what happened on what they follow; safe to run twice.

    Exits with status 1 when the mail server refused a digest, so cron reports it; the digest
    waits in the mail outbox for `flask --app kb mail send-pending`.
    """
    from kb.notifications.digest import send_digests

    report = send_digests(on_person=lambda line: click.echo(line, err=True))
    click.echo(report.summary())
    if report.failed:
        sys.exit(1)
