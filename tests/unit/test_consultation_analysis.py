"""Counting and reading a consultation's answers: options in order, splits by organisation type and region, search."""

from __future__ import annotations

import pytest

from kb.consultations.analysis import (
    NO_ANSWER,
    NO_REGION,
    NO_TYPE,
    AnswerData,
    QuestionData,
    ResponseData,
    ThemeLabelError,
    matches,
    normalise_theme,
    option_counts,
    paragraphs,
    question_charts,
    split_chart,
    text_answers,
    theme_counts,
)

SCALE = QuestionData(
    1,
    1,
    "scale",
    "Agreed?",
    (
        ("strongly-agree", "Strongly agree"),
        ("agree", "Agree"),
        ("neither", "Neither agree nor disagree"),
        ("disagree", "Disagree"),
        ("strongly-disagree", "Strongly disagree"),
    ),
)
TEXT = QuestionData(2, 2, "text", "Anything else?")


def respond(number: int, choice: str | None, *, type_: str = "", region: str = "", text: str = "", themes=()):
    answers = {}
    if choice is not None:
        answers[SCALE.id] = AnswerData(number * 10, SCALE.id, choice=choice)
    if text:
        answers[TEXT.id] = AnswerData(number * 10 + 1, TEXT.id, text=text, themes=tuple(themes))
    return ResponseData(number, organisation_type_label=type_, region=region, answers=answers)


def test_options_are_counted_in_the_order_offered_with_zeros() -> None:
    responses = [respond(1, "agree"), respond(2, "agree"), respond(3, "strongly-disagree")]
    assert option_counts(SCALE, responses) == [
        ("Strongly agree", 0),
        ("Agree", 2),
        ("Neither agree nor disagree", 0),
        ("Disagree", 0),
        ("Strongly disagree", 1),
    ]


def test_unanswered_and_unknown_choices_are_counted_after_the_options() -> None:
    responses = [respond(1, None), respond(2, "agree"), respond(3, "withdrawn-option"), respond(4, None)]
    counts = option_counts(SCALE, responses)
    assert counts[-2:] == [("withdrawn-option", 1), (NO_ANSWER, 2)]
    assert sum(count for _, count in counts) == 4


def test_no_answer_bar_only_when_someone_left_it_blank() -> None:
    assert NO_ANSWER not in dict(option_counts(SCALE, [respond(1, "agree")]))


def test_split_by_organisation_type_stacks_the_options() -> None:
    responses = [
        respond(1, "agree", type_="Ambulance service"),
        respond(2, "disagree", type_="Ambulance service"),
        respond(3, "agree", type_="Commissioner"),
        respond(4, None, type_=""),
    ]
    chart = split_chart("By type", SCALE, responses, lambda r: r.organisation_type_label or NO_TYPE)
    assert chart.series == (
        "Strongly agree",
        "Agree",
        "Neither agree nor disagree",
        "Disagree",
        "Strongly disagree",
        NO_ANSWER,
    )
    rows = {label: values for label, values in chart.rows}
    assert list(rows) == ["Ambulance service", "Commissioner", NO_TYPE]
    assert rows["Ambulance service"] == (0, 1, 0, 1, 0, 0, 2)
    assert rows["Commissioner"] == (0, 1, 0, 0, 0, 0, 1)
    assert rows[NO_TYPE] == (0, 0, 0, 0, 0, 1, 1)


def test_question_charts_split_by_region_and_count_answered() -> None:
    responses = [
        respond(1, "agree", region="London"),
        respond(2, "agree", region=""),
        respond(3, None, region="London"),
    ]
    charts = question_charts(SCALE, responses)
    assert charts.answered == 2
    assert dict(charts.overall.rows)["Agree"] == (2,)
    regions = dict(charts.by_region.rows)
    assert list(regions) == ["London", NO_REGION]
    assert regions["London"][-1] == 2
    assert "Question 1" in charts.by_type.title


def test_a_choice_question_counts_its_own_options() -> None:
    question = QuestionData(5, 2, "choice", "Which?", (("Red", "Red"), ("Blue", "Blue")))
    responses = [
        ResponseData(1, answers={5: AnswerData(1, 5, choice="Blue")}),
        ResponseData(2, answers={5: AnswerData(2, 5, choice="Blue")}),
    ]
    assert option_counts(question, responses) == [("Red", 0), ("Blue", 2)]


def test_text_answers_search_every_word_ignoring_case() -> None:
    responses = [
        respond(1, None, text="Staffing was too thin at night."),
        respond(2, None, text="The NIGHT rota was fine; staffing was not."),
        respond(3, None, text="Nothing to add."),
        respond(4, None, text="   "),
    ]
    assert [item.response.id for item in text_answers(TEXT, responses)] == [1, 2, 3]
    assert [item.response.id for item in text_answers(TEXT, responses, query="night staffing")] == [1, 2]
    assert [item.response.id for item in text_answers(TEXT, responses, query="rota night")] == [2]


def test_text_answers_filter_by_theme_ignoring_case() -> None:
    responses = [
        respond(1, None, text="a", themes=("Staffing",)),
        respond(2, None, text="b", themes=("Training", "staffing")),
        respond(3, None, text="c"),
    ]
    assert [item.response.id for item in text_answers(TEXT, responses, theme="STAFFING")] == [1, 2]
    assert [item.response.id for item in text_answers(TEXT, responses, theme="Training")] == [2]


def test_theme_counts_most_used_first() -> None:
    responses = [respond(1, None, text="a", themes=("B",)), respond(2, None, text="b", themes=("A", "B"))]
    assert theme_counts(responses) == [("B", 2), ("A", 1)]


def test_matches_empty_query() -> None:
    assert matches("anything", "")
    assert not matches("anything", "else")


@pytest.mark.parametrize(
    ("typed", "kept"), [("  staffing  ", "staffing"), ("night\t\nshift", "night shift"), ("x" * 80, "x" * 80)]
)
def test_theme_labels_are_tidied(typed: str, kept: str) -> None:
    assert normalise_theme(typed) == kept


@pytest.mark.parametrize("typed", ["", "   \n", "x" * 81])
def test_bad_theme_labels_are_refused_with_a_message(typed: str) -> None:
    with pytest.raises(ThemeLabelError, match="theme"):
        normalise_theme(typed)


def test_paragraphs_keep_lines_and_blank_line_breaks() -> None:
    assert paragraphs("one\r\ntwo\n\n\nthree\n") == [["one", "two"], ["three"]]
    assert paragraphs("   ") == []
