"""What the API answers with: plain JSON objects made from kb's models, each shape named in the OpenAPI document.

The functions here only read what they are given; the routes load it through the
visibility rule first. Addresses are on the configured `SITE_URL` (`kb.feeds.builder.absolute`),
never the request's Host header. Stored HTML (entries' sections, comments, findings) was rendered
and sanitised by `kb.markdown` when it was saved and is passed on as it is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import url_for

from kb.comments.pages import FORMER_MEMBER, PLACEHOLDER_HEADINGS, PLACEHOLDERS
from kb.comments.queries import ThreadComment
from kb.consultations.models import Consultation, Question, Response
from kb.consultations.service import allowed_choices, state_of
from kb.dates import as_utc
from kb.documents.models import Document
from kb.documents.pages import type_label
from kb.entries.models import Entry, Lesson, Paper, Review, Revision
from kb.entries.vocabulary import KIND_PLURALS, TEXT_LABELS
from kb.feeds.builder import absolute
from kb.panels.models import Finding
from kb.permissions import Viewer, can_read_comment
from kb.search.service import FacetCount, Hit
from kb.states import CommentStatus

Json = dict[str, Any]


def moment(value: dt.datetime | None) -> str | None:
    """A stored time as an ISO 8601 string in UTC, or None."""
    return as_utc(value).isoformat() if value is not None else None


def entry_summary(entry: Entry) -> Json:
    """An entry in a list: what it is, where it is, and its tags."""
    return {
        "slug": entry.slug,
        "kind": entry.kind,
        "title": entry.title,
        "summary": entry.summary,
        "status": entry.status,
        "visibility": entry.visibility,
        "region": entry.region,
        "event_date": str(entry.event_day) if entry.event_day else None,
        "published_at": moment(entry.published_at),
        "updated_at": moment(entry.updated_at),
        "url": absolute(entry.path),
        "api_url": absolute(url_for("api.entry", slug=entry.slug)),
        "tags": [{"slug": tag.slug, "label": tag.label} for tag in entry.tags],
    }


def _details(entry: Entry) -> dict[str, str | None]:
    if isinstance(entry, Lesson):
        return {"maturity": entry.maturity, "action_status": entry.action_status}
    if isinstance(entry, Review):
        return {"review_status": entry.review_status, "commissioning_body": entry.commissioning_body}
    if isinstance(entry, Paper):
        day = entry.meeting_day
        return {"paper_type": entry.paper_type, "meeting": entry.meeting, "meeting_date": str(day) if day else None}
    return {}


def sections(rendered: dict[str, Any]) -> list[Json]:
    """An entry's texts as its page shows them: each section's key, heading and stored HTML."""
    return [
        {"key": key, "title": TEXT_LABELS.get(key, key), "html": str(part.get("html", ""))}
        for key, part in rendered.items()
        if isinstance(part, dict)
    ]


def document(entry: Entry, file: Document) -> Json:
    """A document attached to an entry, with the address of its file."""
    return {
        "id": file.id,
        "name": file.title,
        "filename": file.filename,
        "type": type_label(file),
        "media_type": file.media_type,
        "size": file.size,
        "download_url": absolute(
            url_for("documents.download", plural=KIND_PLURALS[entry.kind], slug=entry.slug, document_id=file.id)
        ),
    }


def revision(row: Revision) -> Json:
    """One saved state of an entry: its number, when, who (as pages name them) and why."""
    return {
        "number": row.number,
        "created_at": moment(row.created_at),
        "author": row.author_label,
        "message": row.message,
    }


def entry_detail(entry: Entry, rendered: dict[str, Any], files: list[Document], revisions: list[Revision]) -> Json:
    """One entry in full: its summary, kind's fields, sections, documents and revisions (newest first)."""
    return {
        **entry_summary(entry),
        "details": _details(entry),
        "sections": sections(rendered),
        "documents": [document(entry, file) for file in files],
        "revisions": [revision(row) for row in revisions],
    }


def comment(row: ThreadComment, viewer: Viewer) -> Json:
    """A comment as its page shows it to `viewer`: its text, or the placeholder of a hidden or removed one."""
    readable = row.status == CommentStatus.VISIBLE or can_read_comment(viewer, row)
    author = row.author
    shown: Json = {
        "id": row.id,
        "parent_id": row.parent_id,
        "status": row.status,
        "readable": readable,
        "created_at": moment(row.created_at),
        "edited_at": moment(row.edited_at) if readable else None,
        "author": None,
        "organisation": None,
        "html": None,
        "placeholder": None,
        "url": absolute(row.permalink),
    }
    if readable:
        shown["author"] = author.display_name if author is not None else FORMER_MEMBER
        shown["organisation"] = author.organisation.name if author and author.organisation else None
        shown["html"] = row.html
    else:
        shown["author"] = PLACEHOLDER_HEADINGS[row.status]
        shown["placeholder"] = PLACEHOLDERS[row.status]
    return shown


def finding(row: Finding) -> Json:
    """A published finding of a review."""
    return {
        "number": row.number,
        "title": row.title,
        "status": row.status,
        "body_html": row.body_html,
        "recommendations_html": row.recommendations_html,
        "published_at": moment(row.published_at),
    }


def question(row: Question) -> Json:
    """A consultation's question, with the choices an answer may take (empty for free text)."""
    return {
        "id": row.id,
        "position": row.position,
        "kind": row.kind,
        "prompt": row.prompt,
        "hint": row.hint,
        "required": row.required,
        "choices": allowed_choices(row),
    }


def consultation(row: Consultation) -> Json:
    """A consultation in a list: what it asks about, and when it is open."""
    return {
        "id": row.id,
        "title": row.title,
        "state": state_of(row),
        "opens_at": moment(row.opens_at),
        "closes_at": moment(row.closes_at),
        "entry": {"slug": row.entry.slug, "kind": row.entry.kind, "title": row.entry.title},
        "url": absolute(url_for("consultations.show", consultation_id=row.id)),
        "api_url": absolute(url_for("api.consultation", consultation_id=row.id)),
    }


def response(row: Response | None) -> Json | None:
    """The viewer's own response to a consultation, draft or submitted; None when they have none."""
    if row is None:
        return None
    return {
        "status": row.status,
        "submitted_at": moment(row.submitted_at),
        "updated_at": moment(row.updated_at),
        "answers": [
            {"question_id": answer.question_id, "answer": answer.text or answer.choice or ""} for answer in row.answers
        ],
    }


def consultation_detail(row: Consultation, mine: Response | None) -> Json:
    """A consultation in full: its introduction, questions, and the viewer's own response."""
    return {
        **consultation(row),
        "introduction_html": row.introduction_html,
        "questions": [question(item) for item in row.questions],
        "my_response": response(mine),
    }


def hit(found: Hit) -> Json:
    """One search result: the entry, its title and snippet with matched words marked, and its address."""
    return {
        "entry": entry_summary(found.entry),
        "title_html": str(found.title),
        "snippet_html": str(found.snippet),
        "snippet_label": found.snippet_label,
        "url": absolute(found.link or found.entry.path),
    }


def facet(count: FacetCount, labels: dict[str, str]) -> Json:
    """One value of a facet with its label and number of results."""
    return {
        "value": count.value,
        "label": labels.get(count.value, count.value),
        "count": count.count,
        "selected": count.selected,
    }
