"""Counting and reading a closed consultation's answers: pure functions over plain values.

The routes load the questions and the *submitted* responses (`kb.consultations.outcome`
turns the models into the dataclasses below); everything here works on those values
alone, with no app and no database, so the counts are tested directly. Charts are
`kb.charts.BarChart`s, drawn as SVG with their data table by the `bar_chart` macro.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from kb.charts import Bar, BarChart, chart_from_counts
from kb.errors import InvalidInputError
from kb.states import QuestionKind

NO_ANSWER = "No answer"
"""The bar for submitted responses that left a scale or choice question unanswered."""
NO_TYPE = "Organisation type not recorded"
NO_REGION = "Region not recorded"
THEME_MAX = 80
"""The longest theme label (the column's length)."""
_SPACES = re.compile(r"\s+")


class ThemeLabelError(InvalidInputError):
    """A theme label that is empty or too long once its spaces are tidied."""


@dataclass(frozen=True)
class QuestionData:
    """One question as the analysis needs it: `options` are (stored key, label) pairs in the order offered."""

    id: int
    number: int
    kind: str
    prompt: str
    options: tuple[tuple[str, str], ...] = ()

    @property
    def is_counted(self) -> bool:
        """Whether answers are counted per option (scale and choice), not read as text."""
        return self.kind in (QuestionKind.SCALE, QuestionKind.CHOICE)

    def label_of(self, choice: str | None) -> str:
        """The label shown for a stored choice; an unknown key is shown as stored, a missing one as no answer."""
        if not choice:
            return NO_ANSWER
        return dict(self.options).get(choice, choice)


@dataclass(frozen=True)
class AnswerData:
    """One answer: `text` for free text, `choice` (a stored key) otherwise, and the panel's themes."""

    id: int
    question_id: int
    text: str = ""
    choice: str | None = None
    themes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResponseData:
    """One submitted response with the organisation details copied when it was submitted."""

    id: int
    organisation_name: str = ""
    organisation_type: str = ""
    organisation_type_label: str = ""
    region: str = ""
    submitted_at: dt.datetime | None = None
    answers: dict[int, AnswerData] = field(default_factory=dict)
    """Answers by question id; a question left unanswered has none."""


@dataclass(frozen=True)
class QuestionCharts:
    """A counted question's charts: overall, and split by organisation type and by region."""

    question: QuestionData
    overall: BarChart
    by_type: BarChart
    by_region: BarChart
    answered: int


@dataclass(frozen=True)
class TextAnswer:
    """A free-text answer as the analysis page lists it, with who it came from (as submitted)."""

    response: ResponseData
    answer: AnswerData


def _choice_of(response: ResponseData, question: QuestionData) -> str | None:
    answer = response.answers.get(question.id)
    return answer.choice if answer is not None and answer.choice else None


def option_counts(question: QuestionData, responses: Iterable[ResponseData]) -> list[tuple[str, int]]:
    """How many responses chose each option, in the order offered (every option, even at zero).

    A stored choice that is not among the options (it cannot normally happen) is counted
    under its own name after them; "No answer" comes last, only when some left it blank.
    """
    counts = Counter(_choice_of(response, question) for response in responses)
    rows = [(label, counts.pop(key, 0)) for key, label in question.options]
    blank = counts.pop(None, 0)
    rows += [(str(key), counts[key]) for key in sorted(counts, key=str)]
    if blank:
        rows.append((NO_ANSWER, blank))
    return rows


def _type_of(response: ResponseData) -> str:
    return response.organisation_type_label or response.organisation_type or NO_TYPE


def _region_of(response: ResponseData) -> str:
    return response.region or NO_REGION


def split_chart(
    title: str, question: QuestionData, responses: Sequence[ResponseData], group: Callable[[ResponseData], str]
) -> BarChart:
    """A stacked chart with one bar per group (organisation type, region) split into the question's options.

    Groups are in alphabetical order, with the "not recorded" group last; the series are
    the options in the order offered, plus "No answer" when some group left it blank.
    """
    by_group: dict[str, list[ResponseData]] = {}
    for response in responses:
        by_group.setdefault(group(response), []).append(response)
    series = [label for _, label in question.options]
    extra = sorted({question.label_of(_choice_of(r, question)) for r in responses} - set(series) - {NO_ANSWER}, key=str)
    blank = any(_choice_of(r, question) is None for r in responses)
    series += extra + ([NO_ANSWER] if blank else [])
    bars = []
    for name in sorted(by_group, key=lambda name: (name in (NO_TYPE, NO_REGION), name.casefold())):
        counts = Counter(question.label_of(_choice_of(r, question)) for r in by_group[name])
        bars.append(Bar(name, tuple(counts.get(label, 0) for label in series)))
    return BarChart(title, tuple(bars), series=tuple(series), unit="responses")


def question_charts(question: QuestionData, responses: Sequence[ResponseData]) -> QuestionCharts:
    """The three charts of one scale or choice question over the submitted responses."""
    prefix = f"Question {question.number}"
    overall = chart_from_counts(f"{prefix}: answers", option_counts(question, responses), unit="responses")
    return QuestionCharts(
        question=question,
        overall=overall,
        by_type=split_chart(f"{prefix}: answers by organisation type", question, responses, _type_of),
        by_region=split_chart(f"{prefix}: answers by region", question, responses, _region_of),
        answered=sum(1 for response in responses if _choice_of(response, question) is not None),
    )


def matches(text: str, query: str) -> bool:
    """Whether `text` holds every word of `query`, ignoring case; an empty query matches everything."""
    folded = text.casefold()
    return all(word in folded for word in query.casefold().split())


def text_answers(
    question: QuestionData, responses: Iterable[ResponseData], *, query: str = "", theme: str = ""
) -> list[TextAnswer]:
    """The non-empty free-text answers to `question`, in response order, matching `query` and tagged `theme`."""
    found = []
    wanted = theme.casefold()
    for response in responses:
        answer = response.answers.get(question.id)
        if answer is None or not answer.text.strip() or not matches(answer.text, query):
            continue
        if wanted and wanted not in (label.casefold() for label in answer.themes):
            continue
        found.append(TextAnswer(response, answer))
    return found


def theme_counts(responses: Iterable[ResponseData]) -> list[tuple[str, int]]:
    """Every theme used on the responses' answers with how many answers carry it, most used first."""
    counts = Counter(label for response in responses for answer in response.answers.values() for label in answer.themes)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0].casefold()))


def normalise_theme(label: str) -> str:
    """A theme label with its spaces tidied; raises `ThemeLabelError` when it is empty or too long."""
    tidy = _SPACES.sub(" ", label).strip()
    if not tidy:
        raise ThemeLabelError("Enter a theme to tag the answer with.")
    if len(tidy) > THEME_MAX:
        raise ThemeLabelError(f"A theme must be {THEME_MAX} characters or fewer (this one has {len(tidy)}).")
    return tidy


def paragraphs(text: str) -> list[list[str]]:
    """Plain text as paragraphs (split at blank lines) of lines, for showing an answer as it was typed."""
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n").strip())
    return [block.split("\n") for block in blocks if block.strip()]
