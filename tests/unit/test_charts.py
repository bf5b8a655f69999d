"""Server-drawn bar charts: the SVG names every value, escapes labels, and the data table matches the bars."""

from __future__ import annotations

from xml.etree import ElementTree

from kb.charts import Bar, BarChart, bar_chart_svg, chart_from_counts

SVG = "{http://www.w3.org/2000/svg}"


def _parsed(chart: BarChart) -> ElementTree.Element:
    return ElementTree.fromstring(bar_chart_svg(chart, chart_id="c1"))


def test_a_chart_is_an_image_titled_and_described_with_every_value() -> None:
    chart = chart_from_counts("Lessons by region", {"England": 18, "North West": 3})
    svg = _parsed(chart)
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "c1-title c1-desc"
    assert svg.find(f"{SVG}title").text == "Lessons by region"
    assert svg.find(f"{SVG}desc").text == "Lessons by region. England: 18; North West: 3."
    texts = [element.text for element in svg.iter(f"{SVG}text")]
    assert texts == ["England", "18", "North West", "3"]


def test_bar_lengths_are_proportional_and_zero_draws_no_bar() -> None:
    chart = chart_from_counts("Counts", [("a", 10), ("b", 5), ("c", 0)])
    widths = [float(rect.get("width")) for rect in _parsed(chart).iter(f"{SVG}rect")]
    assert len(widths) == 2
    assert widths[0] == 2 * widths[1]


def test_labels_are_escaped_and_long_ones_shortened_in_the_drawing_only() -> None:
    label = '<script>alert("x")</script> and a label much longer than the drawing allows'
    chart = chart_from_counts("Escaping & shortening", {label: 1})
    drawn = bar_chart_svg(chart, chart_id="c2")
    assert "<script>" not in drawn
    assert "&lt;script&gt;" in drawn
    first_text = next(ElementTree.fromstring(drawn).iter(f"{SVG}text")).text or ""
    assert first_text.endswith("…")
    assert len(first_text) == 28
    assert chart.rows == [(label, (1,))]


def test_a_stacked_chart_has_a_legend_and_a_total_column() -> None:
    chart = BarChart(
        "Answers by organisation type",
        (Bar("Agree", (3, 1)), Bar("Disagree", (0, 2))),
        series=("GP federation", "Commissioner"),
    )
    assert chart.header == ("", "GP federation", "Commissioner", "Total")
    assert chart.rows == [("Agree", (3, 1, 4)), ("Disagree", (0, 2, 2))]
    texts = [element.text for element in _parsed(chart).iter(f"{SVG}text")]
    assert texts[-2:] == ["GP federation", "Commissioner"]


def test_an_empty_chart_says_so() -> None:
    assert chart_from_counts("Nothing", {"a": 0}).is_empty
    assert chart_from_counts("Nothing", {}).is_empty
    assert _parsed(chart_from_counts("Nothing", {})).find(f"{SVG}desc").text == "Nothing: no data."


def test_the_description_counts_in_good_english() -> None:
    chart = chart_from_counts("Lessons by region", {"London": 1, "North West": 2, "Wales": 0}, unit="lessons")
    assert (
        _parsed(chart).find(f"{SVG}desc").text
        == "Lessons by region. London: 1 lesson; North West: 2 lessons; Wales: 0 lessons."
    )


def test_every_unit_kb_draws_has_its_singular() -> None:
    units = {
        "lessons": "1 lesson",
        "actions": "1 action",
        "responses": "1 response",
        "consultations": "1 consultation",
        "confirmed recurrences": "1 confirmed recurrence",
    }
    for unit, one in units.items():
        chart = chart_from_counts("Counts", {"a": 1}, unit=unit)
        assert chart.counted(1) == one
        assert chart.counted(2) == f"2 {unit}"
        assert chart.counted(0) == f"0 {unit}"
    assert BarChart("People", (), unit="people", unit_one="person").counted(1) == "1 person"
    assert chart_from_counts("Counts", {"a": 1}).counted(1) == "1"
