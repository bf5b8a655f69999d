"""What the finding editor shows besides the form: its preview, with note markers as they will appear once saved.

The Preview button (and the live preview, through `POST /preview` with the finding's number
and note count) renders the typed texts with kb's renderer, then links each `[^N]` the
finding cites as `kb.panels.notes` will when the text is saved.
"""

from __future__ import annotations

from markupsafe import Markup
from wtforms import Field

from kb.panels.models import Finding
from kb.panels.notes import link_notes
from kb.previews import PreviewPart, preview_parts


def preview_with_notes(finding: Finding | None, *fields: Field) -> list[PreviewPart]:
    """The typed `fields` as they will be shown, their note markers linked to `finding`'s citations (none when new)."""
    parts = preview_parts(*fields)
    if finding is None:
        return parts
    known, seen = len(finding.citations), set[int]()
    return [
        # The preview's HTML is sanitised by kb.markdown; link_notes adds only its own fixed markup.
        PreviewPart(part.label, Markup(link_notes(str(part.html), finding.number, known, seen)))  # noqa: S704
        for part in parts
    ]
