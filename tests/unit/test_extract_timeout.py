"""Reading a document's text must end before gunicorn's request timeout: kb refuses to start otherwise."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys

import pytest

from kb.config import PROJECT_ROOT, document_extract_seconds, extraction_outlasts_timeout

CONFIG = PROJECT_ROOT / "gunicorn.conf.py"


def test_the_default_reading_time_ends_well_inside_the_default_timeout() -> None:
    assert document_extract_seconds({}) == 20
    assert document_extract_seconds({"DOCUMENT_EXTRACT_SECONDS": "12.5"}) == 12.5
    assert extraction_outlasts_timeout(20, 30) is None
    assert extraction_outlasts_timeout(25, 30) is None


def test_reading_that_ends_at_or_near_the_timeout_is_refused_with_the_settings_to_change() -> None:
    assert extraction_outlasts_timeout(60, 30) == (
        "DOCUMENT_EXTRACT_SECONDS is 60 but KB_TIMEOUT is 30: reading a document's text must end at least "
        "5 seconds before a request's timeout, or a slow upload gets its worker killed. Lower "
        "DOCUMENT_EXTRACT_SECONDS to 25 or less, or raise KB_TIMEOUT (and the proxy's read timeout with it)."
    )
    assert extraction_outlasts_timeout(25.5, 30) is not None


def test_gunicorn_settings_take_a_longer_timeout_with_a_longer_reading_time(monkeypatch) -> None:
    monkeypatch.setenv("KB_TIMEOUT", "90")
    monkeypatch.setenv("DOCUMENT_EXTRACT_SECONDS", "60")
    assert runpy.run_path(str(CONFIG))["timeout"] == 90


def test_gunicorn_settings_refuse_a_reading_time_past_the_timeout(monkeypatch) -> None:
    monkeypatch.setenv("KB_TIMEOUT", "10")
    monkeypatch.delenv("DOCUMENT_EXTRACT_SECONDS", raising=False)
    with pytest.raises(SystemExit, match=r"^kb cannot start: DOCUMENT_EXTRACT_SECONDS is 20 but KB_TIMEOUT is 10:"):
        runpy.run_path(str(CONFIG))


def test_gunicorn_stops_at_start_with_the_message_alone(tmp_path) -> None:
    env = {**os.environ, "KB_TIMEOUT": "30", "DOCUMENT_EXTRACT_SECONDS": "30"}
    finished = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--config", str(CONFIG), "--check-config"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 1
    assert finished.stderr.startswith("kb cannot start: DOCUMENT_EXTRACT_SECONDS is 30 but KB_TIMEOUT is 30:")
    assert "Traceback" not in finished.stderr
