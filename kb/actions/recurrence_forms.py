"""The form a moderator uses to decide whether two lessons are the same lesson again."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.validators import InputRequired, Length

from kb.actions.models import RECURRENCE_DECISIONS
from kb.actions.recurrence import NOTE_MAX


class RecurrenceForm(FlaskForm):
    """Confirm the pair as the same lesson again, or say it is not, with an optional note."""

    decision = RadioField(
        "Are these the same lesson again?",
        choices=[SelectChoice(value, label) for value, label in RECURRENCE_DECISIONS.items()],
        validators=[InputRequired("Choose whether the two are the same lesson again.")],
    )
    note = TextAreaField(
        "Note (optional)",
        validators=[Length(max=NOTE_MAX, message=f"Keep the note to {NOTE_MAX:,} characters or fewer.")],
    )
