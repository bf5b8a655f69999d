"""The production app compiles every template before gunicorn forks (kb.wsgi.compile_templates)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from kb.extensions import db
from kb.wsgi import production_app
from tests.conftest import IsolatedClient, make_app
from tests.web import seed


def served_app(tmp_path: Path, seeded_database: Path) -> tuple[Flask, Flask]:
    """The production app, and the test app whose database it uses (kept: its PostgreSQL copy goes with it)."""
    template = make_app(tmp_path / "template", seeded_database)
    application = production_app(dict(template.config, INSTANCE_PATH=template.instance_path))
    application.test_client_class = IsolatedClient
    return application, template


def test_every_template_is_compiled_before_the_first_request(tmp_path: Path, seeded_database: Path) -> None:
    application, _template = served_app(tmp_path, seeded_database)
    names = application.jinja_env.list_templates()
    assert len(names) > 100  # kb's own and the NHS.UK frontend's macros.
    assert len(application.jinja_env.cache) == len(names)
    with application.app_context():
        client = application.test_client()
        lesson = seed.of_kind("lesson")[0]
        for path in ("/", "/lessons", seed.path_of(lesson), "/search?q=triage", "/no-such-page"):
            assert client.get(path).status_code in (200, 404)
        db.session.remove()
    assert len(application.jinja_env.cache) == len(names)  # Nothing compiled on first use.
