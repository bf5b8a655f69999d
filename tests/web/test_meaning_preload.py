"""The production app loads the embedding model before gunicorn forks, when search by meaning is on (kb.wsgi)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.search.meaning import model as meaning_model
from kb.wsgi import production_app
from tests.conftest import make_app


@pytest.mark.parametrize("meaning", [True, False])
def test_the_model_is_loaded_at_start_only_with_search_by_meaning(
    tmp_path: Path, seeded_database: Path, monkeypatch: pytest.MonkeyPatch, meaning: bool
) -> None:
    loads: list[str] = []
    monkeypatch.setattr(meaning_model, "preload", lambda: loads.append("loaded"))
    template = make_app(tmp_path / "template", seeded_database)
    production_app(dict(template.config, INSTANCE_PATH=template.instance_path, SEARCH_MEANING=meaning))
    assert loads == (["loaded"] if meaning else [])


def test_preload_leaves_the_process_one_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(meaning_model, "_loaded", None)
    meaning_model.preload()
    loaded = meaning_model._loaded
    assert loaded is not None
    assert loaded.dimensions == meaning_model.DIMENSIONS
    assert meaning_model.embedder() is loaded
    assert loaded.embed(["which provider missed the go-live date"]).shape == (1, meaning_model.DIMENSIONS)
