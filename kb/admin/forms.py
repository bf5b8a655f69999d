"""Flask-WTF forms for the admin pages: fields and validation only.

Select menus whose choices come from the database (organisations, reviews) get their
choices from the route; `InChoices` then refuses anything not offered, with a message
that says what to do instead of WTForms' generic "Not a valid choice".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms import EmailField, Field, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from kb.admin.queries import ACCOUNT_STATUSES
from kb.audit.models import ACTIONS
from kb.users import identity
from kb.users.models import ORGANISATION_TYPES, ROLES

EMAIL_MAX = 254
NAME_MAX = 120
ORGANISATION_NAME_MAX = 200
REGION_MAX = 120
SEARCH_MAX = 200
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def options(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """Select-menu choices from (value, label) pairs, in order."""
    return [SelectChoice(value, label) for value, label in pairs]


def _at_most(limit: int, what: str) -> Length:
    return Length(max=limit, message=f"{what} must be {limit} characters or fewer.")


class InChoices:
    """Refuse a value that is not one of the field's current choices."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, form: FlaskForm, field: Field) -> None:
        """Raise `ValidationError` unless the field's data is one of its choice values."""
        if field.data not in {choice.value for choice in field.choices or []}:
            raise ValidationError(self.message)


class OneLineName:
    """Refuse a name with a line break, a control or an invisible character (`identity.check_name`)."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __call__(self, form: FlaskForm, field: Field) -> None:
        """Raise `ValidationError` with the reason when the field's text is not one clean line."""
        if field.data:
            try:
                identity.check_name(field.data, self.what)
            except identity.IdentityError as error:
                raise ValidationError(str(error)) from None


def valid_email(form: FlaskForm, field: Field) -> None:
    """Refuse an address `email-validator` refuses (syntax, domain, control or invisible characters)."""
    if field.data:
        try:
            identity.check_email(field.data)
        except identity.IdentityError as error:
            raise ValidationError(str(error)) from None


def parse_day(text: str | None) -> dt.date | None:
    """A `YYYY-MM-DD` date, or None for an empty text; raises `ValueError` for anything else."""
    text = (text or "").strip()
    if not text:
        return None
    if not _DAY.match(text):
        raise ValueError(text)
    return dt.date.fromisoformat(text)


def _real_day(form: FlaskForm, field: Field) -> None:
    try:
        parse_day(field.data)
    except ValueError:
        raise ValidationError(
            f"{field.label.text} must be a real date written as YYYY-MM-DD, for example 2025-03-31."
        ) from None


ROLE_CHOICES = list(ROLES.items())
_ROLE_MESSAGE = "Choose a role from the list: " + ", ".join(ROLES.values()) + "."


def _role_field() -> SelectField:
    return SelectField(
        "Role",
        choices=options(ROLE_CHOICES),
        default="member",
        validate_choice=False,
        validators=[InChoices(_ROLE_MESSAGE)],
    )


def _organisation_field() -> SelectField:
    return SelectField(
        "Organisation",
        choices=[],
        default="",
        validate_choice=False,
        validators=[InChoices("Choose an organisation from the list.")],
    )


class InviteForm(FlaskForm):
    """Invite someone: their email, name, organisation and role."""

    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter their email address."),
            _at_most(EMAIL_MAX, "The email address"),
            valid_email,
        ],
    )
    display_name = StringField(
        "Name",
        validators=[DataRequired("Enter their name."), _at_most(NAME_MAX, "The name"), OneLineName("The name")],
    )
    organisation = _organisation_field()
    role = _role_field()


class RoleForm(FlaskForm):
    """Change a person's role."""

    role = _role_field()


class OrganisationChoiceForm(FlaskForm):
    """Move a person to another organisation, or to none."""

    organisation = _organisation_field()


class PanelSeatForm(FlaskForm):
    """Seat a person on one review's panel."""

    review = SelectField(
        "Review panel", choices=[], validate_choice=False, validators=[InChoices("Choose a review from the list.")]
    )


class OrganisationForm(FlaskForm):
    """An organisation's name, type and region."""

    name = StringField(
        "Name",
        validators=[
            DataRequired("Enter the organisation's name."),
            _at_most(ORGANISATION_NAME_MAX, "The organisation's name"),
            OneLineName("The organisation's name"),
        ],
    )
    org_type = SelectField(
        "Type",
        choices=options(ORGANISATION_TYPES.items()),
        validate_choice=False,
        validators=[InChoices("Choose a type of organisation from the list.")],
    )
    region = StringField(
        "Region (optional)", validators=[_at_most(REGION_MAX, "The region"), OneLineName("The region")]
    )


class UserFilterForm(FlaskForm):
    """The filters of the users list, read from the query string."""

    class Meta:
        """A GET form: nothing changes, so no CSRF token."""

        csrf = False

    q = StringField("Name or email", id="filter-q", validators=[_at_most(SEARCH_MAX, "The search")])
    role = SelectField(
        "Role", id="filter-role", choices=options([("", "Any role"), *ROLE_CHOICES]), validate_choice=False
    )
    organisation = SelectField("Organisation", id="filter-organisation", choices=[], validate_choice=False)
    status = SelectField(
        "Status",
        id="filter-status",
        choices=options([("", "Any status"), *ACCOUNT_STATUSES.items()]),
        validate_choice=False,
    )


class AuditFilterForm(FlaskForm):
    """The filters of the audit log, read from the query string."""

    class Meta:
        """A GET form: nothing changes, so no CSRF token."""

        csrf = False

    action = SelectField(
        "Action", id="filter-action", choices=options([("", "Any action"), *ACTIONS.items()]), validate_choice=False
    )
    actor = StringField("Who", id="filter-actor", validators=[_at_most(SEARCH_MAX, "Who")])
    target = StringField("Target", id="filter-target", validators=[_at_most(SEARCH_MAX, "The target")])
    date_from = StringField("Date from", id="filter-date-from", validators=[_real_day])
    date_to = StringField("Date to", id="filter-date-to", validators=[_real_day])

    def validate_date_to(self, field: Field) -> None:
        """Raise `ValidationError` when both dates are real and the range runs backwards."""
        try:
            start, end = parse_day(self.date_from.data), parse_day(field.data)
        except ValueError:
            return
        if start and end and end < start:
            raise ValidationError("Date to must be the same as or after date from.")
