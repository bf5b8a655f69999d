"""Admin pages for accounts: the users list, invitations, and one person's role, status, organisation and panel seats.

This module holds the admin blueprint and what its views share. Every view is wrapped in
`admin_only`, which answers 404 to anyone who may not manage accounts (or browse the audit
log), anonymous visitors included: the admin area does not reveal that it exists. Views
parse the form, call one verb of `kb.users.service`, commit once, flash and redirect; a
refused form is drawn again with what was typed and a message, with status 400. The
organisation and audit-log pages are in `kb.admin.organisation_routes`, on the same blueprint.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import Field, SelectChoice

from kb.admin import queries
from kb.admin.forms import (
    InviteForm,
    OrganisationChoiceForm,
    PanelSeatForm,
    RoleForm,
    UserFilterForm,
    options,
)
from kb.entries.models import Review
from kb.errors import unit_of_work
from kb.extensions import db
from kb.pages import int_arg
from kb.pagination import pagination_params
from kb.permissions import can, current_viewer
from kb.users import service
from kb.users.forms import ConfirmForm
from kb.users.models import ROLES, Organisation, User

blueprint = Blueprint("admin", __name__, url_prefix="/admin")

USERS_PER_PAGE = 50
USER_FILTER_ARGS = ("q", "role", "organisation", "status")
Rendered = tuple[str, int]
"""A page drawn, with its status: 400 when a form or filter was refused."""

P = ParamSpec("P")
R = TypeVar("R")


def admin_only(action: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Wrap a view so that it answers 404 unless the current viewer may do `action`."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            if not can(current_viewer(), action):
                abort(404)
            return view(*args, **kwargs)

        return guarded

    return decorate


def acting_user() -> User:
    """The signed-in admin doing what the request asks."""
    return current_user._get_current_object()


def _load_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def commit_or_message(change: Callable[[], object]) -> str | None:
    """Run one service verb and commit; on `AccountError` roll back and return its message."""
    try:
        with unit_of_work():
            change()
    except service.AccountError as error:
        return str(error)
    return None


def _organisation_menu(empty: str) -> list[SelectChoice]:
    return options([("", empty), *queries.organisation_choices()])


def _chosen_organisation(value: str | None) -> Organisation | None:
    return db.session.get(Organisation, int(value)) if value else None


def add_error(field: Field, message: str) -> None:
    """Show a service's refusal next to the field it is about."""
    field.errors = [*field.errors, message]


def field_text(field: Field) -> str:
    """A text field's value, stripped; empty when the field was refused."""
    return "" if field.errors else (field.data or "").strip()


# --- Users ------------------------------------------------------------------------


def _users_page(invite_form: InviteForm) -> Rendered:
    filter_form = UserFilterForm(request.args)
    filter_form.organisation.choices = _organisation_menu("Any organisation")
    invite_form.organisation.choices = _organisation_menu("No organisation")
    filter_form.validate()
    role, status = filter_form.role.data or "", filter_form.status.data or ""
    filters = queries.UserFilters(
        text=field_text(filter_form.q),
        role=role if role in ROLES else "",
        organisation_id=int_arg("organisation"),
        status=status if status in queries.ACCOUNT_STATUSES else "",
    )
    page = queries.list_users(filters, int_arg("page", 1) or 1, USERS_PER_PAGE)
    chosen: dict[str, Any] = {key: request.args[key] for key in USER_FILTER_ARGS if request.args.get(key)}
    failed = bool(filter_form.errors or invite_form.errors)
    html = render_template(
        "admin/users.html",
        page=page,
        pagination=pagination_params(page, lambda n: url_for(".users", **chosen, page=n)),
        filter_form=filter_form,
        filtered=any((filters.text, filters.role, filters.organisation_id, filters.status)),
        invite_form=invite_form,
        account_status=queries.account_status,
        statuses=queries.ACCOUNT_STATUSES,
        roles=ROLES,
    )
    return html, 400 if failed else 200


@blueprint.get("/users")
@admin_only("users.manage")
def users() -> ResponseReturnValue:
    """Every account, filtered, with a form to invite someone."""
    return _users_page(InviteForm(formdata=None))


@blueprint.post("/users")
@admin_only("users.manage")
def invite() -> ResponseReturnValue:
    """Create an account and mail its invitation; the mail goes after the commit."""
    form = InviteForm()
    form.organisation.choices = _organisation_menu("No organisation")
    if not form.validate_on_submit():
        return _users_page(form)
    try:
        with unit_of_work():
            invited = service.invite_user(
                form.email.data or "",
                form.display_name.data or "",
                role=form.role.data or "",
                organisation=_chosen_organisation(form.organisation.data),
                actor=acting_user(),
            )
    except service.AccountError as error:
        add_error(getattr(form, error.field or "email", form.email), str(error))
        return _users_page(form)
    flash(f"Invitation sent to {invited.email}.", "success")
    return redirect(url_for(".user", user_id=invited.id))


def _user_page(user: User, *, message: str | None = None, failed: FlaskForm | None = None) -> Rendered:
    """The account page, with `failed` (the form that was refused) drawn as it was sent."""
    role_form = failed if isinstance(failed, RoleForm) else RoleForm(formdata=None, role=user.role)
    organisation_form = (
        failed
        if isinstance(failed, OrganisationChoiceForm)
        else OrganisationChoiceForm(formdata=None, organisation=str(user.organisation_id or ""))
    )
    panel_form = failed if isinstance(failed, PanelSeatForm) else PanelSeatForm(formdata=None)
    organisation_form.organisation.choices = _organisation_menu("No organisation")
    panel_form.review.choices = options(queries.review_choices({seat.review_id for seat in user.panel_seats}))
    html = render_template(
        "admin/user.html",
        user=user,
        status=queries.ACCOUNT_STATUSES[queries.account_status(user)],
        invited=queries.account_status(user) == "invited",
        role_name=ROLES.get(user.role, user.role),
        role_form=role_form,
        organisation_form=organisation_form,
        panel_form=panel_form,
        failed=failed or ConfirmForm(formdata=None),
        message=message,
    )
    return html, 400 if failed is not None or message else 200


def _done(
    user: User, change: Callable[[], object], success: str, form: FlaskForm | None = None, field: Field | None = None
) -> ResponseReturnValue:
    """Apply a change to `user`, then flash `success` and go back to their page.

    A refusal is shown next to `field` of `form` when given, else at the top of the page.
    """
    message = commit_or_message(change)
    if message and field is not None:
        add_error(field, message)
        return _user_page(user, failed=form)
    if message:
        return _user_page(user, message=message, failed=form)
    flash(success, "success")
    return redirect(url_for(".user", user_id=user.id))


@blueprint.get("/users/<int:user_id>")
@admin_only("users.manage")
def user(user_id: int) -> ResponseReturnValue:
    """One account: role, status, organisation and panel seats, with forms to change them."""
    return _user_page(_load_user(user_id))


@blueprint.post("/users/<int:user_id>/role")
@admin_only("users.manage")
def change_role(user_id: int) -> ResponseReturnValue:
    """Change a role; the person is signed out everywhere so it applies at once."""
    user = _load_user(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _user_page(user, failed=form)
    role = form.role.data or ""
    success = f"{user.display_name}'s role is now {ROLES[role]}."
    return _done(user, lambda: service.set_role(user, role, actor=acting_user()), success, form, form.role)


@blueprint.post("/users/<int:user_id>/deactivate")
@admin_only("users.manage")
def deactivate(user_id: int) -> ResponseReturnValue:
    """Deactivate an account; its sessions end at once."""
    user = _load_user(user_id)
    success = f"{user.display_name}'s account is deactivated. They have been signed out everywhere."
    return _done(user, lambda: service.set_active(user, False, actor=acting_user()), success)


@blueprint.post("/users/<int:user_id>/reactivate")
@admin_only("users.manage")
def reactivate(user_id: int) -> ResponseReturnValue:
    """Let a deactivated account sign in again."""
    user = _load_user(user_id)
    success = f"{user.display_name}'s account is active again."
    return _done(user, lambda: service.set_active(user, True, actor=acting_user()), success)


@blueprint.post("/users/<int:user_id>/organisation")
@admin_only("users.manage")
def change_organisation(user_id: int) -> ResponseReturnValue:
    """Move a person to another organisation, or to none."""
    user = _load_user(user_id)
    form = OrganisationChoiceForm()
    form.organisation.choices = _organisation_menu("No organisation")
    if not form.validate_on_submit():
        return _user_page(user, failed=form)
    organisation = _chosen_organisation(form.organisation.data)
    success = f"{user.display_name}'s organisation is now {organisation.name if organisation else 'none'}."
    return _done(user, lambda: service.set_organisation(user, organisation, actor=acting_user()), success, form)


@blueprint.post("/users/<int:user_id>/panels")
@admin_only("users.manage")
def add_panel_seat(user_id: int) -> ResponseReturnValue:
    """Seat a person on one review's panel."""
    user = _load_user(user_id)
    form = PanelSeatForm()
    form.review.choices = options(queries.review_choices(set()))
    if not form.validate_on_submit():
        return _user_page(user, failed=form)
    review = db.session.get(Review, int(form.review.data or 0))
    if review is None:
        abort(404)
    success = f"{user.display_name} now sits on the panel of {review.title}."
    return _done(user, lambda: service.add_panel_seat(user, review, actor=acting_user()), success, form)


@blueprint.post("/users/<int:user_id>/panels/<int:review_id>/remove")
@admin_only("users.manage")
def remove_panel_seat(user_id: int, review_id: int) -> ResponseReturnValue:
    """Take a person off one review's panel."""
    user = _load_user(user_id)
    review = db.session.get(Review, review_id)
    if review is None:
        abort(404)
    success = f"{user.display_name} no longer sits on the panel of {review.title}."
    return _done(user, lambda: service.remove_panel_seat(user, review, actor=acting_user()), success)


@blueprint.post("/users/<int:user_id>/invitation")
@admin_only("users.manage")
def resend_invite(user_id: int) -> ResponseReturnValue:
    """Mail a fresh invitation to someone who has not set a password yet."""
    user = _load_user(user_id)
    if user.is_demo:
        return _user_page(user, message="Demo accounts are entered from the sign-in page; they need no invitation.")
    success = f"A new invitation has been sent to {user.email}."
    return _done(user, lambda: service.resend_invite(user, actor=acting_user()), success)
