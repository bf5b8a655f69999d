"""Flask-WTF forms for a lesson's action and the open actions filter: fields and validation only."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, ValidationError

from kb.actions import rules
from kb.contributions.forms import MaxChars
from kb.entries.vocabulary import ACTION_STATUSES
from kb.pages import whole_number

EVIDENCE_MAX = 20_000
NOTE_MAX = 2_000
MESSAGE_MAX = 300
OWNER_MAX = 200


def due_date_check(form: FlaskForm, field: Field) -> None:
    """Accept an empty value or a real date written YYYY-MM-DD. Raises ValidationError otherwise."""
    try:
        rules.parse_due(field.data or "")
    except ValueError as error:
        raise ValidationError(str(error)) from None


class ActionForm(FlaskForm):
    """A lesson's action: status, owner organisation, due date, evidence, note, and why it changed."""

    status = RadioField(
        "Action status",
        choices=[SelectChoice(value, label) for value, label in ACTION_STATUSES.items()],
        validators=[InputRequired("Choose the action status.")],
    )
    owner = SelectField("Owner organisation", choices=[], validate_choice=False)
    due = StringField("Due date", validators=[MaxChars(32), due_date_check])
    evidence = TextAreaField("Evidence of action", validators=[MaxChars(EVIDENCE_MAX)])
    note = TextAreaField("Reason or note", validators=[MaxChars(NOTE_MAX)])
    message = StringField("Why you made this change", validators=[MaxChars(MESSAGE_MAX)])
    base_revision = HiddenField()

    def set_owner_choices(self, names: list[str], current: str | None) -> None:
        """Offer these organisations (and the lesson's current owner, if it is not one of them)."""
        choices = [SelectChoice("", "No owner yet")]
        if current and current not in names:
            choices.append(SelectChoice(current, current))
        choices.extend(SelectChoice(name, name) for name in names)
        self.owner.choices = choices

    def validate_owner(self, field: Field) -> None:
        """Raises ValidationError for an owner that is not one of the choices offered."""
        if len(field.data or "") > OWNER_MAX or (field.data or "") not in {choice.value for choice in field.choices}:
            raise ValidationError("Choose one of the organisations listed.")

    def base_number(self) -> int | None:
        """The revision the form was opened on, or None when it is missing or not a number."""
        return whole_number(self.base_revision.data)


class OpenActionsFilter(FlaskForm):
    """Narrow the open actions by owner organisation and status (a GET form)."""

    class Meta:
        """A filter changes nothing, so it needs no CSRF token and its address can be bookmarked."""

        csrf = False

    owner = SelectField("Owner organisation", choices=[], validate_choice=False)
    status = SelectField(
        "Status",
        choices=[SelectChoice("", "Any open status")]
        + [SelectChoice(value, rules.label(value)) for value in rules.OPEN_STATUSES],
        validate_choice=False,
    )
