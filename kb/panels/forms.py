"""The finding form: fields and validation only.

Each field has a length limit whose message names the field, so an oversized text is
answered with a clear message and the text kept.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired

from kb.contributions.forms import MESSAGE_MAX, MaxChars
from kb.inputs import one_line

TITLE_MAX = 300
TEXT_MAX = 20_000
NOTE_MAX = 2_000


class FindingForm(FlaskForm):
    """A finding as the panel writes it; `base_revision` says which revision the editor started from."""

    title = StringField(
        "Title",
        filters=[one_line],
        validators=[DataRequired("Enter a title for the finding."), MaxChars(TITLE_MAX)],
    )
    body = TextAreaField("Finding", validators=[MaxChars(TEXT_MAX)])
    recommendations = TextAreaField("Recommendations", validators=[MaxChars(TEXT_MAX)])
    message = StringField("What you changed (optional)", validators=[MaxChars(MESSAGE_MAX)])
    base_revision = HiddenField()


class MergeForm(FlaskForm):
    """The fixed fields of the merge page: your text as typed, the two revisions, and the history note.

    The choices for each clash (`choice-<field>-<n>`, `edited-<field>-<n>`) are read by
    `kb.panels.merge_view`, since their number depends on the texts.
    """

    title = HiddenField("Title", filters=[one_line], validators=[MaxChars(TITLE_MAX)])
    body = HiddenField("Finding", validators=[MaxChars(TEXT_MAX)])
    recommendations = HiddenField("Recommendations", validators=[MaxChars(TEXT_MAX)])
    message = StringField("What you changed (optional)", validators=[MaxChars(MESSAGE_MAX)])
    base_revision = HiddenField()
    their_revision = HiddenField()


class CorrectionForm(FlaskForm):
    """A correction of a published finding: its corrected text, a note saying what and why, the revision it began at."""

    title = StringField(
        "Title",
        filters=[one_line],
        validators=[DataRequired("Enter a title for the finding."), MaxChars(TITLE_MAX)],
    )
    body = TextAreaField("Finding", validators=[MaxChars(TEXT_MAX)])
    recommendations = TextAreaField("Recommendations", validators=[MaxChars(TEXT_MAX)])
    note = TextAreaField(
        "What was corrected, and why",
        validators=[DataRequired("Say what was corrected and why."), MaxChars(NOTE_MAX)],
    )
    base_revision = HiddenField()
