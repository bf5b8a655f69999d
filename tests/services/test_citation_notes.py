"""Moving and removing a finding's citations keeps each note marker in its text on the same citation."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from kb.extensions import db
from kb.notifications.models import Notification
from kb.panels.citations import add_citation, move_citation, paper_paragraphs, remove_citation
from kb.panels.models import Citation, Finding
from kb.panels.notes import REMOVED
from kb.panels.service import FindingText, agree_finding, edit_finding, propose_agreement
from tests.accounts import Cast
from tests.citation_factory import CITED, add_paper_and_lesson, draft_finding, second_member

BODY = "Scripts were wrong.[^1] Staff were not told.[^2] Nobody checked.[^3] Code: `[^2]`"
RECOMMENDATIONS = "Check the scripts.[^3]\n\n```\nsee [^1] and [^3]\n```"


def _finding_citing_three(tmp_path: Path, cast: Cast) -> tuple[Finding, list[Citation]]:
    """A draft finding whose text refers to its three citations (a lesson, a paper, a paragraph); committed."""
    paper, lesson = add_paper_and_lesson(tmp_path, cast)
    finding = draft_finding(cast)
    anchor = next(paragraph.anchor for paragraph in paper_paragraphs(paper) if paragraph.text == CITED)
    citations = [
        add_citation(finding, actor=cast.panel, kind="entry", entry=lesson),
        add_citation(finding, actor=cast.panel, kind="entry", entry=paper),
        add_citation(finding, actor=cast.panel, kind="paragraph", entry=paper, anchor=anchor),
    ]
    text = FindingText(finding.title, BODY, RECOMMENDATIONS)
    edit_finding(finding, text, actor=cast.panel, base_number=finding.revision_number)
    db.session.commit()
    return finding, citations


def _agree(cast: Cast, finding: Finding) -> None:
    propose_agreement(finding, actor=cast.panel)
    agree_finding(finding, actor=second_member(cast))
    db.session.commit()


def test_removing_a_citation_renumbers_the_markers_after_it_in_a_new_revision(tmp_path: Path, cast: Cast) -> None:
    finding, (first, _, _) = _finding_citing_three(tmp_path, cast)
    revisions = finding.revision_number
    remove_citation(first, actor=cast.panel)
    db.session.commit()
    assert finding.body == f"Scripts were wrong.{REMOVED} Staff were not told.[^1] Nobody checked.[^2] Code: `[^2]`"
    assert finding.recommendations == "Check the scripts.[^2]\n\n```\nsee [^1] and [^3]\n```"
    assert finding.revision_number == revisions + 1
    revision = finding.revisions[-1]
    assert (revision.number, revision.body, revision.author_id) == (revisions + 1, finding.body, cast.panel.id)
    assert revision.message == "Notes renumbered after citation 1 was removed"
    assert 'href="#finding-1-note-2"' in finding.body_html
    assert 'href="#finding-1-note-3"' not in finding.body_html + finding.recommendations_html


def test_moving_a_citation_swaps_its_markers_and_reopens_agreement(tmp_path: Path, cast: Cast) -> None:
    finding, (_, second, third) = _finding_citing_three(tmp_path, cast)
    _agree(cast, finding)
    assert move_citation(third, actor=cast.panel, offset=-1)
    db.session.commit()
    assert [citation.id for citation in sorted(finding.citations, key=lambda c: c.position)][1:] == [
        third.id,
        second.id,
    ]
    assert finding.body == "Scripts were wrong.[^1] Staff were not told.[^3] Nobody checked.[^2] Code: `[^2]`"
    assert finding.recommendations == "Check the scripts.[^2]\n\n```\nsee [^1] and [^3]\n```"
    assert finding.revisions[-1].message == "Notes renumbered after citation 3 was moved to 2"
    assert (finding.status, finding.agreed_by_id) == ("draft", None)
    told = db.session.scalars(select(Notification.message).where(Notification.message.like("%changed a citation%")))
    assert list(told)


def test_moving_citations_the_text_does_not_mark_keeps_the_text_and_agreement(tmp_path: Path, cast: Cast) -> None:
    paper, lesson = add_paper_and_lesson(tmp_path, cast)
    finding = draft_finding(cast)
    first = add_citation(finding, actor=cast.panel, kind="entry", entry=lesson)
    add_citation(finding, actor=cast.panel, kind="entry", entry=paper)
    db.session.commit()
    _agree(cast, finding)
    revisions, body = finding.revision_number, finding.body
    assert move_citation(first, actor=cast.panel, offset=1)
    db.session.commit()
    assert (finding.revision_number, finding.body, finding.status) == (revisions, body, "agreed")


def test_removing_the_last_citation_only_marks_its_own_markers(tmp_path: Path, cast: Cast) -> None:
    finding, (_, _, third) = _finding_citing_three(tmp_path, cast)
    remove_citation(third, actor=cast.panel)
    db.session.commit()
    assert (
        finding.body
        == "Scripts were wrong.[^1] Staff were not told.[^2] Nobody checked.[citation removed] Code: `[^2]`"
    )
    assert finding.recommendations == f"Check the scripts.{REMOVED}\n\n```\nsee [^1] and [^3]\n```"
