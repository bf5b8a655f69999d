"""Flask-WTF forms for flags, moderators' decisions and curation: fields and validation only.

Forms shown several times on one page (one per queue item) take a `prefix`, so every
field id on the page is unique.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, ValidationError

from kb.contributions.forms import MaxChars
from kb.entries.vocabulary import ACTION_STATUSES, MATURITIES
from kb.moderation.models import FLAG_REASONS
from kb.moderation.service import DECISIONS, NOTE_MAX, REASON_MAX, REASON_NEEDED
from kb.states import FlagReason


class FlagForm(FlaskForm):
    """Why a comment or an entry needs a moderator's look; "something else" needs a note."""

    reason = RadioField(
        "Why does this need a moderator?",
        choices=[SelectChoice(value, label) for value, label in FLAG_REASONS.items()],
        validators=[InputRequired("Choose why this needs a moderator's look.")],
    )
    note = TextAreaField("Anything the moderators should know", validators=[MaxChars(NOTE_MAX)])

    def validate_note(self, field: Field) -> None:
        """Raises ValidationError when "something else" is chosen without saying what."""
        if self.reason.data == FlagReason.OTHER and not (field.data or "").strip():
            raise ValidationError("Say what is wrong: you chose something else.")


class DecisionForm(FlaskForm):
    """A moderator's decision on a comment or an entry; hiding and removing need a reason."""

    reason = TextAreaField("Reason (shown to the author)", validators=[MaxChars(REASON_MAX)])
    decision = HiddenField()
    back = HiddenField()

    def validate_reason(self, field: Field) -> None:
        """Raises ValidationError when a hide or remove comes without a reason."""
        if self.decision.data in REASON_NEEDED and not (field.data or "").strip():
            raise ValidationError(f"Give a reason to {self.decision.data}; the author will see it.")

    def validate_decision(self, field: Field) -> None:
        """Raises ValidationError for a decision that is not one of `DECISIONS`."""
        if field.data not in DECISIONS:
            raise ValidationError("Choose hide, restore, remove or dismiss.")


class MaturityForm(FlaskForm):
    """A lesson's maturity."""

    maturity = SelectField("Maturity", choices=[SelectChoice(value, label) for value, label in MATURITIES.items()])


class ActionStatusForm(FlaskForm):
    """The state of action on a lesson."""

    action_status = SelectField(
        "Action status", choices=[SelectChoice(value, label) for value, label in ACTION_STATUSES.items()]
    )


class MergeSearchForm(FlaskForm):
    """Find the entry a duplicate should be merged into, by slug or words of its title (a GET form)."""

    class Meta:
        """A search changes nothing, so it needs no CSRF token and its address can be bookmarked."""

        csrf = False

    q = StringField("Title or address of the entry to keep", validators=[MaxChars(200)])


class MergeForm(FlaskForm):
    """Confirm a merge into the chosen entry."""

    into = HiddenField(validators=[InputRequired("Choose the entry to keep.")])
