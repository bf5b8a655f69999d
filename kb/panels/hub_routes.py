"""The panel's hub pages: "My panels", and taking or handing over the pen on a finding from the workspace.

These views join the `panels` blueprint when this module is imported (by `create_app`).
Handing over the pen is for the review's panel and staff; anyone else gets 404, as for
something that does not exist. The new holder is looked for among the review's panel
members (or is the viewer, taking the pen); any other id gets one message that names
nobody, so the form cannot be used to learn who an account is. "My panels" is for
anyone signed in, and lists something for panel members and staff only.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from kb.errors import unit_of_work
from kb.pages import whole_number
from kb.panels import queries
from kb.panels.holders import NOT_ON_PANEL, hand_pen
from kb.panels.models import FINDING_STATUSES
from kb.panels.my_panels import panel_rows
from kb.panels.routes import FINDING, blueprint
from kb.panels.service import FindingError
from kb.permissions import current_viewer
from kb.users.models import User


@blueprint.get("/panels")
@login_required
def my_panels() -> str:
    """The reviews the viewer works on (staff: every review with a panel), with counts and a link to each workspace."""
    viewer = current_viewer()
    return render_template(
        "panels/my_panels.html", rows=panel_rows(viewer), staff=viewer.is_staff, finding_statuses=FINDING_STATUSES
    )


@blueprint.post(f"{FINDING}/holder")
@login_required
def hand_over(slug: str, number: int) -> Response:
    """Give the pen on a finding to the panel member named by `holder` (the viewer's own id takes it)."""
    viewer = current_viewer()
    review = queries.workspace_review(viewer, slug)
    finding = queries.visible_finding(viewer, review, number) if review is not None else None
    if review is None or finding is None:
        abort(404)
    back = url_for(".workspace", slug=slug) + f"#finding-{finding.number}"
    holder_id = whole_number(request.form.get("holder"))
    me: User = current_user._get_current_object()
    choices = [me, *queries.panel_members(review)]
    holder = next((person for person in choices if holder_id is not None and person.id == holder_id), None)
    if holder is None:
        flash(f"{NOT_ON_PANEL} Choose a member of the panel to hand finding {finding.number} to.", "error")
        return redirect(back, code=303)
    try:
        with unit_of_work():
            changed = hand_pen(finding, holder, actor=current_user)
    except FindingError as error:
        flash(str(error), "error")
        return redirect(back, code=303)
    if holder.id == current_user.id:
        flash(f"You hold the pen on finding {finding.number}.", "success")
    elif changed:
        flash(f"{holder.display_name} now holds the pen on finding {finding.number}.", "success")
    else:
        flash(f"{holder.display_name} already holds the pen on finding {finding.number}.", "info")
    return redirect(back, code=303)
