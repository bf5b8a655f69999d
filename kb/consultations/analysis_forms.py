"""Flask-WTF forms for the panel's work after the close: theme tags and the outcome page. Fields and validation only."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    Form,
    FormField,
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from kb.consultations.outcome import CHANGE_TEXT_MAX, WE_ASKED_MAX, ChangeDraft
from kb.inputs import one_line
from kb.pages import AsciiIndexFieldList

MAX_CHANGES = 40
"""The most change items one outcome page holds, so a forged form cannot make thousands."""


class ThemeForm(FlaskForm):
    """Add or remove one theme on a free-text answer; `q` and `theme_filter` bring the reader back to their view."""

    label = StringField("Add a theme", filters=[one_line])
    q = HiddenField()
    theme_filter = HiddenField()


class CheckboxesField(SelectMultipleField):
    """Several choices shown as checkboxes; the choices are set by the route before validating."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ChangeForm(Form):
    """One "you said, we did" item and the responses and findings it came from."""

    you_said = TextAreaField("You said", validators=[Optional(), Length(max=CHANGE_TEXT_MAX)])
    we_did = TextAreaField("We did", validators=[Length(max=CHANGE_TEXT_MAX)])
    responses = CheckboxesField("Responses it came from", coerce=int, validate_choice=True)
    findings = CheckboxesField("Findings it came from or changed", coerce=int, validate_choice=True)
    theme = SelectField("Link every response tagged with a theme", choices=[], default="", validate_choice=True)
    remove = BooleanField("Remove this change")

    def validate_we_did(self, field: TextAreaField) -> None:
        """A change with anything written or linked needs its "we did", unless it is being removed."""
        started = (self.you_said.data or "").strip() or self.responses.data or self.findings.data or self.theme.data
        if started and not (field.data or "").strip() and not self.remove.data:
            raise ValidationError("Say what was done, or tick “Remove this change”.")


class OutcomeForm(FlaskForm):
    """The whole "We asked, you said, we did" page: two texts and the change items, one blank to add another."""

    we_asked = TextAreaField("We asked", validators=[Length(max=WE_ASKED_MAX)])
    you_said = TextAreaField("You said", validators=[Length(max=WE_ASKED_MAX)])
    changes = AsciiIndexFieldList(FormField(ChangeForm), max_entries=MAX_CHANGES)

    def set_choices(
        self, responses: list[tuple[int, str]], findings: list[tuple[int, str]], themes: dict[str, list[int]]
    ) -> None:
        """Offer these responses, findings and themes (with their responses) in every change item.

        Call before validating and rendering. Each theme is offered with how many responses it links.
        """
        theme_choices = [SelectChoice("", "No theme")] + [
            SelectChoice(label, f"{label} ({len(ids)} response{'' if len(ids) == 1 else 's'})")
            for label, ids in themes.items()
        ]
        for entry in self.changes:
            entry.form.responses.choices = responses
            entry.form.findings.choices = findings
            entry.form.theme.choices = theme_choices

    def drafts(self) -> list[ChangeDraft]:
        """The change items as the service takes them, those ticked for removal left out."""
        return [
            ChangeDraft(
                you_said=entry.form.you_said.data or "",
                we_did=entry.form.we_did.data or "",
                response_ids=tuple(entry.form.responses.data or ()),
                finding_ids=tuple(entry.form.findings.data or ()),
                theme=entry.form.theme.data or "",
            )
            for entry in self.changes
            if not entry.form.remove.data
        ]

    def markdown_texts(self) -> list[tuple[str, Field]]:
        """Every Markdown text of the page with its label for a preview: a change's texts carry its number."""
        texts: list[tuple[str, Field]] = [(field.label.text, field) for field in (self.we_asked, self.you_said)]
        for number, entry in enumerate(self.changes, start=1):
            change = entry.form
            texts += [(f"Change {number}: {text.label.text}", text) for text in (change.you_said, change.we_did)]
        return texts


class PublishOutcomeForm(FlaskForm):
    """Publishing the outcome: the button and its token."""
