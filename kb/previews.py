"""The Preview button of a form with Markdown texts, for readers without JavaScript.

A form's view, asked for `action=preview`, shows the form again with what was typed and,
above the buttons, each text as it will look, rendered by kb's one renderer
(`kb.markdown.render`). Nothing is saved. The template shows the parts with
`templates/_preview.html`; with JavaScript, kb.js previews the same fields as one types,
through `POST /preview`, which renders with `preview_markdown` too. Links to entries are
shown as in a members-only draft by the person previewing: only to entries they may see.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from flask_login import current_user
from markupsafe import Markup
from wtforms import Field

from kb.contributions.service import visible_targets
from kb.entries.models import Lesson
from kb.entries.service import resolver_for
from kb.markdown import render
from kb.states import EntryKind, EntryStatus, Visibility
from kb.users.models import User

PREVIEW_ACTION = "preview"
"""The value of the `action` button that asks for a preview."""


@dataclass(frozen=True)
class PreviewPart:
    """One text of a form as it will be shown: its field's label and its sanitised HTML."""

    label: str
    html: Markup


def unsaved_draft() -> Lesson:
    """The entry whose readers a preview's links are shown for when there is no saved one: a members-only draft."""
    return Lesson(kind=EntryKind.LESSON, status=EntryStatus.DRAFT, visibility=Visibility.MEMBERS)


def preview_markdown(text: str, *, actor: User, anchor_prefix: str = "preview-") -> Markup:
    """One Markdown text rendered by kb's renderer, its links shown as in a members-only draft by `actor`."""
    resolve = resolver_for(unsaved_draft(), visible_targets(actor, [text]))
    # render() returns HTML already cleaned by its sanitiser.
    return Markup(render(text, resolve, anchor_prefix=anchor_prefix).html)  # noqa: S704


def wants_preview() -> bool:
    """Whether the posted form asked for a preview rather than to be saved."""
    return request.method == "POST" and request.form.get("action") == PREVIEW_ACTION


def preview_parts(*fields: Field | tuple[str, Field]) -> list[PreviewPart]:
    """Each field's text rendered as it will be shown to the signed-in person, labelled by its field (or paired label).

    Empty texts are left out.
    """
    parts = []
    for number, item in enumerate(fields):
        label, field = item if isinstance(item, tuple) else (str(item.label.text), item)
        text = field.data or ""
        if text.strip():
            parts.append(
                PreviewPart(label, preview_markdown(text, actor=current_user, anchor_prefix=f"preview{number}-"))
            )
    return parts
