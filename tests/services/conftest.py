"""Fixtures shared by the service tests."""

from __future__ import annotations

from typing import Any

import pytest

from kb.entries.models import Entry
from kb.search import indexing


@pytest.fixture
def failing(monkeypatch: pytest.MonkeyPatch) -> set[int]:
    """Entry ids whose index documents cannot be built, while they are in this set."""
    broken: set[int] = set()
    original = indexing.index_document

    def index_document(entry: Entry, *args: Any) -> dict[str, Any]:
        if entry.id in broken:
            raise RuntimeError(f"cannot index entry {entry.id}")
        return original(entry, *args)

    monkeypatch.setattr(indexing, "index_document", index_document)
    return broken
