"""Forms for staff editing an entry by its fields: a lesson, a review or a meeting paper.

Fields and validation only. The lesson form extends the member's `LessonForm`, so its
sections, tags, region and date are the same fields; the staff forms add what only
moderators and admins set (status, visibility, the review) and the kind's own fields.
Sources are a list of rows: a few blank ones, and "Add another source" re-shows the form
with one more.
"""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import Field, Form, FormField, HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, ValidationError

from kb.contributions.forms import (
    MESSAGE_MAX,
    SECTION_MAX,
    SUMMARY_MAX,
    LessonForm,
    MaxChars,
    partial_date_check,
)
from kb.entries.limits import PREVIEW_MAX_CHARS, TITLE_MAX
from kb.entries.vocabulary import MATURITIES, PAPER_STATUSES, PAPER_TYPES, REVIEW_STATUSES, STATUSES, VISIBILITIES
from kb.inputs import one_line
from kb.pages import AsciiIndexFieldList
from kb.states import EntryStatus, PaperStatus, Visibility

BODY_MAX = PREVIEW_MAX_CHARS
"""Characters in the text of a review or a meeting paper."""
LINE_MAX = 300
"""Characters in a one-line field: a meeting, a source's title or publisher."""
BODY_NAME_MAX = 200
"""Characters in the name of a review's commissioning body (as the column holds)."""
URL_MAX = 2_000
SOURCES_MAX = 40
"""Source rows one form takes."""
BLANK_SOURCES = 2
"""Blank source rows offered under the filled ones."""


def _choices(labels: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


def url_check(form: Form, field: Field) -> None:
    """Accept an empty value or an http or https address. Raises ValidationError otherwise."""
    text = (field.data or "").strip()
    if text and not re.match(r"^https?://\S+$", text):
        raise ValidationError("Enter the address in full, starting https:// or http://.")


class SourceForm(Form):
    """One outside source: its title, and optionally its publisher, date and address."""

    title = StringField("Title", filters=[one_line], validators=[MaxChars(LINE_MAX)])
    publisher = StringField("Publisher", filters=[one_line], validators=[MaxChars(LINE_MAX)])
    date = StringField("Date", filters=[one_line], validators=[MaxChars(32), partial_date_check])
    url = StringField("Web address", filters=[one_line], validators=[MaxChars(URL_MAX), url_check])

    def is_blank(self) -> bool:
        """Whether nothing was typed in this row."""
        return not any((field.data or "").strip() for field in (self.title, self.publisher, self.date, self.url))

    def validate(self, extra_validators: object = None) -> bool:
        """A row with anything in it needs a title; a blank row is left out."""
        valid = super().validate()
        if not self.is_blank() and not (self.title.data or "").strip():
            self.title.errors = [*self.title.errors, "Give the source a title, or clear its row."]
            valid = False
        return valid


class StaffFields(FlaskForm):
    """What staff set on any entry: status, visibility, the note for the history and the revision edited."""

    status = SelectField("Status", choices=[], default=EntryStatus.PUBLISHED)
    visibility = SelectField("Who may read it", choices=_choices(VISIBILITIES), default=Visibility.MEMBERS)
    sources = AsciiIndexFieldList(FormField(SourceForm), max_entries=SOURCES_MAX)
    message = StringField("What you changed (optional)", validators=[MaxChars(MESSAGE_MAX)])
    base_revision = HiddenField()

    def offer_statuses(self, current: str | None) -> None:
        """Offer every status but `merged`, which only merging sets (kept when the entry already has it)."""
        self.status.choices = [
            SelectChoice(value, label)
            for value, label in STATUSES.items()
            if value != EntryStatus.MERGED or value == current
        ]

    def offer_reviews(self, reviews: list[SelectChoice]) -> None:
        """The review menu's choices, when the form has one; the first says there is none."""
        review = getattr(self, "review", None)
        if isinstance(review, SelectField):
            review.choices = [SelectChoice("", "None"), *reviews]

    def validate_review_for_panel(self) -> bool:
        """A panel audience needs a review (lessons and papers). Adds the error; False when missing."""
        review = getattr(self, "review", None)
        if isinstance(review, SelectField) and self.visibility.data == Visibility.PANEL and not review.data:
            review.errors = [*review.errors, "Choose the review whose panel may read it."]
            return False
        return True

    def pad_sources(self, extra: int = BLANK_SOURCES) -> None:
        """Add blank source rows under the filled ones, up to `SOURCES_MAX`."""
        for _ in range(extra):
            if len(self.sources) >= SOURCES_MAX:
                break
            self.sources.append_entry()


class StaffLessonForm(LessonForm, StaffFields):
    """A lesson as staff edit it: the member's fields, plus maturity, sources, review, status and visibility."""

    maturity = SelectField("Maturity", choices=_choices(MATURITIES))
    review = SelectField("Review", choices=[], default="")


class ReviewForm(StaffFields):
    """A review: what it is, who commissioned it, its terms of reference, where it is, and its text."""

    title = StringField("Title", filters=[one_line], validators=[DataRequired("Enter a title."), MaxChars(TITLE_MAX)])
    summary = TextAreaField(
        "Summary", validators=[DataRequired("Enter a summary of one or two sentences."), MaxChars(SUMMARY_MAX)]
    )
    commissioning_body = StringField(
        "Commissioning body",
        filters=[one_line],
        validators=[DataRequired("Enter who commissioned the review."), MaxChars(BODY_NAME_MAX)],
    )
    review_status = SelectField("Where the review is", choices=_choices(REVIEW_STATUSES))
    terms_of_reference = TextAreaField("Terms of reference", validators=[MaxChars(SECTION_MAX)])
    body = TextAreaField("Text", validators=[MaxChars(BODY_MAX)])


class PaperForm(StaffFields):
    """A meeting paper: its meeting and date, type, draft or final, the review it belongs to, and its text."""

    title = StringField("Title", filters=[one_line], validators=[DataRequired("Enter a title."), MaxChars(TITLE_MAX)])
    summary = TextAreaField(
        "Summary", validators=[DataRequired("Enter a summary of one or two sentences."), MaxChars(SUMMARY_MAX)]
    )
    meeting = StringField("Meeting", filters=[one_line], validators=[MaxChars(LINE_MAX)])
    meeting_date = StringField("Meeting date", validators=[MaxChars(32), partial_date_check])
    paper_type = SelectField("Type of paper", choices=_choices(PAPER_TYPES))
    paper_status = SelectField("Draft or final", choices=_choices(PAPER_STATUSES), default=PaperStatus.FINAL)
    review = SelectField("Review", choices=[], default="")
    body = TextAreaField("Text", validators=[MaxChars(BODY_MAX)])


StaffForm = StaffLessonForm | ReviewForm | PaperForm
"""Any of the three staff forms."""
