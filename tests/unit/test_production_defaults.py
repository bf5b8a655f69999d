"""The defaults kb takes when gunicorn serves it sit in kb.config, and the environment still wins over them."""

from __future__ import annotations

from kb.config import PRODUCTION_DEFAULTS, production_defaults


def test_served_by_gunicorn_rate_limits_are_counted_in_the_database() -> None:
    assert production_defaults({}) == {"RATELIMIT_STORAGE_URI": "database"}
    assert PRODUCTION_DEFAULTS["RATELIMIT_STORAGE_URI"] == "database"


def test_the_environment_wins_over_a_production_default() -> None:
    assert production_defaults({"RATELIMIT_STORAGE_URI": "redis://cache"}) == {}
    assert production_defaults({"RATELIMIT_STORAGE_URI": ""}) == {"RATELIMIT_STORAGE_URI": "database"}
