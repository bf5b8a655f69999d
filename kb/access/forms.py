"""The account page's form for making an API token: fields and validation only."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, Length

from kb.states import TokenScope

NAME_MAX = 80
EXPIRY_CHOICES = (("30", "30 days"), ("90", "90 days"), ("365", "A year (365 days)"), ("never", "No expiry"))
DEFAULT_EXPIRY = "90"
"""Long enough that a script is not renewed every month, short enough that a forgotten token ends by itself."""


class TokenForm(FlaskForm):
    """A new API token: a name to tell it apart, what it may do, and how long it lasts."""

    name = StringField(
        "Token name",
        validators=[
            DataRequired("Enter a name for the token, so you can tell it apart later."),
            Length(max=NAME_MAX, message=f"The token's name must be {NAME_MAX} characters or fewer."),
        ],
    )
    scope = RadioField(
        "What the token may do",
        choices=[SelectChoice(value, label) for value, label in TokenScope.labels().items()],
        default=TokenScope.READ.value,
        validators=[DataRequired("Choose what the token may do.")],
    )
    expiry = RadioField(
        "When the token stops working",
        choices=[SelectChoice(value, label) for value, label in EXPIRY_CHOICES],
        default=DEFAULT_EXPIRY,
        validators=[DataRequired("Choose when the token stops working.")],
    )

    def expires_in_days(self) -> int | None:
        """The chosen lifetime in days, or None for a token that does not expire."""
        return None if self.expiry.data == "never" else int(self.expiry.data or DEFAULT_EXPIRY)
