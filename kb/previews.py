"""The Preview button of a form with Markdown texts, for readers without JavaScript.

A form's view, asked for `action=preview`, shows the form again with what was typed and,
above the buttons, each text as it will look, rendered by kb's one renderer
(`kb.markdown.render`). Nothing is saved. The template shows the parts with
`templates/_preview.html`; with JavaScript, kb.js previews the same fields as one types.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from markupsafe import Markup
from wtforms import Field

from kb.markdown import render

PREVIEW_ACTION = "preview"
"""The value of the `action` button that asks for a preview."""


@dataclass(frozen=True)
class PreviewPart:
    """One text of a form as it will be shown: its field's label and its sanitised HTML."""

    label: str
    html: Markup


def wants_preview() -> bool:
    """Whether the posted form asked for a preview rather than to be saved."""
    return request.method == "POST" and request.form.get("action") == PREVIEW_ACTION


def preview_parts(*fields: Field | tuple[str, Field]) -> list[PreviewPart]:
    """Each field's text rendered as it will be shown, labelled by the field (or by the label paired with it).

    Empty texts are left out.
    """
    parts = []
    for number, item in enumerate(fields):
        label, field = item if isinstance(item, tuple) else (str(item.label.text), item)
        text = field.data or ""
        if text.strip():
            rendered = render(text, anchor_prefix=f"preview{number}-")
            # render() returns HTML already cleaned by its sanitiser.
            parts.append(PreviewPart(label, Markup(rendered.html)))  # noqa: S704
    return parts
