"""kb: a lessons-learned and consultation knowledge base.

`create_app(config)` builds the Flask app: settings, extensions, blueprints, CLI and
hooks. Nothing else happens at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from kb.config import PROJECT_ROOT, load_settings


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build a kb app. `config` overrides settings (tests pass a database and folders)."""
    config = dict(config or {})
    app = Flask(
        __name__,
        instance_path=str(config.pop("INSTANCE_PATH", PROJECT_ROOT / "instance")),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(load_settings(Path(app.instance_path), config))

    from kb import cli, errors, templating
    from kb.database import init_database
    from kb.entries.routes import blueprint as entries_blueprint
    from kb.extensions import csrf
    from kb.taxonomy.routes import blueprint as taxonomy_blueprint

    init_database(app)
    csrf.init_app(app)
    templating.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    app.register_blueprint(entries_blueprint)
    app.register_blueprint(taxonomy_blueprint)
    return app
