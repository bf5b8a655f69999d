"""Snippets from PostgreSQL's `ts_headline`: marked safely, cut to the stretch that may match, the best one chosen.

Shared by the results page's snippets from an entry's parts, its comments and its document
pages (`pg.service`, `pg.page_hits`). The headline's marks are private-use characters, turned
into `<mark>` only after the text around them is escaped.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape
from sqlalchemy import ColumnElement, Integer, Text, bindparam, column, func, select
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import ARRAY

from kb.extensions import db
from kb.search.pg.query import Compiled
from kb.search.snippets import CUE_LETTERS, LEAD_CHARS, SCAN_CHARS

MARK_START, MARK_END = "\ue000", "\ue001"
"""Private-use characters `ts_headline` puts around matched words, turned into `<mark>` after escaping."""
HEADLINE_OPTIONS = (
    f'StartSel="{MARK_START}", StopSel="{MARK_END}", MaxWords=35, MinWords=15, ShortWord=2, '
    'MaxFragments=2, FragmentDelimiter=" … "'
)
TITLE_OPTIONS = f'StartSel="{MARK_START}", StopSel="{MARK_END}", HighlightAll=true'

CONFIG = sql_text("'english'::regconfig")


def marked(headline: str) -> Markup:
    """The headline escaped, with the words `ts_headline` marked wrapped in `<mark>`."""
    result = Markup("")
    for number, piece in enumerate(re.split(f"[{MARK_START}{MARK_END}]", headline)):
        result += Markup("<mark>{}</mark>").format(piece) if number % 2 else escape(piece)
    return result


def with_ellipses(text: str, headline: str) -> Markup:
    """The headline marked, with an ellipsis on each side where `text` goes on beyond it."""
    plain = headline.replace(MARK_START, "").replace(MARK_END, "")
    before = "" if text.startswith(plain[:30]) else "… "
    after = "" if text.endswith(plain[-30:]) else " …"
    return escape(before) + marked(headline) + escape(after)


def headlines(
    ranking: ColumnElement[str], rows: list[tuple[int, str, str]], options: str
) -> dict[tuple[int, str], str]:
    """`ts_headline` of each (entry id, key, plain text), keyed by (entry id, key)."""
    if not rows:
        return {}
    # Arrays bound as parameters, so the statement is compiled once and cached, whatever the rows.
    parts = (
        func.unnest(
            bindparam("entry_ids", type_=ARRAY(Integer)),
            bindparam("keys", type_=ARRAY(Text)),
            bindparam("bodies", type_=ARRAY(Text)),
        )
        .table_valued(column("entry_id", Integer), column("key", Text), column("body", Text))
        .render_derived(name="parts")
    )
    query = select(parts.c.entry_id, parts.c.key, func.ts_headline(CONFIG, parts.c.body, ranking, options))
    entry_ids, keys, bodies = (list(values) for values in zip(*rows, strict=True))
    found = db.session.execute(query, {"entry_ids": entry_ids, "keys": keys, "bodies": bodies})
    return {(entry_id, key): headline for entry_id, key, headline in found}


def clean(text: str) -> str:
    """`text` without the headline marks or NUL characters, which it must not hold when sent to `ts_headline`."""
    return text.replace(MARK_START, "").replace(MARK_END, "").replace("\x00", " ")


def cues(compiled: Compiled) -> set[str]:
    """The first letters of the searched words: stems keep them, so they show where a match may be."""
    return {word[:CUE_LETTERS].lower() for word in compiled.words if word}


def window(text: str, cues: set[str]) -> str:
    """The stretch of `text` a snippet can come from: from a little before its first cue, `SCAN_CHARS` long.

    `ts_headline` reads the whole text it is given, so a long part without any cue is not
    sent at all and a long one with a cue only from there (as `snippets.find_matches` does).
    """
    lowered = text.lower()
    places = [place for place in (lowered.find(cue) for cue in cues) if place >= 0]
    if not places:
        return ""
    start = max(0, min(places) - LEAD_CHARS)
    return text[start : start + SCAN_CHARS]


def best(headlines: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The (key, headline) with most marked words, the first among equals; None when none has any."""
    best: tuple[str, str] | None = None
    for key, headline in headlines:
        if headline.count(MARK_START) and (best is None or headline.count(MARK_START) > best[1].count(MARK_START)):
            best = (key, headline)
    return best
