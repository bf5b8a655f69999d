"""What other domains add to an entry's page: documents, citing findings, consultations, action and recurrence.

Each domain offers one function `(viewer, entry) -> dict` of template context for its
partial in `templates/entries/_layout.html`; the entry page merges what they give.
Each must apply the visibility rule itself and return only what `viewer` may see.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kb.actions.queries import lesson_action
from kb.consultations.queries import entry_consultations
from kb.documents.pages import entry_documents
from kb.entries.models import Entry
from kb.panels.cited_by import entry_cited_by
from kb.panels.pages import entry_findings
from kb.permissions import Viewer

ContextProvider = Callable[[Viewer, Entry], dict[str, Any]]

PROVIDERS: tuple[ContextProvider, ...] = (
    entry_documents,
    entry_findings,
    lesson_action,
    entry_consultations,
    entry_cited_by,
)


def entry_extras(viewer: Viewer, entry: Entry) -> dict[str, Any]:
    """The merged context every provider gives for `entry` as `viewer` sees it."""
    context: dict[str, Any] = {}
    for provide in PROVIDERS:
        context.update(provide(viewer, entry))
    return context
