"""Flask-WTF forms for citing evidence from a finding: fields and validation only (CSRF on each)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf, Length

from kb.pages import whole_number
from kb.panels.models import CITATION_KINDS


class CiteForm(FlaskForm):
    """Cite one thing: its kind, the id of what is cited, and a paragraph's anchor or a page's number."""

    kind = HiddenField(validators=[AnyOf(list(CITATION_KINDS), message="Choose something to cite.")])
    target = HiddenField()
    anchor = HiddenField(validators=[Length(max=40)])

    def target_id(self) -> int | None:
        """The id of what is cited, or None when it is missing or not a number."""
        return whole_number(self.target.data)


class MoveCitationForm(FlaskForm):
    """Move a citation one place up or down."""

    direction = HiddenField(validators=[AnyOf(["up", "down"], message="Choose up or down.")])


class RemoveCitationForm(FlaskForm):
    """Take a citation off a finding (the form carries only its CSRF token)."""
