"""Flask-WTF forms for notification settings: fields only."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectChoice
from wtforms.validators import AnyOf

from kb.notifications.topics import TOPICS, Choice
from kb.states import MailDelivery

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
    """The four older mail switches (what is not ticked is off), then each topic's choice.

    A topic has two fields: `<key>_app` (shown in the app) and `<key>_mail` (a `MailDelivery`).
    """

    mentions = BooleanField(SWITCH_LABELS["mentions"][0])
    replies = BooleanField(SWITCH_LABELS["replies"][0])
    moderation = BooleanField(SWITCH_LABELS["moderation"][0])
    digest = BooleanField(SWITCH_LABELS["digest"][0])

    def switches(self) -> dict[str, bool]:
        """The submitted switches, by mail category."""
        return {category: bool(self[category].data) for category in SWITCH_LABELS}

    def topic_choices(self) -> dict[str, Choice]:
        """The submitted choice for each topic, by topic key."""
        return {
            topic.key: Choice(in_app=bool(self[f"{topic.key}_app"].data), delivery=str(self[f"{topic.key}_mail"].data))
            for topic in TOPICS
        }

    def show_choices(self, choices: dict[str, Choice]) -> None:
        """Fill each topic's fields with the stored choices."""
        for key, choice in choices.items():
            self[f"{key}_app"].data = choice.in_app
            self[f"{key}_mail"].data = choice.delivery


for _topic in TOPICS:
    setattr(SettingsForm, f"{_topic.key}_app", BooleanField("Show on my notifications page"))
    setattr(
        SettingsForm,
        f"{_topic.key}_mail",
        RadioField(
            "By mail",
            choices=[SelectChoice(value, label) for value, label in MailDelivery.labels().items()],
            default=MailDelivery.NOW.value,
            validate_choice=False,
            validators=[
                AnyOf(
                    MailDelivery.values(),
                    message=f"Choose how to be mailed about {_topic.label.split(':')[0].lower()}.",
                )
            ],
        ),
    )
