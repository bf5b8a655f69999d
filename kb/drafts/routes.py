"""Saving a draft while someone types, setting one aside, and offering one back on a form's page.

kb's script posts a form's fields to `POST /drafts` every few seconds after they change
(with the form's token in the `X-CSRFToken` header, checked by the global CSRF check),
naming the form's page in `path`. It answers JSON: when the draft was saved, or why not
(401 when signed out, 400 for a path that is not a page of this site or a draft too large).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Blueprint, abort, flash, jsonify, redirect, request, session
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from kb.dates import LONDON
from kb.drafts import service
from kb.drafts.models import PATH_MAX, SAVED_HERE
from kb.errors import unit_of_work
from kb.extensions import limiter, per_person
from kb.users.routes import safe_next

blueprint = Blueprint("drafts", __name__)


@dataclass(frozen=True)
class DraftOffer:
    """A newer draft of the form on this page than what is saved: its link and when it was saved."""

    href: str
    saved_at: dt.datetime
    token: str


def _clock(moment: dt.datetime) -> str:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(LONDON).strftime("%H:%M")


@blueprint.post("/drafts")
@limiter.limit("30 per minute", key_func=per_person("draft"))
def autosave() -> tuple[Response, int]:
    """Keep the posted fields as the signed-in person's draft of the form at `path`."""
    if not current_user.is_authenticated:
        return jsonify(saved=False, reason="You are signed out, so your text was not saved as a draft."), 401
    path = safe_next(request.form.get("path", ""))
    if path is None or len(path) > PATH_MAX or "?" in path or "#" in path:
        return jsonify(saved=False, reason="That is not a page of this site."), 400
    try:
        fields = service.typed_fields(request.form)
    except service.DraftTooLargeError as error:
        return jsonify(saved=False, reason=str(error)), 400
    with unit_of_work():
        draft = service.keep_draft(path, fields, owner_id=current_user.id, address=None)
        saved_at = draft.updated_at
    session[SAVED_HERE] = True
    return jsonify(saved=True, at=_clock(saved_at), message=f"Draft saved {_clock(saved_at)}"), 200


# Signed out, it answers 401 itself rather than sending the script to the sign-in page.
autosave.keeps_text_when_signed_out = True  # type: ignore[attr-defined]


@blueprint.post("/drafts/<token>/discard")
@login_required
def discard(token: str) -> Response:
    """Set aside one's own draft, and go back to the form's page (`back`); 404 for a draft not one's own."""
    with unit_of_work():
        gone = service.discard_draft_by_token(token, owner_id=current_user.id)
    if not gone:
        abort(404)
    flash("Your unsaved text was discarded.", "info")
    return redirect(safe_next(request.form.get("back")) or "/", code=303)


@blueprint.app_template_global("unsaved_draft")
def unsaved_draft(since: dt.datetime | None = None, path: str | None = None) -> DraftOffer | None:
    """On a form's page shown by GET: the viewer's draft of it saved after `since` (the saved object's time).

    None when signed out, when the page already shows a draft, or when there is none. Only a
    browser that has saved a draft as its person typed looks (`SAVED_HERE`).
    """
    if request.method != "GET" or "draft" in request.args or not current_user.is_authenticated:
        return None
    if not session.get(SAVED_HERE):
        return None
    page = path or request.path
    draft = service.newest_draft(current_user.id, page, since=since)
    if draft is None:
        return None
    query = request.args.to_dict()
    query["draft"] = draft.token
    href = f"{page}?{urlencode(query)}"
    return DraftOffer(href=href, saved_at=draft.updated_at, token=draft.token)
