"""The contents list of an entry page."""

from __future__ import annotations

from kb.entries.contents import MIN_ITEMS, MIN_WORDS, page_contents

LESSON_ITEMS = [
    {"anchor": "driving-event", "title": "Driving event"},
    {"anchor": "lesson", "title": "Lesson"},
    {"anchor": "recommendation", "title": "Recommendation"},
    {"anchor": "evidence", "title": "Evidence"},
]


def body(*headings: tuple[int, str, str]) -> dict:
    return {"body": {"html": "", "headings": [{"level": lv, "anchor": a, "title": t} for lv, a, t in headings]}}


def test_thresholds():
    assert MIN_ITEMS == 3
    assert MIN_WORDS == 300


def test_long_lesson_lists_its_four_sections_with_page_anchors():
    rendered = {key: {"html": "", "headings": []} for key in ("driving_event", "lesson", "recommendation", "evidence")}
    assert page_contents("lesson", rendered, 300) == LESSON_ITEMS


def test_short_lesson_has_no_contents():
    assert page_contents("lesson", {}, 299) == []


def test_lesson_section_headings_are_not_listed():
    rendered = {"evidence": {"html": "", "headings": [{"level": 2, "anchor": "h-evidence-x", "title": "X"}]}}
    assert page_contents("lesson", rendered, 1000) == LESSON_ITEMS


def test_paper_lists_level_two_body_headings_only():
    rendered = body(
        (2, "h-who-met", "Who met"),
        (3, "h-detail", "Detail"),
        (2, "h-why", "Why"),
        (4, "h-deeper", "Deeper"),
        (2, "h-what-came-out-of-it", "What came out of it"),
    )
    assert page_contents("paper", rendered, 500) == [
        {"anchor": "h-who-met", "title": "Who met"},
        {"anchor": "h-why", "title": "Why"},
        {"anchor": "h-what-came-out-of-it", "title": "What came out of it"},
    ]


def test_paper_with_too_few_headings_has_no_contents():
    rendered = body((2, "h-a", "A"), (2, "h-b", "B"), (3, "h-c", "C"))
    assert page_contents("paper", rendered, 5000) == []


def test_paper_with_too_few_words_has_no_contents():
    rendered = body((2, "h-a", "A"), (2, "h-b", "B"), (2, "h-c", "C"))
    assert page_contents("paper", rendered, MIN_WORDS - 1) == []
    assert len(page_contents("paper", rendered, MIN_WORDS)) == 3


def test_paper_without_body():
    assert page_contents("paper", {}, 1000) == []


def test_review_lists_terms_then_about_then_body_headings():
    rendered = {"terms_of_reference": {"html": "<p>x</p>", "headings": []}, **body((2, "h-why", "Why"))}
    assert page_contents("review", rendered, 400) == [
        {"anchor": "terms-of-reference", "title": "Terms of reference"},
        {"anchor": "about-review", "title": "About this review"},
        {"anchor": "h-why", "title": "Why"},
    ]


def test_review_without_terms_of_reference():
    rendered = body((2, "h-a", "A"), (2, "h-b", "B"))
    assert page_contents("review", rendered, 400) == [
        {"anchor": "about-review", "title": "About this review"},
        {"anchor": "h-a", "title": "A"},
        {"anchor": "h-b", "title": "B"},
    ]


def test_review_with_only_two_items_has_no_contents():
    rendered = {"terms_of_reference": {"html": "<p>x</p>", "headings": []}, **body()}
    assert page_contents("review", rendered, 1000) == []
