"""The schemas of the API's OpenAPI document: every object it answers with or takes, as `kb.api.shapes` makes them."""

from __future__ import annotations

from typing import Any

from kb.api.cursors import MAX_LIMIT
from kb.consultations.windows import STATES
from kb.states import CommentStatus, EntryKind, EntryStatus, FindingStatus, QuestionKind, ResponseStatus, Visibility

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
TEXT_OR_NULL: Schema = {"type": ["string", "null"]}
INTEGER: Schema = {"type": "integer"}
MOMENT: Schema = {"type": "string", "format": "date-time"}
MOMENT_OR_NULL: Schema = {"type": ["string", "null"], "format": "date-time"}
ADDRESS: Schema = {"type": "string", "format": "uri"}
CURSOR_OR_NULL: Schema = {
    "type": ["string", "null"],
    "description": "Pass as `cursor` for the next page; null on the last.",
}
LINK_OR_NULL: Schema = {"type": ["string", "null"], "format": "uri", "description": "The next page's address."}


def ref(name: str) -> Schema:
    """A reference to one of the named schemas."""
    return {"$ref": f"#/components/schemas/{name}"}


def closed(properties: dict[str, Schema], *, optional: tuple[str, ...] = (), description: str = "") -> Schema:
    """An object with exactly these properties, all required but `optional`."""
    schema: Schema = {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def array(items: Schema, **extra: Any) -> Schema:
    """A list of `items`."""
    return {"type": "array", "items": items, **extra}


def page_of(name: str) -> Schema:
    """A page of a list: its items and how to get the next page."""
    return closed({"items": array(ref(name)), "next_cursor": CURSOR_OR_NULL, "next": LINK_OR_NULL})


ENTRY_SUMMARY: dict[str, Schema] = {
    "slug": STRING,
    "kind": {"type": "string", "enum": list(EntryKind.values())},
    "title": STRING,
    "summary": STRING,
    "status": {"type": "string", "enum": list(EntryStatus.values())},
    "visibility": {"type": "string", "enum": list(Visibility.values())},
    "region": TEXT_OR_NULL,
    "event_date": {**TEXT_OR_NULL, "description": "A year, year and month, or full date (2013, 2013-05, 2013-05-14)."},
    "published_at": MOMENT_OR_NULL,
    "updated_at": MOMENT,
    "url": {**ADDRESS, "description": "The entry's page."},
    "api_url": {**ADDRESS, "description": "The entry in this API."},
    "tags": array(ref("Tag")),
}

COMMENT: dict[str, Schema] = {
    "id": INTEGER,
    "parent_id": {"type": ["integer", "null"]},
    "status": {"type": "string", "enum": list(CommentStatus.values())},
    "readable": {"type": "boolean", "description": "False for a hidden or removed comment the reader may not read."},
    "created_at": MOMENT,
    "edited_at": MOMENT_OR_NULL,
    "author": {"type": "string", "description": 'The author, or the placeholder\'s heading ("Hidden comment").'},
    "organisation": TEXT_OR_NULL,
    "html": {**TEXT_OR_NULL, "description": "The comment rendered from Markdown; null when not readable."},
    "placeholder": {**TEXT_OR_NULL, "description": "What stands in place of a comment the reader may not read."},
    "url": ADDRESS,
}

CONSULTATION_SUMMARY: dict[str, Schema] = {
    "id": INTEGER,
    "title": STRING,
    "state": {"type": "string", "enum": list(STATES)},
    "opens_at": MOMENT,
    "closes_at": MOMENT,
    "entry": closed({"slug": STRING, "kind": ENTRY_SUMMARY["kind"], "title": STRING}),
    "url": {**ADDRESS, "description": "The consultation's page."},
    "api_url": ADDRESS,
}

SCHEMAS: dict[str, Schema] = {
    "Problem": closed(
        {
            "type": {"type": "string", "format": "uri"},
            "title": STRING,
            "status": INTEGER,
            "detail": STRING,
            "errors": {"type": "object", "additionalProperties": STRING, "description": "What is wrong, per field."},
        },
        optional=("errors",),
        description="An error, as RFC 9457 describes (`application/problem+json`).",
    ),
    "Tag": closed({"slug": STRING, "label": STRING}),
    "EntrySummary": closed(ENTRY_SUMMARY),
    "EntryPage": page_of("EntrySummary"),
    "Section": closed({"key": STRING, "title": STRING, "html": STRING}),
    "Document": closed(
        {
            "id": INTEGER,
            "name": STRING,
            "filename": STRING,
            "type": {**STRING, "description": "The kind of file as people say it, e.g. PDF."},
            "media_type": STRING,
            "size": {**INTEGER, "description": "Bytes."},
            "download_url": ADDRESS,
        }
    ),
    "Revision": closed({"number": INTEGER, "created_at": MOMENT, "author": STRING, "message": STRING}),
    "Entry": closed(
        {
            **ENTRY_SUMMARY,
            "details": {
                "type": "object",
                "additionalProperties": TEXT_OR_NULL,
                "description": "The kind's own fields.",
            },
            "sections": array(ref("Section")),
            "documents": array(ref("Document")),
            "revisions": array(ref("Revision"), description="Newest first."),
        }
    ),
    "Comment": closed(
        {**COMMENT, "replies": array(ref("Comment"), description="Only in the threaded layout.")}, optional=("replies",)
    ),
    "CommentPage": page_of("Comment"),
    "NewComment": closed(
        {"body": {**STRING, "description": "Markdown."}, "parent_id": {"type": ["integer", "null"]}},
        optional=("parent_id",),
    ),
    "FacetValue": closed({"value": STRING, "label": STRING, "count": INTEGER, "selected": {"type": "boolean"}}),
    "Hit": closed(
        {
            "entry": ref("EntrySummary"),
            "title_html": {**STRING, "description": "The title, matched words in `<mark>`."},
            "snippet_html": STRING,
            "snippet_label": TEXT_OR_NULL,
            "url": ADDRESS,
        }
    ),
    "SearchResults": closed(
        {
            "items": array(ref("Hit")),
            "total": INTEGER,
            "facets": {"type": "object", "additionalProperties": array(ref("FacetValue"))},
            "suggestion": TEXT_OR_NULL,
            "corrected_from": TEXT_OR_NULL,
            "next_cursor": CURSOR_OR_NULL,
            "next": LINK_OR_NULL,
        }
    ),
    "Finding": closed(
        {
            "number": INTEGER,
            "title": STRING,
            "status": {"type": "string", "enum": list(FindingStatus.values())},
            "body_html": STRING,
            "recommendations_html": STRING,
            "published_at": MOMENT_OR_NULL,
        }
    ),
    "Review": closed({**ENTRY_SUMMARY, "findings": array(ref("Finding"))}),
    "ConsultationSummary": closed(CONSULTATION_SUMMARY),
    "ConsultationPage": page_of("ConsultationSummary"),
    "Question": closed(
        {
            "id": INTEGER,
            "position": INTEGER,
            "kind": {"type": "string", "enum": list(QuestionKind.values())},
            "prompt": STRING,
            "hint": STRING,
            "required": {"type": "boolean"},
            "choices": array(STRING, description="The answers a scale or choice question takes; empty for free text."),
        }
    ),
    "Answer": closed({"question_id": INTEGER, "answer": STRING}),
    "ConsultationResponse": closed(
        {
            "status": {"type": "string", "enum": list(ResponseStatus.values())},
            "submitted_at": MOMENT_OR_NULL,
            "updated_at": MOMENT,
            "answers": array(ref("Answer")),
        }
    ),
    "Consultation": closed(
        {
            **CONSULTATION_SUMMARY,
            "introduction_html": STRING,
            "questions": array(ref("Question")),
            "my_response": {"oneOf": [ref("ConsultationResponse"), {"type": "null"}]},
        }
    ),
    "NewResponse": closed(
        {
            "answers": array(ref("Answer")),
            "submit": {"type": "boolean", "default": True, "description": "False saves a draft."},
        },
        optional=("submit",),
    ),
    "NewLesson": closed(
        {
            "title": {**STRING, "maxLength": 300},
            "summary": {**STRING, "maxLength": 1000},
            "driving_event": {**STRING, "description": "Markdown, as every section."},
            "lesson": STRING,
            "recommendation": STRING,
            "evidence": STRING,
            "tags": array(STRING, maxItems=50, description="Tag slugs: the themes' tags, or new ones."),
            "region": {**TEXT_OR_NULL, "description": "One of the regions the lesson form offers."},
            "event_date": {**TEXT_OR_NULL, "description": "2013, 2013-05 or 2013-05-14."},
        },
        optional=("tags", "region", "event_date"),
    ),
}

LIMIT_SCHEMA: Schema = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 20}
