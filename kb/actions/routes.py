"""Lessons to action: a lesson's action record, the open actions page, and recurrences."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from kb.actions import queries, recurrence_queries, rules
from kb.actions.forms import ActionForm, OpenActionsFilter
from kb.actions.models import RECURRENCE_DECISIONS
from kb.actions.recurrence import RecurrenceError, find_recurrence
from kb.actions.recurrence import decide_recurrence as decide_recurrence_of
from kb.actions.recurrence_forms import RecurrenceForm
from kb.actions.service import ActionError, update_action
from kb.contributions.forms import EXPIRED_MESSAGE, token_expired
from kb.contributions.service import EditConflictError
from kb.entries import queries as entry_queries
from kb.entries.models import Lesson
from kb.entries.service import current_revision
from kb.errors import unit_of_work
from kb.pages import int_arg
from kb.pagination import pagination_params
from kb.permissions import can, current_viewer

blueprint = Blueprint("actions", __name__)
Page = tuple[str, int]


def _actionable_lesson(slug: str) -> Lesson:
    """The lesson if the viewer may see it and record action on it; else 404."""
    entry = entry_queries.visible_entry(current_viewer(), slug)
    if not isinstance(entry, Lesson) or not can(current_viewer(), "lesson.action", entry):
        abort(404)
    return entry


def _filled_form(lesson: Lesson) -> ActionForm:
    """The action form holding the lesson's current record, based on its current revision."""
    state = queries.action_state(lesson)
    revision = current_revision(lesson)
    form = ActionForm(
        formdata=None,
        data={
            "status": state.status,
            "owner": state.owner or "",
            "due": state.due.isoformat() if state.due else "",
            "evidence": state.evidence or "",
            "note": state.note or "",
            "base_revision": str(revision.number) if revision else "",
        },
    )
    form.set_owner_choices(queries.organisation_names(), lesson.action_owner)
    return form


def _edit_page(form: ActionForm, lesson: Lesson, *, status: int = 200, message: str | None = None) -> Page:
    page = render_template(
        "actions/edit.html",
        lesson=lesson,
        form=form,
        message=message,
        current=queries.action_state(lesson),
        next_statuses=rules.allowed_next(lesson.action_status),
        status_labels={value: rules.label(value) for value in (*rules.CHAIN, rules.NOT_ACCEPTED)},
    )
    return page, status


def _posted_state(form: ActionForm) -> rules.ActionState:
    return rules.ActionState(
        status=form.status.data or "",
        owner=form.owner.data or None,
        due=rules.parse_due(form.due.data or ""),
        evidence=form.evidence.data,
        note=form.note.data,
    )


@blueprint.route("/lessons/<slug>/action", methods=["GET", "POST"])
def edit(slug: str) -> Page | Response:
    """Record action on a lesson: status, owner organisation, due date, evidence and note."""
    lesson = _actionable_lesson(slug)
    if request.method == "GET":
        return _edit_page(_filled_form(lesson), lesson)
    form = ActionForm()
    form.set_owner_choices(queries.organisation_names(), lesson.action_owner)
    valid = form.validate()
    if token_expired(form):
        return _edit_page(form, lesson, status=400, message=EXPIRED_MESSAGE)
    if not valid:
        return _edit_page(form, lesson, status=400)
    try:
        with unit_of_work():
            update_action(
                lesson,
                _posted_state(form),
                actor=current_user,
                message=form.message.data or "",
                base_number=form.base_number(),
            )
    except ActionError as error:
        for problem in error.problems:
            form[problem.field].errors.append(problem.message)
        return _edit_page(form, lesson, status=400)
    except (EditConflictError, IntegrityError):
        return _conflict(form, lesson)
    flash(f'The action on "{lesson.title}" was saved.', "success")
    return redirect(f"{lesson.path}#lesson-action", code=303)


def _conflict(form: ActionForm, lesson: Lesson) -> Page:
    """Someone saved the lesson since the form was opened: show theirs, keep what was typed, rebase."""
    revision = current_revision(lesson)
    form.base_revision.data = str(revision.number) if revision else ""
    who = revision.author_name if revision else "Someone"
    message = (
        f"{who} changed this lesson while you were editing its action. Nothing of yours was saved: "
        "what you typed is still below. The action as it stands now is shown above the form; "
        "check it, then save again."
    )
    return _edit_page(form, lesson, status=409, message=message)


@blueprint.get("/actions")
def open_actions() -> str:
    """Open actions on the lessons the viewer may read, overdue first, then by due date."""
    viewer = current_viewer()
    owners = queries.open_action_owners(viewer)
    filters = OpenActionsFilter(request.args)
    filters.owner.choices = [("", "Any organisation"), *((name, name) for name in owners)]
    owner = filters.owner.data if filters.owner.data in owners else None
    status = filters.status.data if filters.status.data in rules.OPEN_STATUSES else None
    today = queries.london_today()
    page = queries.open_actions(viewer, owner=owner, status=status, page=int_arg("page", 1) or 1)
    chosen = {key: value for key, value in (("owner", owner), ("status", status)) if value}
    return render_template(
        "actions/open.html",
        filters=filters,
        filtered=bool(chosen),
        page=page,
        today=today,
        counts=queries.open_action_counts(viewer, today=today, owner=owner),
        overdue={lesson.id for lesson in page.items if rules.is_overdue(queries.action_state(lesson), today)},
        status_labels={value: rules.label(value) for value in rules.OPEN_STATUSES},
        pagination=pagination_params(page, lambda number: url_for(".open_actions", **chosen, page=number)),
    )


RECURRENCES_PER_PAGE = 25
RECURRENCE_RACE_MESSAGE = (
    "Another moderator decided on these two lessons at the same moment. Check their decision, then save again."
)


@blueprint.get("/recurrences")
def recurrences() -> str:
    """Confirmed recurrences: pairs of lessons a moderator confirmed as the same lesson again."""
    page = recurrence_queries.confirmed_recurrences(current_viewer(), int_arg("page", 1) or 1, RECURRENCES_PER_PAGE)
    return render_template(
        "actions/recurrences.html",
        page=page,
        pagination=pagination_params(page, lambda number: url_for(".recurrences", page=number)),
    )


@blueprint.route("/lessons/<slug>/recurrences/<other_slug>", methods=["GET", "POST"])
def decide_recurrence(slug: str, other_slug: str) -> tuple[str, int] | Response:
    """Compare two lessons side by side and confirm them as the same lesson again, or not (moderators)."""
    viewer = current_viewer()
    lesson = recurrence_queries.visible_lesson(viewer, slug)
    other = recurrence_queries.visible_lesson(viewer, other_slug)
    if lesson is None or other is None or lesson.id == other.id or not can(viewer, "recurrence.decide", lesson):
        abort(404)
    existing = find_recurrence(lesson, other)
    form = RecurrenceForm(data={"decision": existing.decision, "note": existing.note} if existing else None)
    if request.method == "POST" and form.validate():
        try:
            with unit_of_work():
                decide_recurrence_of(
                    lesson, other, form.decision.data or "", actor=current_user, note=form.note.data or ""
                )
        except RecurrenceError as error:
            form.decision.errors = [*form.decision.errors, str(error)]
        except IntegrityError:
            existing = find_recurrence(lesson, other)
            form.decision.errors = [*form.decision.errors, RECURRENCE_RACE_MESSAGE]
        else:
            verdict = RECURRENCE_DECISIONS[form.decision.data or ""].lower()
            flash(f'Saved: "{lesson.title}" and "{other.title}" are {verdict}.', "success")
            return redirect(f"{lesson.path}#recurrence-heading", code=303)
    status = 400 if form.errors else 200
    return render_template(
        "actions/recurrence_decide.html",
        lesson=lesson,
        other=other,
        form=form,
        existing=existing,
        decisions=RECURRENCE_DECISIONS,
    ), status
