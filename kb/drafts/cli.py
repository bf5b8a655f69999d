"""`flask --app kb drafts purge`: delete expired drafts of every kind, run from cron."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from kb.extensions import db

drafts_cli = AppGroup("drafts", help="Housekeeping of drafts kept on the server: purge expired ones.")


@drafts_cli.command("purge")
def purge_command() -> None:
    """Delete expired form drafts and comment drafts; safe on several hosts at once."""
    from kb.comments.service import purge_expired_drafts as purge_comment_drafts
    from kb.drafts.service import purge_expired_drafts

    forms = purge_expired_drafts()
    comments = purge_comment_drafts()
    db.session.commit()
    click.echo(f"purged {forms} expired form draft{'s' if forms != 1 else ''}")
    click.echo(f"purged {comments} expired comment draft{'s' if comments != 1 else ''}")
