"""The live preview: `POST /preview` renders one Markdown text as it would be shown, for kb's script.

It answers the rendered HTML fragment, made by kb's one renderer and sanitiser, or a
short plain-text message with a 4xx status: 403 when not signed in, 400 for a missing or
over-long text, 429 when previews come too fast. With `finding` (a finding's number) and
`notes` (how many citations it has), its note markers are linked as when the finding is
saved. The CSRF token travels in the `X-CSRFToken` header, checked by the global CSRF
hook like any post. Nothing is saved.
"""

from __future__ import annotations

from flask import Blueprint, current_app, request
from flask_limiter import RateLimitExceeded
from flask_login import current_user

from kb.entries.limits import PREVIEW_MAX_CHARS
from kb.extensions import limiter, per_person
from kb.pages import whole_number
from kb.panels.notes import link_notes
from kb.previews import preview_markdown

blueprint = Blueprint("preview", __name__)
Answer = tuple[str, int, dict[str, str]]
TEXT = {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}
FRAGMENT = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}


def _limit() -> str:
    return current_app.config["PREVIEW_LIMIT_PER_USER"]


@blueprint.errorhandler(RateLimitExceeded)
def _throttled(error: RateLimitExceeded) -> Answer:
    """Too many previews in a short time: a short message, never a page."""
    return "Too many previews in a short time; the preview will come back shortly.", 429, TEXT


@blueprint.post("/preview")
@limiter.limit(_limit, key_func=per_person("preview"), methods=["POST"])
def preview() -> Answer:
    """Render the posted `text` (Markdown) to sanitised HTML for a signed-in person."""
    if not current_user.is_authenticated:
        return "Sign in to see a preview.", 403, TEXT
    text = request.form.get("text")
    if text is None:
        return "There is no text to preview.", 400, TEXT
    if len(text) > PREVIEW_MAX_CHARS:
        message = f"The text is too long to preview: {len(text):,} characters; the most is {PREVIEW_MAX_CHARS:,}."
        return message, 400, TEXT
    html = str(preview_markdown(text, actor=current_user))
    finding, notes = whole_number(request.form.get("finding")), whole_number(request.form.get("notes"))
    if finding is not None and notes is not None:
        html = link_notes(html, finding, notes)
    return html, 200, FRAGMENT
