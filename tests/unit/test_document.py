"""Content files: parsing, every located problem, references, and the canonical form."""

from __future__ import annotations

import dataclasses

import pytest

from kb.content.document import (
    EntryDocument,
    Reference,
    front_matter_of,
    parse_document,
    serialise_document,
)
from kb.content.fields import Problem, SourceRef, normalise_tag
from kb.dates import PartialDate
from kb.entries.vocabulary import LESSON_SECTIONS
from kb.markdown import INTERNAL_LINK

LESSON_BODY = [
    "## Driving event",  # first body line
    "",
    "The event happened.",
    "",
    "## Lesson",
    "",
    "What was learned.",
    "",
    "## Recommendation",
    "",
    "What to do.",
    "",
    "## Evidence",
    "",
    "- [[some-paper]]: what it says.",
]


def lines_of(*front: str, body: list[str] | None = None) -> str:
    """A file from front matter lines and body lines; line 1 is the opening `---`."""
    body = LESSON_BODY if body is None else body
    return "\n".join(["---", *front, "---", "", *body]) + "\n"


def lesson(*extra: str, body: list[str] | None = None) -> str:
    return lines_of("kind: lesson", "title: A lesson", "summary: What it is about.", *extra, body=body)


def paper(*extra: str, body: list[str] | None = None) -> str:
    front = ("kind: paper", "title: A paper", "summary: What it is about.", "paper_type: report", *extra)
    return lines_of(*front, body=["Some text." if body is None else "\n".join(body)])


def review(*extra: str) -> str:
    front = ("kind: review", "title: A review", "summary: What it is about.", "commissioning_body: NHS England", *extra)
    return lines_of(*front, body=["About the review."])


def problems_of(text: str, path: str = "content/lessons/x.md") -> list[str]:
    result = parse_document(text, path, default_slug="x")
    assert result.document is None, "a file with problems must not give a document"
    return [str(problem) for problem in result.problems]


def line_of(text: str, start: str) -> int:
    """The 1-based line of the first line that starts with `start`."""
    return next(number for number, line in enumerate(text.split("\n"), 1) if line.startswith(start))


# --- Good files ---------------------------------------------------------------


def test_parse_full_lesson():
    text = lesson(
        "slug: a-lesson",
        "status: published",
        "visibility: public",
        "region: North West",
        "event_date: 2013-05",
        "organisation: NHS Alliance",
        "tags:",
        "  - Cost versus quality",
        "  - provider-readiness",
        "  - provider-readiness",
        "source: some-paper",
        "see_also:",
        "  - other-lesson",
        "sources:",
        "  - title: A report",
        "    publisher: HSJ",
        "    date: 2013-05-14",
        "    url: https://example.org/report",
        "maturity: insight",
        "action_status: action-planned",
        "action_owner: NHS England",
        "action_due: 2014-01-31",
        "action_note: Planned for the next round.",
    )
    result = parse_document(text, "x.md", default_slug="ignored")
    assert result.problems == []
    doc = result.document
    assert doc is not None
    assert doc.kind == "lesson"
    assert doc.slug == "a-lesson"
    assert doc.title == "A lesson"
    assert doc.summary == "What it is about."
    assert doc.region == "North West"
    assert doc.event_date == PartialDate(2013, 5)
    assert doc.tags == ["cost-versus-quality", "provider-readiness"]
    assert doc.source == "some-paper"
    assert doc.see_also == ["other-lesson"]
    assert doc.sources == [SourceRef("A report", "HSJ", PartialDate(2013, 5, 14), "https://example.org/report")]
    assert doc.maturity == "insight"
    assert doc.action_status == "action-planned"
    assert doc.action_owner == "NHS England"
    assert doc.action_due == PartialDate(2014, 1, 31)
    assert doc.action_note == "Planned for the next round."
    assert doc.sections == {
        "driving_event": "The event happened.",
        "lesson": "What was learned.",
        "recommendation": "What to do.",
        "evidence": "- [[some-paper]]: what it says.",
    }
    assert doc.body == ""
    assert list(doc.sections) == list(LESSON_SECTIONS)


def test_lesson_defaults():
    doc = parse_document(lesson(), "x.md", default_slug="from-file-name").document
    assert doc is not None
    assert doc.slug == "from-file-name"
    assert doc.status == "published"
    assert doc.visibility == "public"
    assert doc.maturity == "observation"
    assert doc.action_status == "identified"
    assert doc.tags == []
    assert doc.see_also == []
    assert doc.sources == []
    assert doc.event_date is None
    assert doc.review_status is None
    assert doc.paper_type is None


def test_parse_review():
    text = review(
        "review_status: in-progress",
        "terms_of_reference: |",
        "  First paragraph,",
        "  still the first.",
        "",
        "  Second paragraph.",
    )
    doc = parse_document(text, "r.md", default_slug="r").document
    assert doc is not None
    assert doc.kind == "review"
    assert doc.commissioning_body == "NHS England"
    assert doc.review_status == "in-progress"
    assert doc.terms_of_reference == "First paragraph,\nstill the first.\n\nSecond paragraph."
    assert doc.body == "About the review."
    assert doc.sections == {}
    assert doc.maturity is None
    assert doc.markdown_texts() == {"body": "About the review.", "terms_of_reference": doc.terms_of_reference}


def test_parse_paper():
    text = paper(
        "meeting: Board meeting", 'meeting_date: "2013"', "paper_status: draft", body=["## Part", "", "Words."]
    )
    doc = parse_document(text, "p.md", default_slug="p").document
    assert doc is not None
    assert doc.kind == "paper"
    assert doc.meeting == "Board meeting"
    assert doc.meeting_date == PartialDate(2013)
    assert doc.paper_type == "report"
    assert doc.paper_status == "draft"
    assert doc.body == "## Part\n\nWords."
    assert doc.markdown_texts() == {"body": "## Part\n\nWords."}


def test_review_defaults():
    doc = parse_document(review(), "r.md", default_slug="r").document
    assert doc is not None
    assert doc.review_status == "commissioned"
    assert doc.terms_of_reference is None


def test_paper_defaults():
    doc = parse_document(paper(), "p.md", default_slug="p").document
    assert doc is not None
    assert doc.paper_status == "final"
    assert doc.meeting is None


def test_dates_given_as_year_number_and_quoted_text():
    doc = parse_document(lesson("event_date: 2013"), "x.md", default_slug="x").document
    assert doc is not None
    assert doc.event_date == PartialDate(2013)
    doc = parse_document(lesson('event_date: "2013-04-01"'), "x.md", default_slug="x").document
    assert doc is not None
    assert doc.event_date == PartialDate(2013, 4, 1)


def test_level_three_headings_lists_and_tables_stay_inside_a_section():
    body = list(LESSON_BODY)
    body[6] = "What was learned.\n\n### Detail\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- item"
    doc = parse_document(lesson(body=body), "x.md", default_slug="x").document
    assert doc is not None
    assert doc.sections["lesson"] == "What was learned.\n\n### Detail\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- item"


def test_section_headings_ignore_case_and_closing_hashes():
    body = [line.replace("## Lesson", "## lesson ##") for line in LESSON_BODY]
    doc = parse_document(lesson(body=body), "x.md", default_slug="x").document
    assert doc is not None
    assert doc.sections["lesson"] == "What was learned."


def test_heading_inside_fenced_code_is_not_a_section():
    body = list(LESSON_BODY)
    body[6] = "What was learned.\n\n```markdown\n## Recommendation\n## Made up\n```\n\n~~~\n## Evidence\n~~~"
    result = parse_document(lesson(body=body), "x.md", default_slug="x")
    assert result.problems == []
    assert result.document is not None
    assert "## Made up" in result.document.sections["lesson"]
    assert "## Evidence" in result.document.sections["lesson"]
    assert result.document.sections["recommendation"] == "What to do."


def test_normalise_tag():
    assert normalise_tag("Cost versus Quality!") == "cost-versus-quality"
    assert normalise_tag("  --NHS 111-- ") == "nhs-111"


# --- Problems, each with its line ---------------------------------------------


def test_unknown_kind():
    text = lines_of("title: T", "kind: memo", "summary: S.")
    assert problems_of(text) == ["content/lessons/x.md:3: unknown kind: 'memo' is not one of: lesson, review, paper"]


def test_missing_kind():
    text = lines_of("title: T", "summary: S.")
    assert problems_of(text) == ["content/lessons/x.md:1: missing kind (lesson, review or paper)"]


def test_missing_title():
    text = lines_of("kind: lesson", "summary: S.")
    assert problems_of(text) == ["content/lessons/x.md:1: missing title"]


def test_empty_title_names_its_line():
    text = lesson("region: England").replace("title: A lesson", "title: ''")
    assert problems_of(text) == ["content/lessons/x.md:3: title: is empty"]


def test_missing_required_fields_of_each_kind():
    assert problems_of(lines_of("kind: review", "title: T", "summary: S.", body=["x"])) == [
        "content/lessons/x.md:1: missing commissioning body"
    ]
    assert problems_of(lines_of("kind: paper", "title: T", "summary: S.", body=["x"])) == [
        "content/lessons/x.md:1: missing paper type"
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2013-13-01", "event_date: bad date: '2013-13-01' is not a real date"),
        ("May 2013", "event_date: bad date: 'May 2013' is not a date of the form YYYY, YYYY-MM or YYYY-MM-DD"),
        ("2013-02-30", "event_date: bad date: '2013-02-30' is not a real date"),
        ("2013-00", "event_date: bad date: '2013-00' is not a real date"),
    ],
)
def test_bad_event_date(value, message):
    text = lesson("region: England", f"event_date: {value}")
    [problem] = problems_of(text)
    assert problem.startswith(f"content/lessons/x.md:6: {message}")


def test_bad_action_due_names_its_line():
    text = lesson("maturity: insight", "action_due: soon", "action_status: accepted")
    [problem] = problems_of(text)
    assert problem.startswith("content/lessons/x.md:6: action_due: bad date: 'soon'")


def test_unknown_key():
    text = lesson("colour: red")
    assert problems_of(text) == ["content/lessons/x.md:5: unknown key 'colour'"]


def test_duplicate_key():
    text = lesson("region: England", "title: A second title")
    assert problems_of(text) == ["content/lessons/x.md:6: key 'title' is given twice"]


def test_bad_yaml_unclosed_bracket_followed_by_more_keys():
    text = lesson("region: England", "tags: [first, second", "organisation: NHS England")
    [problem] = problems_of(text)
    assert problem.startswith(("content/lessons/x.md:6: bad YAML", "content/lessons/x.md:7: bad YAML"))


def test_bad_yaml_unclosed_bracket_names_the_bracket_line_not_the_closing_dashes():
    text = lesson("region: England", "tags: [first, second")
    assert line_of(text, "tags:") == 6
    [problem] = problems_of(text)
    assert problem.startswith("content/lessons/x.md:6: bad YAML")


def test_bad_yaml_mapping_in_a_value():
    text = lesson("region: England", "organisation: NHS: England", "maturity: insight")
    [problem] = problems_of(text)
    assert problem.startswith("content/lessons/x.md:6: bad YAML: mapping values are not allowed")


def test_bad_yaml_tab_indentation():
    text = lesson("tags:", "\t- one")
    [problem] = problems_of(text)
    assert problem.startswith("content/lessons/x.md:6: bad YAML")


def test_front_matter_that_is_not_a_mapping():
    text = "---\n- just\n- a list\n---\n\nBody\n"
    assert problems_of(text) == ["content/lessons/x.md:2: front matter must be a mapping of keys to values"]


def test_no_front_matter():
    assert problems_of("# Just a heading\n\nSome text.\n") == [
        "content/lessons/x.md:1: no front matter: a content file starts with a '---' line, then YAML, then '---'"
    ]


def test_front_matter_not_at_the_start():
    text = "\n" + lesson()
    [problem] = problems_of(text)
    assert problem.startswith("content/lessons/x.md:1: no front matter")


def test_unclosed_front_matter():
    text = "---\nkind: lesson\ntitle: T\nsummary: S.\n\n## Driving event\n\nText.\n"
    assert problems_of(text) == ["content/lessons/x.md:1: front matter is not closed by a '---' line"]


@pytest.mark.parametrize("slug", ["Bad_Slug", "two--hyphens", "-leading", "trailing-", "spa ce", "UPPER"])
def test_bad_slug(slug):
    text = lesson("region: England", f"slug: '{slug}'")
    [problem] = problems_of(text)
    assert (
        problem
        == f"content/lessons/x.md:6: slug: '{slug}' is not a slug (lower-case letters, digits and single hyphens)"
    )


def test_bad_file_name_and_no_slug():
    result = parse_document(lesson(), "content/lessons/Bad Name.md", default_slug="Bad Name")
    assert [str(problem) for problem in result.problems] == [
        "content/lessons/Bad Name.md:1: no slug, and the file name 'Bad Name' is not a valid slug"
    ]


def test_bad_slug_in_see_also():
    text = lesson("see_also:", "  - good-one", "  - Not Good")
    [problem] = problems_of(text)
    assert problem.startswith("content/lessons/x.md:5: see_also: 'Not Good' is not a slug")


def test_tags_not_a_list():
    text = lesson("region: England", "tags: cost-versus-quality")
    assert problems_of(text) == ["content/lessons/x.md:6: tags: expected a list of tags"]


def test_tag_without_letters():
    text = lesson("tags:", "  - '---'")
    assert problems_of(text) == ["content/lessons/x.md:5: tags: a tag needs at least one letter or digit"]


def test_bad_choice_value():
    text = lesson("maturity: wisdom")
    assert problems_of(text) == [
        "content/lessons/x.md:5: maturity: 'wisdom' is not one of: observation, insight, lesson, learned"
    ]


def test_bad_source_url_names_the_url_line():
    text = lesson(
        "region: England",
        "sources:",
        "  - title: A report",
        "    url: ftp://files.example.org/report.pdf",
    )
    [problem] = problems_of(text)
    assert "source 1: 'ftp://files.example.org/report.pdf' is not an http or https address" in problem
    assert problem.startswith("content/lessons/x.md:8: ")


def test_javascript_source_url_is_refused():
    text = lesson("sources:", "  - title: A report", "    url: javascript:alert(1)")
    [problem] = problems_of(text)
    assert "is not an http or https address" in problem


def test_source_without_title():
    text = lesson("sources:", "  - publisher: HSJ")
    [problem] = problems_of(text)
    assert problem.startswith("content/lessons/x.md:5: sources: source 1 needs a title")


def test_source_with_unknown_key():
    text = lesson("sources:", "  - title: T", "    author: Someone")
    [problem] = problems_of(text)
    assert "source 1 has unknown keys: author" in problem


@pytest.mark.parametrize(
    ("make", "key_line", "kind"),
    [
        (lambda: paper("maturity: insight"), "maturity: insight", "paper"),
        (lambda: paper("commissioning_body: X"), "commissioning_body: X", "paper"),
        (lambda: lesson("paper_type: report"), "paper_type: report", "lesson"),
        (lambda: lesson("terms_of_reference: Text"), "terms_of_reference: Text", "lesson"),
        (lambda: review("meeting: A meeting"), "meeting: A meeting", "review"),
        (lambda: review("action_owner: Someone"), "action_owner: Someone", "review"),
    ],
)
def test_key_that_does_not_apply_to_the_kind(make, key_line, kind):
    text = make()
    key = key_line.split(":")[0]
    assert problems_of(text) == [
        f"content/lessons/x.md:{line_of(text, key_line)}: key '{key}' does not apply to a {kind}"
    ]


def test_missing_lesson_section():
    body = [line for line in LESSON_BODY if line not in ("## Recommendation", "What to do.")]
    text = lesson(body=body)
    problems = problems_of(text)
    assert problems == ["content/lessons/x.md:7: missing section '## Recommendation'"]


def test_lesson_with_no_sections_at_all_points_inside_the_file():
    text = lesson(body=[])
    problems = parse_document(text, "x.md", default_slug="x").problems
    assert [problem.message for problem in problems] == [
        f"missing section '## {label}'" for label in LESSON_SECTIONS.values()
    ]
    lines_in_file = len(text.rstrip("\n").split("\n"))
    for problem in problems:
        assert 1 <= problem.line <= lines_in_file, f"line {problem.line} is past the end of a {lines_in_file}-line file"


def test_empty_section():
    body = [line for line in LESSON_BODY if line != "What to do."]
    text = lesson(body=body)
    assert problems_of(text) == [
        f"content/lessons/x.md:{line_of(text, '## Recommendation')}: section '## Recommendation' is empty"
    ]


def test_unknown_section():
    body = [*LESSON_BODY, "", "## Conclusions", "", "Extra."]
    text = lesson(body=body)
    [problem] = problems_of(text)
    assert problem.startswith(
        f"content/lessons/x.md:{line_of(text, '## Conclusions')}: unknown lesson section '## Conclusions'"
    )


def test_section_given_twice():
    body = [*LESSON_BODY, "", "## Lesson", "", "Again."]
    text = lesson(body=body)
    lines = [number for number, line in enumerate(text.split("\n"), 1) if line == "## Lesson"]
    assert problems_of(text) == [f"content/lessons/x.md:{lines[1]}: section '## Lesson' appears twice"]


def test_out_of_order_sections_name_a_misplaced_heading():
    body = [
        "## Driving event", "", "Event.", "",
        "## Recommendation", "", "Do this.", "",
        "## Lesson", "", "Learned.", "",
        "## Evidence", "", "Proof.",
    ]  # fmt: skip
    text = lesson(body=body)
    [problem] = problems_of(text)
    assert "sections are out of order; the order is Driving event, Lesson, Recommendation, Evidence" in problem
    misplaced = {line_of(text, "## Recommendation"), line_of(text, "## Lesson")}
    assert int(problem.split(":")[1]) in misplaced


def test_text_before_first_section():
    body = ["An introduction.", "", *LESSON_BODY]
    text = lesson(body=body)
    assert problems_of(text) == [
        f"content/lessons/x.md:{line_of(text, 'An introduction.')}: "
        "text before the first section; a lesson starts with '## Driving event'"
    ]


def test_blank_lines_after_front_matter_do_not_shift_line_numbers():
    body = ["", "", "", *[line for line in LESSON_BODY if line != "What to do."]]
    text = lesson(body=body)
    assert problems_of(text) == [
        f"content/lessons/x.md:{line_of(text, '## Recommendation')}: section '## Recommendation' is empty"
    ]


def test_several_problems_are_all_reported():
    text = lesson("colour: red", "event_date: someday", "maturity: wisdom")
    problems = problems_of(text)
    assert [problem.split(":")[1] for problem in problems] == ["5", "6", "7"]


def test_problem_string_form():
    assert str(Problem("a/b.md", 12, "something wrong")) == "a/b.md:12: something wrong"


# --- References -----------------------------------------------------------------


def test_references_with_lines_for_links_and_source():
    text = lesson("region: England", "source: the-paper", "see_also: [one-related]")
    result = parse_document(text, "x.md", default_slug="x")
    assert result.problems == []
    assert result.references == [
        Reference("some-paper", line_of(text, "- [[some-paper]]")),
        Reference("the-paper", 6),
        Reference("one-related", 7),
    ]


def test_see_also_references_name_each_item_line():
    text = lesson(
        "source: the-paper",
        "see_also:",
        "  - first-related",
        "  - second-related",
        "region: England",
    )
    result = parse_document(text, "x.md", default_slug="x")
    assert result.problems == []
    by_slug = {reference.slug: reference.line for reference in result.references}
    assert by_slug["first-related"] == line_of(text, "  - first-related")
    assert by_slug["second-related"] == line_of(text, "  - second-related")


def test_references_in_body_and_terms_of_reference():
    text = review("terms_of_reference: |", "  Agreed at [[board-meeting]].").replace(
        "About the review.", "Text.\n\nMore about [[other-review|the other one]] and [[board-meeting]]."
    )
    result = parse_document(text, "r.md", default_slug="r")
    assert result.problems == []
    assert Reference("board-meeting", line_of(text, "  Agreed at")) in result.references
    assert Reference("other-review", line_of(text, "More about")) in result.references
    assert Reference("board-meeting", line_of(text, "More about")) in result.references


def test_inline_see_also_list_references():
    text = lesson("see_also: [one-entry, two-entry]")
    result = parse_document(text, "x.md", default_slug="x")
    assert Reference("one-entry", 5) in result.references
    assert Reference("two-entry", 5) in result.references


def test_no_references():
    body = [line.replace("[[some-paper]]", "a paper") for line in LESSON_BODY]
    result = parse_document(lesson(body=body), "x.md", default_slug="x")
    assert result.references == []


# --- Canonical form -------------------------------------------------------------


def full_lesson() -> EntryDocument:
    return EntryDocument(
        kind="lesson",
        slug="a-lesson",
        title="A lesson: with a colon, and 'quotes'",
        summary="What it is about. It has # and & characters.",
        status="draft",
        visibility="members",
        region="North West",
        event_date=PartialDate(2013, 5),
        organisation="NHS Alliance",
        tags=["cost-versus-quality", "provider-readiness"],
        source="some-paper",
        see_also=["other-lesson", "third-lesson"],
        sources=[
            SourceRef("A report", "HSJ", PartialDate(2013, 5, 14), "https://example.org/report?id=1"),
            SourceRef("Just a title"),
            SourceRef("Year only", date=PartialDate(2013)),
        ],
        sections={
            "driving_event": "The event.\n\n```\n## Not a section\n```",
            "lesson": "Learned.\n\n### Detail\n\n- one\n- two",
            "recommendation": "| a | b |\n|---|---|\n| 1 | 2 |",
            "evidence": "- [[some-paper]]: what it says.[^1]\n\n[^1]: A note.",
        },
        maturity="lesson",
        action_status="not-accepted",
        action_owner="NHS England",
        action_due=PartialDate(2014, 1, 31),
        action_note="Not accepted because: reasons.\nSecond line.",
    )


def full_review() -> EntryDocument:
    return EntryDocument(
        kind="review",
        slug="a-review",
        title="A review",
        summary="What it is about.",
        event_date=PartialDate(2013),
        commissioning_body="NHS England",
        review_status="consulting",
        terms_of_reference="First paragraph,\nstill the first.\n\n- a list\n- of points\n\nLast: [[a-lesson]].",
        body="## Why\n\nBecause.\n\n## What\n\nThis.",
    )


def full_paper() -> EntryDocument:
    return EntryDocument(
        kind="paper",
        slug="a-paper",
        title="2013",
        summary="yes",
        tags=["minutes"],
        meeting="Board meeting",
        meeting_date=PartialDate(2013, 5, 17),
        paper_type="minutes",
        paper_status="draft",
        body="Opening text.\n\n## Item 1\n\nNotes.",
        sources=[SourceRef("Minutes", url="http://example.org/m")],
    )


@pytest.mark.parametrize("make", [full_lesson, full_review, full_paper])
def test_serialise_parse_round_trip(make):
    document = make()
    text = serialise_document(document)
    result = parse_document(text, "x.md", default_slug="other-name")
    assert result.problems == []
    assert result.document == document
    assert serialise_document(result.document) == text


@pytest.mark.parametrize("make", [full_lesson, full_review, full_paper])
def test_round_trip_of_defaults(make):
    document = make()
    minimal = EntryDocument(
        kind=document.kind,
        slug=document.slug,
        title=document.title,
        summary=document.summary,
        sections=dict.fromkeys(LESSON_SECTIONS, "Text.") if document.kind == "lesson" else {},
        body="" if document.kind == "lesson" else "Text.",
        commissioning_body=document.commissioning_body,
        paper_type=document.paper_type,
    )
    parsed = parse_document(serialise_document(minimal), "x.md").document
    assert parsed is not None
    for key in ("slug", "title", "summary", "sections", "body", "tags", "see_also", "sources"):
        assert getattr(parsed, key) == getattr(minimal, key)


def test_serialised_lesson_form():
    text = serialise_document(full_lesson())
    lines = text.split("\n")
    assert lines[0] == "---"
    assert lines[1:4] == ["kind: lesson", "slug: a-lesson", "title: 'A lesson: with a colon, and ''quotes'''"]
    assert "event_date: 2013-05" in lines
    assert "action_due: 2014-01-31" in lines
    assert "tags:\n  - cost-versus-quality\n  - provider-readiness\n" in text
    assert "    date: 2013-05-14\n" in text
    assert "    date: 2013\n" in text
    assert "action_note: |\n  Not accepted because: reasons.\n  Second line.\n" in text
    headings = [line for line in lines if line.startswith("## ")]
    assert headings == ["## Driving event", "## Not a section", "## Lesson", "## Recommendation", "## Evidence"]
    assert text.endswith("[^1]: A note.\n")


def test_serialised_review_uses_block_text_for_terms_of_reference():
    text = serialise_document(full_review())
    assert "terms_of_reference: |\n  First paragraph,\n  still the first.\n\n  - a list\n" in text
    assert "event_date: 2013\n" in text


def test_front_matter_key_order_and_no_empty_values():
    mapping = front_matter_of(full_paper())
    assert list(mapping) == [
        "kind", "slug", "title", "summary", "status", "visibility", "tags", "sources",
        "meeting", "meeting_date", "paper_type", "paper_status",
    ]  # fmt: skip
    assert "maturity" not in mapping
    assert "see_also" not in mapping


def test_document_without_body_has_no_trailing_blank_line():
    document = dataclasses.replace(full_paper(), body="")
    text = serialise_document(document)
    assert text.endswith("paper_status: draft\n---\n")


def test_internal_link_pattern_matches_references():
    assert [m.group(1) for m in INTERNAL_LINK.finditer("[[a]] [[b|c]] [[D]]")] == ["a", "b"]


def test_a_review_cannot_name_another_review() -> None:
    text = "---\nkind: review\ntitle: R\nsummary: S\ncommissioning_body: B\nreview: other-review\n---\n\nBody.\n"
    result = parse_document(text, "reviews/r.md", default_slug="r")
    assert result.document is None
    assert [str(problem) for problem in result.problems] == [
        "reviews/r.md:6: a review cannot belong to another review; 'review:' is for lessons and papers"
    ]


def test_panel_visibility_needs_a_review() -> None:
    text = "---\nkind: paper\ntitle: P\nsummary: S\nvisibility: panel\npaper_type: briefing\n---\n\nBody.\n"
    result = parse_document(text, "papers/p.md", default_slug="p")
    assert result.document is None
    assert [problem.line for problem in result.problems] == [5]
    assert "needs 'review:'" in result.problems[0].message


@pytest.mark.parametrize(
    ("one", "other"),
    [("Straße", "STRASSE"), ("İstanbul", "ISTANBUL"), ("Cafe\u0301", "CAFÉ"), ("zero\u200bwidth", "zerowidth")],
)
def test_tags_fold_case_one_way(one: str, other: str) -> None:
    assert normalise_tag(one) == normalise_tag(other) != ""
    assert normalise_tag(normalise_tag(one)) == normalise_tag(one)


@pytest.mark.parametrize("character", ["\x00", "\x08", "\x1f", "\x7f", "\x9b"])
def test_a_forbidden_character_is_a_located_problem(character: str) -> None:
    text = f"---\nkind: paper\ntitle: Fine\nsummary: Also fine\n---\nBody\nwith a {character} here\n"
    result = parse_document(text, "papers/x.md", default_slug="x")
    assert result.document is None
    (problem,) = result.problems
    assert (problem.path, problem.line) == ("papers/x.md", 7)
    assert f"U+{ord(character):04X}" in problem.message


# --- Attachments ----------------------------------------------------------------


def test_attachments_read_and_write_back_unchanged():
    text = paper(
        "attachments:",
        "  - file: p/minutes.pdf",
        "    title: Minutes of the meeting",
        "  - file: p/figures.v2.xlsx",
        "    title: 'Figures: 2024'",
    )
    doc = parse_document(text, "p.md", default_slug="p").document
    assert doc is not None
    assert [(ref.file, ref.title, ref.filename) for ref in doc.attachments] == [
        ("p/minutes.pdf", "Minutes of the meeting", "minutes.pdf"),
        ("p/figures.v2.xlsx", "Figures: 2024", "figures.v2.xlsx"),
    ]
    written = serialise_document(doc)
    assert "attachments:\n  - file: p/minutes.pdf\n    title: Minutes of the meeting\n" in written
    assert parse_document(written, "p.md").document == doc


@pytest.mark.parametrize(
    "file", ["minutes.pdf", "p/../minutes.pdf", "p/.hidden", "/p/minutes.pdf", "p/a/b.pdf", "P/x.pdf"]
)
def test_an_attachment_outside_its_folder_is_a_problem_on_its_line(file):
    text = paper("attachments:", f"  - file: '{file}'", "    title: T")
    [problem] = problems_of(text)
    assert problem.startswith(f"content/lessons/x.md:{line_of(text, '  - file')}: attachments: attachment 1:")
    assert "is not a file beside the entry" in problem


def test_an_attachment_needs_a_title_and_is_listed_once():
    assert "attachment 1 needs a file and a title" in problems_of(paper("attachments:", "  - file: x/a.pdf"))[0]
    twice = paper("attachments:", *["  - file: x/a.pdf", "    title: A"] * 2)
    assert "attachment 2: 'x/a.pdf' is listed twice" in problems_of(twice)[0]
