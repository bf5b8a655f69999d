"""A closed consultation's submitted responses as CSV: one row per response, one column per question.

Pure formatting over `kb.consultations.analysis` values: no app, no database. The file
starts with a byte order mark so spreadsheet programs read it as UTF-8, and every text
cell that a spreadsheet could run as a formula is made safe by `csv_safe` (shared with
the discussion exports).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from kb.comments.export import BYTE_ORDER_MARK, csv_safe
from kb.consultations.analysis import QuestionData, ResponseData
from kb.dates import iso_london, iso_utc

FIXED_COLUMNS = (
    "response id",
    "submitted (UTC)",
    "submitted (London)",
    "organisation",
    "organisation type",
    "region",
)
THEME_SEPARATOR = "; "


def header(questions: Sequence[QuestionData]) -> list[str]:
    """The heading row: the fixed columns, then each question, with a themes column after each free-text one."""
    row = list(FIXED_COLUMNS)
    for question in questions:
        row.append(f"Q{question.number}. {question.prompt}")
        if not question.is_counted:
            row.append(f"Q{question.number} themes")
    return [csv_safe(cell) for cell in row]


def _answer_cells(question: QuestionData, response: ResponseData) -> list[str]:
    answer = response.answers.get(question.id)
    if question.is_counted:
        return [question.label_of(answer.choice) if answer is not None and answer.choice else ""]
    if answer is None:
        return ["", ""]
    return [answer.text, THEME_SEPARATOR.join(answer.themes)]


def row(questions: Sequence[QuestionData], response: ResponseData) -> list[str | int]:
    """The cells of one response in `header` order; every text cell made formula-safe."""
    texts = [
        iso_utc(response.submitted_at),
        iso_london(response.submitted_at),
        response.organisation_name,
        response.organisation_type_label or response.organisation_type,
        response.region,
    ]
    for question in questions:
        texts += _answer_cells(question, response)
    return [response.id, *(csv_safe(text) for text in texts)]


def responses_csv(questions: Sequence[QuestionData], responses: Sequence[ResponseData]) -> str:
    """The whole file: byte order mark, heading row, then one row per response, lines ending CRLF."""
    out = io.StringIO()
    out.write(BYTE_ORDER_MARK)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header(questions))
    writer.writerows(row(questions, response) for response in responses)
    return out.getvalue()
