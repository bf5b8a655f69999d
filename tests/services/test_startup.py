"""What building the app does to the process: start-up objects are frozen for a served site, not in tests."""

from __future__ import annotations

import gc
from pathlib import Path

from kb import create_app
from tests.conftest import copy_database


def _settings(tmp_path: Path, empty_database: Path, **extra: object) -> dict[str, object]:
    return {
        "INSTANCE_PATH": tmp_path / "instance",
        "SQLALCHEMY_DATABASE_URI": copy_database(tmp_path, empty_database)[0],
        "SEARCH_INDEX_DIR": str(tmp_path / "search_index"),
        "SECRET_KEY": "test-secret-key",
        "AUTO_MIGRATE": False,
        "SEARCH_REBUILD_AT_START": "off",
        **extra,
    }


def test_a_served_app_freezes_its_start_up_objects(tmp_path: Path, empty_database: Path) -> None:
    gc.unfreeze()
    try:
        create_app(_settings(tmp_path, empty_database))
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_tests_and_the_setting_leave_the_collector_alone(tmp_path: Path, empty_database: Path) -> None:
    gc.unfreeze()
    create_app(_settings(tmp_path, empty_database, TESTING=True))
    create_app(_settings(tmp_path, empty_database, FREEZE_STARTUP_OBJECTS=False))
    assert gc.get_freeze_count() == 0
