"""Flask-WTF forms for setting up a consultation and for answering one: fields and validation only.

The set-up form has a fixed number of question blocks and an "Add another question"
button that sends the form back with one more, so it works without JavaScript. A block
left without its question text is not a question and is skipped. Opening and closing
times are entered as London dates and times; one that does not exist or happens twice
(the nights the clocks change) is refused on its own field with the reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, FormField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired

from kb.consultations.models import QUESTION_KINDS, Consultation
from kb.consultations.service import (
    HINT_MAX,
    INTRODUCTION_MAX,
    OPTION_MAX,
    OPTIONS_MAX,
    PROMPT_MAX,
    QUESTIONS_MAX,
    TITLE_MAX,
    ConsultationDraft,
    QuestionDraft,
)
from kb.consultations.windows import WindowError, check_window, london_to_utc, parse_date, parse_time, utc_to_london
from kb.contributions.forms import CheckboxesField, MaxChars
from kb.inputs import one_line, visible_text
from kb.pages import AsciiIndexFieldList
from kb.states import QuestionKind

FIRST_BLOCKS = 3
"""Question blocks offered on a new form; "Add another question" adds one at a time."""


class QuestionForm(Form):
    """One question block: what kind of answer it takes, its text, a hint and, for a choice, the options."""

    kind = SelectField(
        "Kind of answer", choices=[SelectChoice(key, label) for key, label in QUESTION_KINDS.items()], default="text"
    )
    prompt = TextAreaField("Question", filters=[visible_text], validators=[MaxChars(PROMPT_MAX)])
    hint = StringField("Hint (optional)", validators=[MaxChars(HINT_MAX)])
    options = TextAreaField("Options, one a line")
    required = BooleanField("An answer is needed to submit a response")

    def option_lines(self) -> list[str]:
        """The options typed, one a line, blank lines left out."""
        return [line.strip() for line in (self.options.data or "").splitlines() if line.strip()]

    def is_blank(self) -> bool:
        """Whether nothing was typed in this block (the kind and the tick box alone do not count)."""
        return not (self.prompt.data or "").strip() and not self.option_lines() and not (self.hint.data or "").strip()

    def check(self) -> bool:
        """Add an error to the field at fault when the block is half filled in; True when it is usable or blank."""
        if self.is_blank():
            return True
        if not (self.prompt.data or "").strip():
            self.prompt.errors = [*self.prompt.errors, "Write the question, or clear this block to leave it out."]
            return False
        if self.kind.data != QuestionKind.CHOICE:
            return True
        options = self.option_lines()
        if not 2 <= len(options) <= OPTIONS_MAX or len(set(options)) != len(options):
            self.options.errors = [f"Give 2 to {OPTIONS_MAX} different options, one a line."]
            return False
        if any(len(option) > OPTION_MAX for option in options):
            self.options.errors = [f"Each option must be {OPTION_MAX} characters or fewer."]
            return False
        return True

    def draft(self) -> QuestionDraft:
        """The question as the service takes it."""
        return QuestionDraft(
            kind=self.kind.data or "text",
            prompt=(self.prompt.data or "").strip(),
            hint=(self.hint.data or "").strip(),
            options=tuple(self.option_lines()) if self.kind.data == QuestionKind.CHOICE else (),
            required=bool(self.required.data),
        )


class ConsultationForm(FlaskForm):
    """A consultation: title, introduction, London opening and closing times, questions and (for a review) findings."""

    title = StringField(
        "Title", filters=[one_line], validators=[DataRequired("Give the consultation a title."), MaxChars(TITLE_MAX)]
    )
    introduction = TextAreaField("Introduction", validators=[MaxChars(INTRODUCTION_MAX)])
    opens_date = StringField("Opening date")
    opens_time = StringField("Opening time")
    closes_date = StringField("Closing date")
    closes_time = StringField("Closing time")
    questions = AsciiIndexFieldList(FormField(QuestionForm), min_entries=FIRST_BLOCKS, max_entries=QUESTIONS_MAX)
    findings = CheckboxesField("Findings to put to members", choices=[], coerce=int, validate_choice=True)
    tell_all_members = BooleanField("Tell all members when it opens")

    _window: tuple[dt.datetime, dt.datetime] | None = None

    def _instant(self, date_field: StringField, time_field: StringField) -> dt.datetime | None:
        day = time = None
        try:
            day = parse_date(date_field.data or "")
        except WindowError as error:
            date_field.errors = [*date_field.errors, str(error)]
        try:
            time = parse_time(time_field.data or "")
        except WindowError as error:
            time_field.errors = [*time_field.errors, str(error)]
        if day is None or time is None:
            return None
        try:
            return london_to_utc(day, time)
        except WindowError as error:
            time_field.errors = [*time_field.errors, str(error)]
            return None

    def _check_window(self) -> bool:
        opens_at = self._instant(self.opens_date, self.opens_time)
        closes_at = self._instant(self.closes_date, self.closes_time)
        if opens_at is None or closes_at is None:
            return False
        try:
            check_window(opens_at, closes_at)
        except WindowError as error:
            self.closes_time.errors = [*self.closes_time.errors, str(error)]
            return False
        self._window = (opens_at, closes_at)
        return True

    def _check_questions(self) -> bool:
        usable = all([block.form.check() for block in self.questions])
        if usable and not self.question_drafts():
            first = self.questions[0].form.prompt
            first.errors = [*first.errors, "Ask at least one question."]
            return False
        return usable

    def validate(self, extra_validators: Any = None) -> bool:
        """The fields' own checks, then the window and the question blocks, each error on the field at fault."""
        valid = super().validate(extra_validators)
        window_ok = self._check_window()
        questions_ok = self._check_questions()
        return valid and window_ok and questions_ok

    def question_drafts(self) -> tuple[QuestionDraft, ...]:
        """The filled-in question blocks, in order."""
        return tuple(block.form.draft() for block in self.questions if not block.form.is_blank())

    def to_draft(self) -> ConsultationDraft:
        """The consultation as the service takes it; call after a successful `validate`."""
        assert self._window is not None, "validate the form first"
        opens_at, closes_at = self._window
        return ConsultationDraft(
            title=(self.title.data or "").strip(),
            introduction=(self.introduction.data or "").strip(),
            opens_at=opens_at,
            closes_at=closes_at,
            questions=self.question_drafts(),
            finding_ids=tuple(self.findings.data or ()),
            tell_all_members=bool(self.tell_all_members.data),
        )

    def error_list(self) -> list[tuple[str, str]]:
        """Every error on the form as (field id, message), question blocks' errors named by their number."""
        errors = [
            (field.id, str(error))
            for field in self
            if field.name != "questions"
            for error in field.errors
            if isinstance(error, str)
        ]
        for number, block in enumerate(self.questions, start=1):
            errors += [(sub.id, f"Question {number}: {error}") for sub in block.form for error in sub.errors]
        return errors

    def add_block(self) -> None:
        """One more empty question block (up to the limit)."""
        if len(self.questions) < QUESTIONS_MAX:
            self.questions.append_entry()


def form_data_for(consultation: Consultation) -> dict[str, Any]:
    """The set-up form's values for an existing consultation, times shown on the London clock."""
    opens_day, opens_time = utc_to_london(consultation.opens_at)
    closes_day, closes_time = utc_to_london(consultation.closes_at)
    questions = [
        {
            "kind": question.kind,
            "prompt": question.prompt,
            "hint": question.hint,
            "options": "\n".join(question.options or []),
            "required": question.required,
        }
        for question in consultation.questions
    ]
    return {
        "title": consultation.title,
        "introduction": consultation.introduction,
        "opens_date": opens_day.isoformat(),
        "opens_time": f"{opens_time:%H:%M}",
        "closes_date": closes_day.isoformat(),
        "closes_time": f"{closes_time:%H:%M}",
        "questions": questions,
        "findings": [item.finding_id for item in consultation.consulted_findings if item.finding_id is not None],
        "tell_all_members": consultation.tell_all_members,
    }


class AnswerForm(FlaskForm):
    """The answering form's token; the answers are read per question by the route, the button from `action`."""
