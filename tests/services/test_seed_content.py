"""The rules of the seed content that can be checked by machine, held as data so that each can fail.

Every lesson has its four sections and a source naming the report (A or B) its claims come
from; no source is the generic news-report line; every entry that carries an allegation or
a disputed remark also carries the reply recorded to it; recommendations are labelled as
kb's inference; the panel's papers say in their first lines whose papers they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from kb.content.document import EntryDocument
from kb.entries.vocabulary import LESSON_SECTIONS
from tests.web.seed import all_documents

GENERIC_SOURCE = "Health Service Journal news report"
REPORT_SOURCE = re.compile(r"\(Report [AB]\): \S")
"""A source names its report, then (after the colon) whose claim or what fact it is."""


@dataclass(frozen=True)
class Reply:
    """An allegation (or a disputed remark) and the words that show its recorded reply is given too."""

    allegation: str
    marker: re.Pattern[str]
    replies: tuple[re.Pattern[str], ...]


REPLIES = (
    Reply(
        "Dame Barbara Hakin's day-one question",
        re.compile(r"\bday one\b|\bfirst day\b", re.IGNORECASE),
        (re.compile(r'"bit rich"'),),
    ),
    Reply(
        "the NHS Alliance's claim of pressure to go live",
        re.compile(r"\bpressed\b|\"unprecedented\"|inappropriate pressure", re.IGNORECASE),
        (re.compile(r"declined to comment"), re.compile(r"more time")),
    ),
    Reply(
        "the NHS Alliance's North West consortium claim",
        re.compile(r"\bconsortium\b", re.IGNORECASE),
        (re.compile(r"spokeswoman"), re.compile(r"no final consortium price")),
    ),
)

DOCUMENTS = all_documents()
LESSONS = [document for document in DOCUMENTS.values() if document.kind == "lesson"]
PANEL_PAPERS = [d for d in DOCUMENTS.values() if d.kind == "paper" and d.visibility == "panel"]


def text_of(document: EntryDocument) -> str:
    """Everything a reader sees of an entry, with line breaks undone so phrases match across them."""
    parts = [document.title, document.summary, *document.markdown_texts().values()]
    return re.sub(r"\s+", " ", "\n".join(parts))


def test_the_seed_has_about_fifteen_distinct_lessons() -> None:
    assert 14 <= len(LESSONS) <= 16
    assert len({lesson.title for lesson in LESSONS}) == len(LESSONS)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.slug)
def test_every_lesson_has_four_sections_and_a_source_naming_its_report(lesson: EntryDocument) -> None:
    assert set(lesson.sections) == set(LESSON_SECTIONS)
    assert all(text.strip() for text in lesson.sections.values())
    assert lesson.sources, "a lesson names the report its claims come from"
    for source in lesson.sources:
        assert REPORT_SOURCE.search(source.title), source.title


@pytest.mark.parametrize("document", DOCUMENTS.values(), ids=lambda document: document.slug)
def test_no_source_is_the_generic_news_report_line(document: EntryDocument) -> None:
    assert document.sources, "every seed entry names its sources"
    for source in document.sources:
        assert source.title != GENERIC_SOURCE
        assert REPORT_SOURCE.search(source.title), source.title


@pytest.mark.parametrize("document", DOCUMENTS.values(), ids=lambda document: document.slug)
@pytest.mark.parametrize("rule", REPLIES, ids=lambda rule: rule.allegation)
def test_an_entry_carrying_an_allegation_carries_its_recorded_reply(document: EntryDocument, rule: Reply) -> None:
    text = text_of(document)
    if not rule.marker.search(text):
        return
    missing = [reply.pattern for reply in rule.replies if not reply.search(text)]
    assert not missing, f"{document.slug} carries {rule.allegation} without its reply: {missing}"


def test_the_reply_rules_find_what_they_are_for() -> None:
    """Each rule fires on at least one seed entry, so a rule whose marker stopped matching is noticed."""
    for rule in REPLIES:
        assert any(rule.marker.search(text_of(document)) for document in DOCUMENTS.values()), rule.allegation


def test_a_rule_fails_an_entry_that_drops_the_reply() -> None:
    lesson = DOCUMENTS["contracts-awarded-to-providers-who-could-not-deliver"]
    stripped = text_of(lesson).replace('"bit rich"', "unfair")
    rule = REPLIES[0]
    assert rule.marker.search(stripped)
    assert not all(reply.search(stripped) for reply in rule.replies)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.slug)
def test_recommendations_are_labelled_as_kbs_inference(lesson: EntryDocument) -> None:
    assert "**kb's inference:**" in lesson.sections["recommendation"]


@pytest.mark.parametrize("paper", PANEL_PAPERS, ids=lambda paper: paper.slug)
def test_panel_papers_say_first_that_they_are_this_knowledge_bases_working_papers(paper: EntryDocument) -> None:
    first = re.sub(r"\s+", " ", paper.body.split("\n\n")[0])
    assert first.startswith("This is a working paper of this knowledge base's panel for [[")
    assert "It is not an NHS England document" in first
    assert "not an NHS England document" in paper.summary
