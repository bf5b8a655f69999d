"""`flask --app kb comments ...`: housekeeping of discussion data, run from cron."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from kb.extensions import db

comments_cli = AppGroup("comments", help="Housekeeping of comments: purge expired drafts.")


@comments_cli.command("purge-drafts")
def purge_drafts_command() -> None:
    """Delete the drafts of signed-out posters that are past their day; safe on several hosts at once."""
    from kb.comments.service import purge_expired_drafts

    purged = purge_expired_drafts()
    db.session.commit()
    click.echo(f"purged {purged} expired comment draft{'s' if purged != 1 else ''}")
