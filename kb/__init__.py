"""kb: a lessons-learned and consultation knowledge base.

`create_app(config)` builds the Flask app: settings, extensions, blueprints, CLI and
hooks. Nothing else happens at import time.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from flask import Flask

from kb.config import PROJECT_ROOT, load_settings
from kb.pages import BoundedIntegerConverter


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
    # Before any route is added: every `<int:...>` id is bounded, so a huge one answers 404, not 500.
    app.url_map.converters["int"] = BoundedIntegerConverter

    from kb import assets, cli, cookieless, errors, inputs, logs, mail, ratelimits, security, templating, unavailable
    from kb.access import models as access_models  # noqa: F401 (the token table joins the metadata)
    from kb.access.routes import blueprint as access_blueprint
    from kb.actions.routes import blueprint as actions_blueprint
    from kb.admin import organisation_routes  # noqa: F401 (its views join the admin blueprint on import)
    from kb.admin.routes import blueprint as admin_blueprint
    from kb.api import routes as api_routes
    from kb.comments.export_routes import blueprint as exports_blueprint
    from kb.comments.routes import blueprint as comments_blueprint
    from kb.consultations.analysis_routes import blueprint as consultation_analysis_blueprint
    from kb.consultations.routes import blueprint as consultations_blueprint
    from kb.contributions.preview_routes import blueprint as preview_blueprint
    from kb.contributions.routes import blueprint as contributions_blueprint
    from kb.dashboard.routes import blueprint as dashboard_blueprint
    from kb.database import init_database
    from kb.documents import models as document_models  # noqa: F401 (the document tables join the metadata)
    from kb.documents.routes import blueprint as documents_blueprint
    from kb.drafts.routes import blueprint as drafts_blueprint
    from kb.entries.routes import blueprint as entries_blueprint
    from kb.extensions import csrf, limiter
    from kb.feeds.routes import blueprint as feeds_blueprint
    from kb.feeds.sitemap import blueprint as discovery_blueprint
    from kb.health import blueprint as health_blueprint
    from kb.moderation.curation_routes import blueprint as curation_blueprint
    from kb.moderation.routes import blueprint as moderation_blueprint
    from kb.notifications.routes import blueprint as notifications_blueprint
    from kb.panels import (
        discussion_routes,  # noqa: F401 - adds the findings' discussion to the panels blueprint
        hub_routes,  # noqa: F401 (its views join the panels blueprint on import)
        report_routes,  # noqa: F401 (the report's views join the traceability blueprint on import)
    )
    from kb.panels.picker_routes import blueprint as cite_picker_blueprint
    from kb.panels.routes import blueprint as panels_blueprint
    from kb.panels.trace_routes import blueprint as traceability_blueprint
    from kb.search import lifecycle as search_lifecycle
    from kb.search.routes import blueprint as search_blueprint
    from kb.taxonomy.curation_routes import blueprint as tag_curation_blueprint
    from kb.taxonomy.routes import blueprint as taxonomy_blueprint
    from kb.users import (
        account_routes,  # noqa: F401 (its views join the auth blueprint on import)
        session_routes,  # noqa: F401 (its views join the auth blueprint on import)
        sessions,
        sso,
        sso_routes,  # noqa: F401 (its views join the auth blueprint on import)
    )
    from kb.users.routes import blueprint as auth_blueprint
    from kb.users.work_routes import blueprint as work_blueprint

    logs.init_app(app)
    # The character doorway: before CSRF, sessions, rate limits and every view, so none sees a NUL.
    inputs.init_app(app)
    init_database(app)
    csrf.init_app(app)
    ratelimits.init_app(app)
    limiter.init_app(app)
    # API token calls and feeds are told apart before the session hooks read any cookie.
    cookieless.init_app(app)
    api_routes.init_app(app)
    sessions.init_app(app)
    sso.init_app(app)
    security.init_app(app)
    mail.init_app(app)
    search_lifecycle.init_app(app)
    templating.init_app(app)
    assets.init_app(app)
    errors.init_app(app)
    unavailable.init_app(app)
    cli.init_app(app)
    for blueprint in (
        entries_blueprint,
        search_blueprint,
        taxonomy_blueprint,
        auth_blueprint,
        work_blueprint,
        access_blueprint,
        contributions_blueprint,
        preview_blueprint,
        admin_blueprint,
        comments_blueprint,
        drafts_blueprint,
        moderation_blueprint,
        curation_blueprint,
        tag_curation_blueprint,
        notifications_blueprint,
        exports_blueprint,
        panels_blueprint,
        traceability_blueprint,
        cite_picker_blueprint,
        consultations_blueprint,
        consultation_analysis_blueprint,
        actions_blueprint,
        dashboard_blueprint,
        documents_blueprint,
        health_blueprint,
        feeds_blueprint,
        discovery_blueprint,
    ):
        app.register_blueprint(blueprint)
    if app.config["FREEZE_STARTUP_OBJECTS"] and not app.testing:
        freeze_startup_objects()
    return app


def freeze_startup_objects() -> None:
    """Collect once, then leave everything alive now out of later collections.

    The modules, mappers and settings made at start-up live as long as the process; a
    page that builds many objects (a long discussion) would otherwise trigger full
    collections that scan them all again, which showed as 60 ms pauses in the p95 of
    `benchmarks/thread_bench.py`.
    """
    gc.collect()
    gc.freeze()
