"""Admin pages for organisations and the audit log, on the admin blueprint of `kb.admin.routes`.

The same rules as the account pages: every view answers 404 unless the viewer may manage
accounts (or browse the audit log); a refused form is drawn again with what was typed and
its message, status 400. The audit log is only read here: no route changes or removes an event.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from kb.admin import queries
from kb.admin.forms import AuditFilterForm, OrganisationForm, parse_day
from kb.admin.routes import Rendered, acting_user, add_error, admin_only, blueprint, commit_or_message, field_text
from kb.audit.models import ACTIONS
from kb.extensions import db
from kb.pages import int_arg
from kb.pagination import pagination_params
from kb.users import service
from kb.users.models import ORGANISATION_TYPES, Organisation

AUDIT_PER_PAGE = 50
AUDIT_FILTER_ARGS = ("action", "actor", "target", "date_from", "date_to")


def _load_organisation(organisation_id: int) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        abort(404)
    return organisation


# --- Organisations ------------------------------------------------------------------


def _organisations_page(form: OrganisationForm) -> Rendered:
    html = render_template(
        "admin/organisations.html",
        rows=queries.organisations_with_counts(),
        types=ORGANISATION_TYPES,
        form=form,
    )
    return html, 400 if form.errors else 200


def _save(organisation: Organisation | None, form: OrganisationForm) -> str | None:
    """Create or change an organisation; the only refusal is a name already taken."""
    return commit_or_message(
        lambda: service.save_organisation(
            organisation,
            name=form.name.data or "",
            type_=form.org_type.data or "",
            region=(form.region.data or "").strip() or None,
            actor=acting_user(),
        )
    )


@blueprint.get("/organisations")
@admin_only("users.manage")
def organisations() -> ResponseReturnValue:
    """Every organisation with its number of accounts, and a form to add one."""
    return _organisations_page(OrganisationForm(formdata=None))


@blueprint.post("/organisations")
@admin_only("users.manage")
def create_organisation() -> ResponseReturnValue:
    """Add an organisation."""
    form = OrganisationForm()
    if not form.validate_on_submit():
        return _organisations_page(form)
    message = _save(None, form)
    if message:
        add_error(form.name, message)
        return _organisations_page(form)
    flash(f"{form.name.data.strip()} has been added.", "success")
    return redirect(url_for(".organisations"))


def _organisation_page(organisation: Organisation, form: OrganisationForm) -> Rendered:
    html = render_template("admin/organisation.html", organisation=organisation, form=form)
    return html, 400 if form.errors else 200


@blueprint.get("/organisations/<int:organisation_id>")
@admin_only("users.manage")
def organisation(organisation_id: int) -> ResponseReturnValue:
    """One organisation's details, to change, and its accounts."""
    found = _load_organisation(organisation_id)
    form = OrganisationForm(formdata=None, name=found.name, org_type=found.type, region=found.region or "")
    return _organisation_page(found, form)


@blueprint.post("/organisations/<int:organisation_id>")
@admin_only("users.manage")
def update_organisation(organisation_id: int) -> ResponseReturnValue:
    """Change an organisation's name, type or region."""
    found = _load_organisation(organisation_id)
    form = OrganisationForm()
    if not form.validate_on_submit():
        return _organisation_page(found, form)
    message = _save(found, form)
    if message:
        add_error(form.name, message)
        return _organisation_page(found, form)
    flash(f"{found.name} has been saved.", "success")
    return redirect(url_for(".organisation", organisation_id=found.id))


# --- Audit log ----------------------------------------------------------------------


@blueprint.get("/audit")
@admin_only("audit.browse")
def audit() -> ResponseReturnValue:
    """The audit log, newest first, filtered by action, who, target and dates."""
    form = AuditFilterForm(request.args)
    form.validate()
    action = form.action.data or ""
    filters = queries.AuditFilters(
        action=action if action in ACTIONS else "",
        actor=field_text(form.actor),
        target=field_text(form.target),
        day_from=None if form.date_from.errors else parse_day(form.date_from.data),
        day_to=None if form.date_to.errors else parse_day(form.date_to.data),
    )
    page = queries.list_events(filters, int_arg("page", 1) or 1, AUDIT_PER_PAGE)
    chosen: dict[str, Any] = {key: request.args[key] for key in AUDIT_FILTER_ARGS if request.args.get(key)}
    html = render_template(
        "admin/audit.html",
        form=form,
        page=page,
        pagination=pagination_params(page, lambda n: url_for(".audit", **chosen, page=n)),
        filtered=any((filters.action, filters.actor, filters.target, filters.day_from, filters.day_to)),
        actions=ACTIONS,
    )
    return html, 400 if form.errors else 200
