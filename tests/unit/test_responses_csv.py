"""The responses' CSV: a byte order mark, a column per question, quoting, and cells safe from formula injection."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from kb.consultations.analysis import AnswerData, QuestionData, ResponseData
from kb.consultations.responses_csv import FIXED_COLUMNS, header, responses_csv

SCALE = QuestionData(1, 1, "scale", "Agreed?", (("agree", "Agree"), ("disagree", "Disagree")))
CHOICE = QuestionData(2, 2, "choice", "Which, then?", (("Red", "Red"), ("Blue", "Blue")))
TEXT = QuestionData(3, 3, "text", "Anything else?")
QUESTIONS = [SCALE, CHOICE, TEXT]
SUBMITTED = dt.datetime(2026, 7, 1, 9, 30, tzinfo=dt.UTC)


def response(text: str = "", *, name: str = "Org", themes: tuple[str, ...] = (), choice: str | None = "agree"):
    answers = {3: AnswerData(31, 3, text=text, themes=themes)} if text else {}
    if choice:
        answers[1] = AnswerData(11, 1, choice=choice)
    return ResponseData(
        7,
        organisation_name=name,
        organisation_type="ambulance-service",
        organisation_type_label="Ambulance service",
        region="London",
        submitted_at=SUBMITTED,
        answers=answers,
    )


def parsed(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def test_bom_header_and_crlf() -> None:
    text = responses_csv(QUESTIONS, [response("Fine.")])
    assert text.startswith("\ufeffresponse id,")
    assert text.endswith("\r\n")
    rows = parsed(text)
    assert rows[0] == [*FIXED_COLUMNS, "Q1. Agreed?", "Q2. Which, then?", "Q3. Anything else?", "Q3 themes"]
    assert rows[1] == [
        "7",
        "2026-07-01T09:30:00Z",
        "2026-07-01T10:30:00+01:00",
        "Org",
        "Ambulance service",
        "London",
        "Agree",
        "",
        "Fine.",
        "",
    ]


def test_one_row_per_response_and_themes_joined() -> None:
    rows = parsed(responses_csv(QUESTIONS, [response("a", themes=("Staffing", "Training")), response("b")]))
    assert len(rows) == 3
    assert rows[1][-1] == "Staffing; Training"


@pytest.mark.parametrize(
    "text",
    [
        "commas, inside, it",
        'a "quoted" word',
        "two\nlines",
        "windows\r\nlines",
        "ends with a comma,",
        '"',
        "tab\tinside",
    ],
)
def test_awkward_text_survives_the_round_trip(text: str) -> None:
    rows = parsed(responses_csv(QUESTIONS, [response(text)]))
    assert rows[1][8] == text
    assert len(rows) == 2


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_cells_that_start_like_a_formula_are_defused(start: str) -> None:
    payload = f'{start}HYPERLINK("http://evil.example","click")'
    rows = parsed(responses_csv(QUESTIONS, [response(payload, name=payload, themes=(payload,))]))
    row = rows[1]
    assert row[8] == "'" + payload
    assert row[3] == "'" + payload
    assert row[9] == "'" + payload
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)


def test_a_question_prompt_is_defused_too() -> None:
    assert header([QuestionData(9, 1, "text", "=1+1")])[len(FIXED_COLUMNS)] == "Q1. =1+1"
    assert header([QuestionData(9, 1, "text", "x")])[-1] == "Q1 themes"


def test_unanswered_questions_are_empty_cells() -> None:
    rows = parsed(responses_csv(QUESTIONS, [response(choice=None)]))
    assert rows[1][6:] == ["", "", "", ""]


def test_no_responses_gives_the_header_alone() -> None:
    assert len(parsed(responses_csv(QUESTIONS, []))) == 1
