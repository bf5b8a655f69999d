"""The API's writes: a comment on an entry, a lesson submitted for publication, a consultation response.

Each write needs someone who may write (`kb.api.auth.writer`: a read-write token or a
signed-in browser with its CSRF token), a JSON body (else 415) whose fields are known and
of the right type (else 400, naming each field), then calls the service the browser's
form calls, inside one unit of work. A refusal of something the viewer can see answers
403; something hidden or missing answers 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, request, url_for
from flask_limiter.util import get_remote_address
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from kb.api import shapes
from kb.api.auth import api_viewer, person_key, writer
from kb.api.blueprint import blueprint
from kb.api.cursors import allow_only
from kb.api.problems import ApiProblem, json_response
from kb.comments.models import Comment
from kb.comments.queries import thread_comments, visible_comment
from kb.comments.service import CommentError, post_comment
from kb.consultations.queries import response_of, visible_consultation
from kb.consultations.service import AnswerProblemsError, ConsultationError, save_response
from kb.contributions.forms import LessonForm
from kb.contributions.pages import lesson_fields, offer_regions, tag_groups
from kb.contributions.service import ContributionError, FieldError, create_lesson
from kb.entries import queries as entry_queries
from kb.errors import ConflictError, unit_of_work
from kb.extensions import COMMENT_ADDRESS_SCOPE, COMMENT_PERSON_SCOPE, db, limiter
from kb.inputs import NESTED_TOO_DEEPLY
from kb.permissions import PermissionDeniedError
from kb.text import one_line

LESSON_TEXT_FIELDS = ("title", "summary", "driving_event", "lesson", "recommendation", "evidence")
Body = dict[str, Any]


def _json_body(fields: dict[str, type | tuple[type, ...]], required: tuple[str, ...]) -> Body:
    """The request's JSON object, checked: 415 when it is not JSON, 400 naming every field that cannot be taken."""
    if not request.is_json:
        raise ApiProblem(415, "Send the body as JSON, with `Content-Type: application/json`.")
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise ApiProblem(400, NESTED_TOO_DEEPLY, errors={"body": "Send one JSON object."}) from None
    if not isinstance(body, dict):
        raise ApiProblem(400, "The body is not a JSON object.", errors={"body": "Send one JSON object."})
    errors: dict[str, str] = {}
    for name, value in body.items():
        wanted = fields.get(name)
        if wanted is None:
            errors[str(name)[:100]] = "Not a field of this operation."
        elif not isinstance(value, wanted) or (isinstance(value, bool) and bool not in _types(wanted)):
            errors[name] = f"Give {_described(wanted)}."
    errors.update({name: "This field is required." for name in required if name not in body})
    if errors:
        raise ApiProblem(400, "Some fields of the body cannot be taken.", errors=errors)
    return body


def _types(wanted: type | tuple[type, ...]) -> tuple[type, ...]:
    return wanted if isinstance(wanted, tuple) else (wanted,)


def _described(wanted: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "a whole number", bool: "true or false", list: "a list", type(None): "null"}
    return " or ".join(names.get(kind, kind.__name__) for kind in _types(wanted))


def _setting(name: str) -> Callable[[], str]:
    return lambda: str(current_app.config[name])


@blueprint.post("/entries/<slug>/comments")
@limiter.shared_limit(
    _setting("COMMENT_LIMIT_PER_USER"),
    scope=COMMENT_PERSON_SCOPE,
    key_func=lambda: person_key("comment"),
    methods=["POST"],
)
@limiter.shared_limit(
    _setting("COMMENT_LIMIT_PER_ADDRESS"), scope=COMMENT_ADDRESS_SCOPE, key_func=get_remote_address, methods=["POST"]
)
def post_entry_comment(slug: str) -> Response:
    """Post a comment (Markdown) on an entry, or a reply to one of its comments."""
    allow_only()
    actor = writer()
    entry = entry_queries.visible_entry(api_viewer(), slug)
    if entry is None:
        raise ApiProblem(404, "There is no entry with that slug, or you may not see it.")
    body = _json_body({"body": str, "parent_id": (int, type(None))}, required=("body",))
    parent: Comment | None = None
    if body.get("parent_id") is not None:
        parent = visible_comment(api_viewer(), body["parent_id"]) if 0 < body["parent_id"] < 2**31 else None
        if parent is None or parent.entry_id != entry.id or parent.finding_id is not None:
            raise ApiProblem(404, "There is no comment with that number on this entry.")
    try:
        with unit_of_work():
            comment = post_comment(entry, body["body"], actor=actor, parent=parent)
            comment_id = comment.id
    except PermissionDeniedError:
        raise ApiProblem(403, "You may not comment on this entry.") from None
    except ConflictError as error:
        raise ApiProblem(409, str(error)) from None
    except CommentError as error:
        raise ApiProblem(400, str(error), errors={"body": str(error)}) from None
    row = next(row for row in thread_comments(entry) if row.id == comment_id)
    shown = shapes.comment(row, api_viewer())
    return json_response(shown, 201, {"Location": shown["url"]})


def _lesson_form(body: Body) -> LessonForm:
    """The browser's lesson form filled from the body, so the API checks a lesson exactly as the form does."""
    groups = tag_groups()
    controlled = {tag.slug for _, tags in groups for tag in tags}
    tags = [one_line(tag).strip() for tag in body.get("tags") or []]
    data = MultiDict([(name, body.get(name) or "") for name in LESSON_TEXT_FIELDS])
    data.setlist("tags", [tag for tag in tags if tag in controlled])
    data["free_tags"] = ", ".join(tag for tag in tags if tag not in controlled)
    data["region"] = body.get("region") or ""
    data["event_date"] = body.get("event_date") or ""
    form = LessonForm(formdata=data, meta={"csrf": False})
    form.tags.choices = [(tag.slug, tag.label) for _, tags in groups for tag in tags]
    offer_regions(form, None)
    return form


@blueprint.post("/lessons")
def submit_lesson() -> Response:
    """Write a lesson and submit it for publication, as the lesson form's "Submit" does."""
    allow_only()
    actor = writer()
    fields: dict[str, type | tuple[type, ...]] = dict.fromkeys(LESSON_TEXT_FIELDS, str)
    fields.update(tags=list, region=(str, type(None)), event_date=(str, type(None)))
    body = _json_body(fields, required=LESSON_TEXT_FIELDS)
    if not all(isinstance(tag, str) for tag in body.get("tags") or []) or len(body.get("tags") or []) > 50:
        raise ApiProblem(400, "Some fields of the body cannot be taken.", errors={"tags": "Give up to 50 tag strings."})
    form = _lesson_form(body)
    if not form.validate():
        errors = {("tags" if name == "free_tags" else name): messages[0] for name, messages in form.errors.items()}
        raise ApiProblem(400, "The lesson cannot be submitted as it is.", errors=errors)
    try:
        with unit_of_work():
            lesson = create_lesson(lesson_fields(form), actor=actor, submit=True)
            shown = shapes.entry_summary(lesson)
    except PermissionDeniedError:
        raise ApiProblem(403, "You may not write lessons.") from None
    except FieldError as error:
        raise ApiProblem(400, str(error), errors={error.field: str(error)}) from None
    except ContributionError as error:
        raise ApiProblem(400, str(error)) from None
    except IntegrityError:
        raise ApiProblem(
            409, "Another lesson with the same title was saved at the same moment. Send it again."
        ) from None
    return json_response(shown, 201, {"Location": shapes.absolute(url_for("api.entry", slug=shown["slug"]))})


@blueprint.post("/consultations/<int:consultation_id>/response")
def respond(consultation_id: int) -> Response:
    """Save the viewer's answers to a consultation, submitted (the default) or as a draft."""
    allow_only()
    actor = writer()
    consultation = visible_consultation(api_viewer(), consultation_id)
    if consultation is None:
        raise ApiProblem(404, "There is no consultation with that number, or you may not see it.")
    body = _json_body({"answers": list, "submit": bool}, required=("answers",))
    answers: dict[int, str] = {}
    known = {question.id for question in consultation.questions}
    for item in body["answers"]:
        if (
            not isinstance(item, dict)
            or set(item) != {"question_id", "answer"}
            or not isinstance(item.get("answer"), str)
            or not isinstance(item.get("question_id"), int)
            or item["question_id"] not in known
        ):
            raise ApiProblem(
                400,
                "Each answer is an object of a `question_id` of this consultation and an `answer` string.",
                errors={"answers": 'Give each answer as {"question_id": ..., "answer": "..."}.'},
            )
        answers[item["question_id"]] = item["answer"]
    try:
        with unit_of_work():
            save_response(consultation, answers, actor=actor, submit=body.get("submit", True))
    except PermissionDeniedError:
        raise ApiProblem(403, "You may not answer this consultation.") from None
    except AnswerProblemsError as error:
        problems = {f"answers.{question_id}": message for question_id, message in error.problems.items()}
        raise ApiProblem(400, str(error), errors=problems) from None
    except ConflictError as error:
        raise ApiProblem(409, str(error)) from None
    except ConsultationError as error:
        raise ApiProblem(400, str(error)) from None
    except IntegrityError:
        raise ApiProblem(
            409, "Your response was being saved at the same moment from elsewhere. Send it again."
        ) from None
    db.session.expire_all()
    return json_response(shapes.response(response_of(consultation, actor.id)))
