"""Building a review's report: the cited papers' paragraphs are looked up once, however many findings cite them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event

from kb.extensions import db
from kb.panels.citations import add_citation, paper_paragraphs
from kb.panels.report_document import build_report
from kb.permissions import viewer_for
from tests.accounts import Cast
from tests.citation_factory import PARAGRAPHS, add_paper_and_lesson, draft_finding


def _paragraph_lookups(cast: Cast) -> tuple[int, int]:
    """How many statements building the panel's report runs that read papers' current revisions; and its notes."""
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        report = build_report(viewer_for(cast.panel), cast.review)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    lookups = [sql for sql in statements if "max(revisions.number)" in sql.lower()]
    return len(lookups), sum(len(item.notes) for item in report.findings)


def test_the_report_looks_up_cited_paragraphs_once_for_all_findings(tmp_path: Path, cast: Cast) -> None:
    paper, _ = add_paper_and_lesson(tmp_path, cast)
    anchors = [paragraph.anchor for paragraph in paper_paragraphs(paper)]
    assert len(anchors) == len(PARAGRAPHS) == 3
    findings = [draft_finding(cast, title=f"Finding about paragraph {number}") for number in range(1, 4)]
    add_citation(findings[0], actor=cast.panel, kind="paragraph", entry=paper, anchor=anchors[0])
    db.session.commit()
    db.session.expire_all()
    one_lookups, one_notes = _paragraph_lookups(cast)
    for finding, anchor in zip(findings[1:], anchors[1:], strict=True):
        add_citation(finding, actor=cast.panel, kind="paragraph", entry=paper, anchor=anchor)
    db.session.commit()
    db.session.expire_all()
    many_lookups, many_notes = _paragraph_lookups(cast)
    # The review's own revision is read once for its terms of reference; the papers' once in all.
    assert (one_notes, many_notes) == (1, 3)
    assert one_lookups == many_lookups == 2
