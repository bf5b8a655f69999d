"""Flask-WTF forms for notification settings: fields only."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField

SWITCH_LABELS: dict[str, tuple[str, str]] = {
    "mentions": ("Mail me when someone mentions me", "Someone writes your @handle in a comment."),
    "replies": ("Mail me when someone replies to my comment", "A reply directly under one of your comments."),
    "moderation": (
        "Mail me about moderation decisions",
        "A moderator hid, restored or removed your work; moderators also get new flags.",
    ),
    "digest": (
        "Send me a daily digest of what I follow",
        "One mail a day at most, listing new comments on entries, themes and reviews you follow.",
    ),
}
"""Each switch's label and hint, by mail category."""


class SettingsForm(FlaskForm):
    """The four mail switches; what is not ticked is off."""

    mentions = BooleanField(SWITCH_LABELS["mentions"][0])
    replies = BooleanField(SWITCH_LABELS["replies"][0])
    moderation = BooleanField(SWITCH_LABELS["moderation"][0])
    digest = BooleanField(SWITCH_LABELS["digest"][0])

    def switches(self) -> dict[str, bool]:
        """The submitted switches, by mail category."""
        return {category: bool(self[category].data) for category in SWITCH_LABELS}
