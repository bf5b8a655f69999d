"""Flask-WTF forms for writing, editing and moderating entries: fields and validation only.

Every text field has a maximum length with a message that names the field and says how
long the text is, so an oversized field is answered with a clear message and the text
kept, never a stack trace.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    Field,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from kb.content.fields import normalise_tag
from kb.content.lesson_body import level_two_headings
from kb.dates import BadDateError, PartialDate
from kb.entries.limits import FREE_TAG_COUNT_MAX, TAG_MAX_CHARS, TITLE_MAX
from kb.entries.vocabulary import LESSON_SECTIONS
from kb.inputs import one_line
from kb.states import Visibility

SUMMARY_MAX = 1_000
SECTION_MAX = 20_000
REGION_MAX = 120
FREE_TAGS_MAX = 500
MESSAGE_MAX = 500
REASON_MAX = 2_000
DOCUMENT_MAX = 100_000
EXPIRED_MESSAGE = "This form expired; check it and send it again."
"""Shown when a form's CSRF token is missing or stale; the typed text is shown back."""


def token_expired(form: FlaskForm) -> bool:
    """Whether a form that checks its own CSRF token found it missing or stale.

    The raw error is dropped: the page says `EXPIRED_MESSAGE` instead and shows back
    what was typed. Call after `form.validate()`.
    """
    expired = bool(form.meta.csrf and form.csrf_token.errors)
    if expired:
        form.csrf_token.errors = []
    return expired


PUBLISH_VISIBILITIES: dict[str, str] = {
    "members": "Members (anyone signed in)",
    "public": "Everyone",
    "panel": "A review panel only",
}


class MaxChars:
    """A length limit whose message names the field, the limit and the length given."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def __call__(self, form: FlaskForm, field: Field) -> None:
        """Raises ValidationError when the field's text is longer than the limit."""
        length = len(field.data or "") if isinstance(field.data, str) else 0
        if length > self.limit:
            raise ValidationError(
                f"{field.label.text} must be {self.limit:,} characters or fewer; it has {length:,}. "
                "Shorten it, then send the form again."
            )


def over_limit(form: FlaskForm) -> bool:
    """Whether any field of `form` is longer than its `MaxChars` limit (checked before a preview renders it)."""
    return any(
        isinstance(field.data, str) and len(field.data) > check.limit
        for field in form
        for check in field.validators
        if isinstance(check, MaxChars)
    )


def section_headings_check(form: FlaskForm, field: Field) -> None:
    """Refuse a `## heading` inside a lesson section: it would start a new section.

    Raises ValidationError naming the line; headings inside a section use `###`.
    """
    headings = level_two_headings((field.data or "").splitlines())
    number = next((index for index, heading in enumerate(headings, start=1) if heading), None)
    if number is not None:
        raise ValidationError(
            f"{field.label.text}, line {number}: '##' starts a new section of the lesson; "
            "use '###' for a heading inside this section."
        )


def partial_date_check(form: FlaskForm, field: Field) -> None:
    """Accept an empty value or a date of the form YYYY, YYYY-MM or YYYY-MM-DD."""
    text = (field.data or "").strip()
    if not text:
        return
    try:
        PartialDate.parse(text)
    except BadDateError:
        raise ValidationError(
            "Enter the date as a year (2013), a year and month (2013-05) or a full date (2013-05-14)."
        ) from None


def split_free_tags(text: str) -> list[str]:
    """The tag slugs in a comma-separated list of free tags, each once, empty ones left out."""
    slugs = (normalise_tag(part) for part in text.split(","))
    return list(dict.fromkeys(slug for slug in slugs if slug))


def free_tags_check(form: FlaskForm, field: Field) -> None:
    """At most `FREE_TAG_COUNT_MAX` free tags, each of `TAG_MAX_CHARS` characters or fewer."""
    parts = [part.strip() for part in (field.data or "").split(",") if part.strip()]
    if len(parts) > FREE_TAG_COUNT_MAX:
        raise ValidationError(f"Give at most {FREE_TAG_COUNT_MAX} other tags; you gave {len(parts)}.")
    for part in parts:
        if len(part) > TAG_MAX_CHARS:
            raise ValidationError(f"Each tag must be {TAG_MAX_CHARS} characters or fewer: '{part[:20]}…' is longer.")
        if not normalise_tag(part):
            raise ValidationError(f"The tag '{part}' needs at least one letter or digit.")


class CheckboxesField(SelectMultipleField):
    """Several choices shown as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _section_field(key: str, label: str) -> TextAreaField:
    required = f"Enter the {label.lower()}." if key != "lesson" else "Enter the lesson."
    return TextAreaField(label, validators=[DataRequired(required), MaxChars(SECTION_MAX), section_headings_check])


class LessonForm(FlaskForm):
    """A lesson as a member writes it: the four sections, tags, region and date.

    Status, visibility, author and slug are not fields: kb sets them, so whatever is
    posted under those names is ignored.
    """

    title = StringField("Title", filters=[one_line], validators=[DataRequired("Enter a title."), MaxChars(TITLE_MAX)])
    summary = TextAreaField(
        "Summary", validators=[DataRequired("Enter a summary of one or two sentences."), MaxChars(SUMMARY_MAX)]
    )
    driving_event = _section_field("driving_event", LESSON_SECTIONS["driving_event"])
    lesson = _section_field("lesson", LESSON_SECTIONS["lesson"])
    recommendation = _section_field("recommendation", LESSON_SECTIONS["recommendation"])
    evidence = _section_field("evidence", LESSON_SECTIONS["evidence"])
    tags = CheckboxesField("Tags", choices=[], validate_choice=True)
    free_tags = StringField("Other tags", filters=[one_line], validators=[MaxChars(FREE_TAGS_MAX), free_tags_check])
    region = SelectField("Region", choices=[], validate_choice=False)
    event_date = StringField("When it happened", validators=[MaxChars(32), partial_date_check])
    message = StringField("What you changed (optional)", validators=[MaxChars(MESSAGE_MAX)])
    base_revision = HiddenField()
    unlisted_region: str | None = None

    def validate_region(self, field: Field) -> None:
        """The region is one of those offered (the list, and a stored one it lacks). Raises ValidationError."""
        if field.data and field.data not in {value for value, _ in field.choices}:
            raise ValidationError("Choose a region from the list.")

    def section_texts(self) -> dict[str, str]:
        """The four sections' texts keyed as in `LESSON_SECTIONS`."""
        return {key: getattr(self, key).data or "" for key in LESSON_SECTIONS}


class DocumentForm(FlaskForm):
    """The whole entry as one Markdown file with front matter, for moderators and admins."""

    text = TextAreaField("Document", validators=[DataRequired("The document is empty."), MaxChars(DOCUMENT_MAX)])
    message = StringField("What you changed (optional)", validators=[MaxChars(MESSAGE_MAX)])
    base_revision = HiddenField()


class PublishForm(FlaskForm):
    """Publish a submitted lesson for an audience; a panel audience needs its review."""

    visibility = RadioField(
        "Who may read it",
        choices=[SelectChoice(value, label) for value, label in PUBLISH_VISIBILITIES.items()],
        default="members",
        validators=[InputRequired("Choose who may read it.")],
    )
    review = SelectField("Review whose panel may read it", choices=[], validate_choice=False)

    def validate_review(self, field: Field) -> None:
        """A panel audience needs a review. Raises ValidationError when none is chosen."""
        if self.visibility.data == Visibility.PANEL and not field.data:
            raise ValidationError("Choose the review whose panel may read it.")
        if field.data and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("Choose one of the reviews listed.")


class ReasonForm(FlaskForm):
    """Return a lesson to its author, or reject it: the reason is required."""

    reason = TextAreaField(
        "Reason", validators=[DataRequired("Give a reason; the author will see it."), MaxChars(REASON_MAX)]
    )
