"""The API's OpenAPI 3.1 document, written out as data, and the list of operations its docs page shows.

Each `Operation` says its method, path, parameters, request body and every status it
may answer with, and the schema of each answer (`kb.api.openapi_schemas`). The schemathesis
test (`tests/web/test_api_schema.py`) holds the views to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kb.api.cursors import MAX_LIMIT
from kb.api.openapi_schemas import LIMIT_SCHEMA, SCHEMAS, Schema, ref
from kb.consultations.windows import STATES
from kb.feeds.builder import absolute
from kb.search.schema import FACET_FIELDS
from kb.search.types import SORTS
from kb.states import EntryKind

JSON = "application/json"
PROBLEM = "application/problem+json"
ERRORS = {
    400: "Bad parameters or body; `errors` names each field.",
    401: "The token is missing (where one is needed), unknown, expired or revoked.",
    403: "The token may only read, the account may not do this, or a signed-in browser's account is held at "
    "set-up (finish it on kb's pages).",
    404: "Not there, or hidden from this reader: the answer is the same.",
    409: "The thing is not in a state that allows this now (a locked discussion, a closed consultation).",
    413: "The body is larger than kb takes.",
    415: "The body is not `application/json`.",
    429: "Too many requests: wait for `Retry-After` seconds.",
    500: "A failure on kb's side.",
    503: "kb cannot reach its database for a moment, or search's index is being rebuilt: wait for `Retry-After`.",
}
READ_ERRORS = (400, 401, 403, 429, 500, 503)
WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 415, 429, 500, 503)


@dataclass(frozen=True)
class Parameter:
    """A path or query parameter of an operation."""

    name: str
    where: str
    schema: Schema
    description: str
    example: str = ""
    many: bool = False

    def as_openapi(self) -> dict[str, Any]:
        """The parameter object of the document."""
        schema = {"type": "array", "items": self.schema} if self.many else self.schema
        shown: dict[str, Any] = {
            "name": self.name,
            "in": self.where,
            "required": self.where == "path",
            "description": self.description,
            "schema": schema,
        }
        if self.many:
            shown.update(style="form", explode=True)
        return shown


@dataclass(frozen=True)
class Operation:
    """One operation: what it does, what it takes and every answer it may give."""

    method: str
    path: str
    operation_id: str
    summary: str
    description: str
    answer: tuple[int, str, str]
    """The status, schema name and description of the answer when it works."""
    errors: tuple[int, ...]
    parameters: tuple[Parameter, ...] = ()
    body: str | None = None
    writes: bool = False
    example: str = ""
    tags: tuple[str, ...] = field(default=())

    def as_openapi(self) -> dict[str, Any]:
        """The operation object of the document."""
        status, schema, description = self.answer
        responses: dict[str, Any] = {
            str(status): {"description": description, "content": {JSON: {"schema": ref(schema)}}},
        }
        for code in self.errors:
            problem: dict[str, Any] = {"description": ERRORS[code], "content": {PROBLEM: {"schema": ref("Problem")}}}
            if code == 401:
                problem["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
            if code in (429, 503):
                problem["headers"] = {"Retry-After": {"schema": {"type": "string"}}}
            responses[str(code)] = problem
        shown: dict[str, Any] = {
            "operationId": self.operation_id,
            "summary": self.summary,
            "description": self.description,
            "tags": list(self.tags),
            "parameters": [parameter.as_openapi() for parameter in self.parameters],
            "responses": responses,
            "security": [{"token": []}, {"session": []}] if self.writes else [{}, {"token": []}, {"session": []}],
        }
        if self.body is not None:
            shown["requestBody"] = {"required": True, "content": {JSON: {"schema": ref(self.body)}}}
        return shown


def _limit() -> Parameter:
    return Parameter("limit", "query", LIMIT_SCHEMA, f"Items on a page, 1 to {MAX_LIMIT}.", "10")


def _cursor() -> Parameter:
    return Parameter("cursor", "query", {"type": "string"}, "The `next_cursor` of the page before; opaque.")


SLUG = Parameter("slug", "path", {"type": "string"}, "The entry's slug, as in its address.", "vendor-go-live-pressure")
KIND = {"type": "string", "enum": list(EntryKind.values())}
CONSULTATION_ID = Parameter("consultation_id", "path", {"type": "integer"}, "The consultation's number.", "1")

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "get",
        "/entries",
        "listEntries",
        "List entries",
        "Entries the reader may see, newest first, filtered by kind, theme or tag.",
        (200, "EntryPage", "A page of entries."),
        READ_ERRORS,
        (
            Parameter("kind", "query", KIND, "Only this kind.", "lesson"),
            Parameter("theme", "query", {"type": "string"}, "Only entries with a tag of this theme (its slug)."),
            Parameter("tag", "query", {"type": "string"}, "Only entries with this tag (its slug)."),
            _limit(),
            _cursor(),
        ),
        example="/entries?kind=lesson&limit=10",
        tags=("Entries",),
    ),
    Operation(
        "get",
        "/entries/{slug}",
        "getEntry",
        "Read an entry",
        "One entry with its sections (as HTML), tags, documents and revisions.",
        (200, "Entry", "The entry."),
        (*READ_ERRORS, 404),
        (SLUG,),
        example="/entries/{slug}",
        tags=("Entries",),
    ),
    Operation(
        "get",
        "/entries/{slug}/comments",
        "listComments",
        "List an entry's comments",
        "Oldest first. `flat` gives every comment with its `parent_id`; `threaded` gives top-level comments with "
        "their replies nested. Hidden and removed comments are placeholders unless the reader may read them.",
        (200, "CommentPage", "A page of comments."),
        (*READ_ERRORS, 404),
        (
            SLUG,
            Parameter("layout", "query", {"type": "string", "enum": ["flat", "threaded"]}, "Default flat."),
            _limit(),
            _cursor(),
        ),
        example="/entries/{slug}/comments?layout=threaded",
        tags=("Comments",),
    ),
    Operation(
        "post",
        "/entries/{slug}/comments",
        "postComment",
        "Post a comment",
        "A comment in Markdown, or a reply to one of the entry's comments (`parent_id`).",
        (201, "Comment", "The comment as posted."),
        WRITE_ERRORS,
        (SLUG,),
        body="NewComment",
        writes=True,
        example='/entries/{slug}/comments -d \'{"body": "We saw this too."}\'',
        tags=("Comments",),
    ),
    Operation(
        "get",
        "/search",
        "search",
        "Search",
        "The search page's search: words, phrases, AND/OR/NOT, with its filters; results with facets.",
        (200, "SearchResults", "A page of results, the facets and any suggestion."),
        READ_ERRORS,
        (
            Parameter("q", "query", {"type": "string"}, "What to search for.", "go-live"),
            *(
                Parameter(
                    name, "query", {"type": "string"}, f"Only results with this {name}; repeat for several.", many=True
                )
                for name in FACET_FIELDS
            ),
            Parameter("sort", "query", {"type": "string", "enum": list(SORTS)}, "Relevance with words, else newest."),
            Parameter("exact", "query", {"type": "boolean"}, "True searches for exactly what was typed."),
            _limit(),
            _cursor(),
        ),
        example="/search?q=go-live&kind=lesson",
        tags=("Search",),
    ),
    Operation(
        "get",
        "/reviews/{slug}",
        "getReview",
        "Read a review with its findings",
        "A review and its published findings.",
        (200, "Review", "The review."),
        (*READ_ERRORS, 404),
        (SLUG,),
        example="/reviews/{slug}",
        tags=("Reviews",),
    ),
    Operation(
        "get",
        "/consultations",
        "listConsultations",
        "List consultations",
        "Consultations on entries the reader may see, newest first, optionally of one state.",
        (200, "ConsultationPage", "A page of consultations."),
        READ_ERRORS,
        (
            Parameter("state", "query", {"type": "string", "enum": list(STATES)}, "Only this state.", "open"),
            _limit(),
            _cursor(),
        ),
        example="/consultations?state=open",
        tags=("Consultations",),
    ),
    Operation(
        "get",
        "/consultations/{consultation_id}",
        "getConsultation",
        "Read a consultation",
        "A consultation with its questions and the reader's own response.",
        (200, "Consultation", "The consultation."),
        (*READ_ERRORS, 404),
        (CONSULTATION_ID,),
        example="/consultations/1",
        tags=("Consultations",),
    ),
    Operation(
        "post",
        "/consultations/{consultation_id}/response",
        "respondToConsultation",
        "Respond to a consultation",
        "Save the reader's answers: submitted unless `submit` is false. A submitted response can be changed "
        "until the consultation closes.",
        (200, "ConsultationResponse", "The response as saved."),
        WRITE_ERRORS,
        (CONSULTATION_ID,),
        body="NewResponse",
        writes=True,
        example='/consultations/1/response -d \'{"answers": [{"question_id": 1, "answer": "agree"}]}\'',
        tags=("Consultations",),
    ),
    Operation(
        "post",
        "/lessons",
        "submitLesson",
        "Submit a lesson",
        "Write a lesson and submit it for publication; moderators decide, as for the lesson form.",
        (201, "EntrySummary", "The lesson, submitted."),
        WRITE_ERRORS,
        body="NewLesson",
        writes=True,
        example='/lessons -d \'{"title": "…", "summary": "…", "driving_event": "…", "lesson": "…", '
        '"recommendation": "…", "evidence": "…", "tags": ["go-live-deadline"]}\'',
        tags=("Lessons",),
    ),
)


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document, its server on the configured `SITE_URL`."""
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        paths.setdefault(operation.path, {})[operation.method] = operation.as_openapi()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "kb API",
            "version": "1",
            "description": "Read kb's entries, search, comments, reviews and consultations; post comments, "
            "lessons and consultation responses. Errors are `application/problem+json`.",
        },
        "servers": [{"url": absolute("/api/v1")}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "token": {"type": "http", "scheme": "bearer", "description": "A personal access token, `kb_...`."},
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "session",
                    "description": "A signed-in browser; writes need the `X-CSRFToken` header.",
                },
            },
        },
    }


def operations() -> tuple[Operation, ...]:
    """Every operation, in the order the docs page lists them."""
    return OPERATIONS
