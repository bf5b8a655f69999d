"""Forms for curating tags: rename, merge into another, move into a theme. Fields and validation only."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from kb.inputs import one_line


class RenameTagForm(FlaskForm):
    """A tag's new name and, optionally, its new address (made from the name when left empty)."""

    label = StringField(
        "New name",
        filters=[one_line],
        validators=[DataRequired("Enter the tag's new name."), Length(max=200, message="The name is too long.")],
    )
    slug = StringField(
        "New address (optional)", filters=[one_line], validators=[Length(max=60, message="The address is too long.")]
    )


class MergeTagForm(FlaskForm):
    """The tag to merge this one into."""

    into = SelectField("Merge into", choices=[], validate_choice=False, validators=[DataRequired("Choose a tag.")])

    def validate_into(self, field: SelectField) -> None:
        """The chosen tag is one of those offered. Raises ValidationError."""
        if field.data not in {value for value, _ in field.choices}:
            raise ValidationError("Choose one of the tags listed.")


class MoveTagForm(FlaskForm):
    """The theme to move this tag into, or none (a free tag)."""

    theme = SelectField("Theme", choices=[], validate_choice=False)

    def validate_theme(self, field: SelectField) -> None:
        """The chosen theme is one of those offered. Raises ValidationError."""
        if (field.data or "") not in {value for value, _ in field.choices}:
            raise ValidationError("Choose one of the themes listed.")
