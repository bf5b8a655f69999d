"""The "Your work" page: the signed-in person's drafts, responses, lessons, findings and actions.

`/account/work` shows the first few of each list; `/account/work/<listing>` shows one list in
full, a page at a time. Everything is read through `kb.users.work`, so only the person's
own things that they may still read appear.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required

from kb.consultations.receipts import answered_questions, receipt_path
from kb.consultations.service import state_of
from kb.pagination import pagination_params
from kb.panels.models import FINDING_STATUSES
from kb.permissions import current_viewer
from kb.users import work

blueprint = Blueprint("work", __name__)


def _helpers() -> dict[str, object]:
    viewer = current_viewer()
    return {
        "finding_link": lambda finding: work.finding_link(viewer, finding),
        "form_link": work.form_link,
        "receipt_path": receipt_path,
        "answered_questions": answered_questions,
        "state_of": state_of,
        "finding_statuses": FINDING_STATUSES,
    }


@blueprint.get("/account/work")
@login_required
def index() -> str:
    """The first few of each of the person's lists, each with a link to see all of it."""
    sections = work.sections(current_user, current_viewer())
    return render_template("auth/work.html", sections={s.key: s for s in sections}, **_helpers())


@blueprint.get("/account/work/<listing>")
@login_required
def section(listing: str) -> str:
    """One of the person's lists in full, a page at a time (`?page=`); 404 for a list that does not exist."""
    if listing not in work.SECTIONS:
        abort(404)
    number = request.args.get("page", 1, type=int) or 1
    listed, page = work.one_section(current_user, current_viewer(), listing, number)
    pagination = pagination_params(page, lambda n: url_for("work.section", listing=listing, page=n))
    return render_template("auth/work_section.html", section=listed, pagination=pagination, **_helpers())
