"""Test helpers for backups: a database with something in every part, and every row of every table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, select

from kb.extensions import db
from kb.panels.citations import add_citation
from tests.accounts import Cast
from tests.citation_factory import add_paper_and_lesson, draft_finding, publish
from tests.factories import add_comment
from tests.outcome_factory import answer, make_consultation

COMMENT_WORDS = "Handover notes went missing between the evening and night shifts"


def fill_every_part(folder: Path, cast: Cast) -> None:
    """Add comments (one a reply), a cited and published finding, a draft one, and a consultation with answers."""
    paper, lesson = add_paper_and_lesson(folder, cast)
    comment = add_comment(lesson, cast.member, COMMENT_WORDS)
    add_comment(lesson, cast.author, "The same happened in our area.", parent=comment)
    finding = draft_finding(cast)
    add_citation(finding, actor=cast.panel, kind="entry", entry=lesson)
    add_citation(finding, actor=cast.panel, kind="comment", comment=comment)
    db.session.commit()
    publish(cast, finding)
    draft_finding(cast, title="Directories were out of date")
    consultation = make_consultation(paper)
    answer(consultation, cast.member, scale="agree", choice="Keep the date", text="Rotas were too thin at night.")
    answer(consultation, cast.author, scale="neither", status="draft")


def every_row(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table in the database, each table's rows in primary-key (or full-row) order."""
    metadata = MetaData()
    metadata.reflect(bind=engine)
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for name, table in sorted(metadata.tables.items()):
            order = list(table.primary_key.columns) or list(table.columns)
            rows[name] = [tuple(row) for row in connection.execute(select(table).order_by(*order))]
    return rows
