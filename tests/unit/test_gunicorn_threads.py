"""gunicorn's settings keep numpy's matrix products to one thread per worker unless the environment says otherwise."""

from __future__ import annotations

import os
import runpy

import pytest

from kb.config import PROJECT_ROOT

CONFIG = PROJECT_ROOT / "gunicorn.conf.py"


def test_workers_multiply_matrices_on_one_thread_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    runpy.run_path(str(CONFIG))
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"


def test_a_thread_count_from_the_environment_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    runpy.run_path(str(CONFIG))
    assert os.environ["OPENBLAS_NUM_THREADS"] == "4"
