"""Flask-WTF forms for signing in and managing one's own account: fields and validation only."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from kb.users.passwords import MAX_LENGTH

EMAIL_MAX = 254
NEW_PASSWORD_LENGTH = Length(max=MAX_LENGTH, message=f"Use at most {MAX_LENGTH} characters.")


class LoginForm(FlaskForm):
    """Email and password; "keep me signed in" sets a remember-me cookie."""

    email = EmailField("Email address", validators=[DataRequired("Enter your email address."), Length(max=EMAIL_MAX)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=MAX_LENGTH)])
    remember = BooleanField("Keep me signed in on this device for 14 days")


class SecondFactorForm(FlaskForm):
    """A code from the authenticator app, or a recovery code."""

    code = StringField(
        "Code", validators=[DataRequired("Enter the 6-digit code from your app, or a recovery code."), Length(max=32)]
    )


class EmailForm(FlaskForm):
    """Ask for a password-reset link."""

    email = EmailField("Email address", validators=[DataRequired("Enter your email address."), Length(max=EMAIL_MAX)])


class SetPasswordForm(FlaskForm):
    """Choose a password, typed twice."""

    password = PasswordField("New password", validators=[DataRequired("Enter a new password."), NEW_PASSWORD_LENGTH])
    confirm = PasswordField(
        "Type the new password again",
        validators=[DataRequired("Type the new password again."), EqualTo("password", "The two passwords differ.")],
    )


class ChangePasswordForm(SetPasswordForm):
    """Change a password: the current one first."""

    current = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password."), Length(max=MAX_LENGTH)]
    )


class ConfirmForm(FlaskForm):
    """A button that changes state: only the CSRF token travels with it."""
