"""The form for attaching a file to an entry or replacing one: fields and validation only."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField

from kb.contributions.forms import MaxChars
from kb.inputs import one_line

DOCUMENT_TITLE_MAX = 300
"""As long as `Document.title` may be."""


class DocumentForm(FlaskForm):
    """A file and its title; the title may be left empty to use the file's name."""

    file = FileField("File", validators=[FileRequired("Choose a file to upload.")])
    title = StringField("Title", filters=[one_line], validators=[MaxChars(DOCUMENT_TITLE_MAX)])
