"""Jinja set-up: the NHS.UK component macros, the design system's assets, and filters."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, abort, send_from_directory
from jinja2 import ChainableUndefined, ChoiceLoader, FileSystemLoader, PackageLoader
from werkzeug.wrappers import Response

from kb.charts import bar_chart_svg
from kb.dates import PartialDate, london_time
from kb.entries import vocabulary
from kb.entries.models import Entry
from kb.moderation.lessons import waiting_count
from kb.moderation.queries import open_flag_count
from kb.permissions import can, current_viewer
from kb.states import STATE_ENUMS


def _moderation_context() -> dict[str, int]:
    """How many submissions wait and items are flagged, for a moderator's navigation; nothing is counted for others."""
    if not can(current_viewer(), "entry.moderate"):
        return {}
    return {"moderation_waiting": waiting_count(), "flags_open": open_flag_count()}


def _can(action: str, entry: Entry | None = None) -> bool:
    """Templates ask this only to show or hide a button; services check again."""
    return can(current_viewer(), action, entry)


def _partial_date(value: PartialDate | str | None) -> str:
    """Show a partial date, or a stored `YYYY[-MM[-DD]]` text, in words."""
    if not value:
        return ""
    return (value if isinstance(value, PartialDate) else PartialDate.parse(value)).display()


def init_app(app: Flask) -> None:
    """Load templates from `templates/` then the NHS.UK macros, every one autoescaped; serve the NHS.UK assets."""
    # Flask escapes only templates named .html, .xml...: the NHS.UK macros (.jinja) would print
    # titles raw. Every template kb renders is HTML, so every one is escaped; HTML made on purpose
    # arrives as Markup from the function that built it.
    app.jinja_env.autoescape = True
    # The NHS.UK macros read nested optional parameters; they need chainable undefineds.
    app.jinja_env.undefined = ChainableUndefined
    app.jinja_env.loader = ChoiceLoader(
        [FileSystemLoader(app.template_folder or "templates"), PackageLoader("nhsuk_frontend_jinja")]
    )
    app.jinja_env.filters["london_time"] = london_time
    app.jinja_env.filters["partial_date"] = _partial_date
    app.jinja_env.globals["vocabulary"] = vocabulary
    app.jinja_env.globals["can"] = _can
    app.jinja_env.globals["viewer"] = current_viewer
    app.jinja_env.globals["bar_chart_svg"] = bar_chart_svg
    app.context_processor(_moderation_context)
    app.jinja_env.globals["site_name"] = app.config["SITE_NAME"]
    app.jinja_env.globals["site_tagline"] = app.config["SITE_TAGLINE"]
    for states in STATE_ENUMS:
        app.jinja_env.globals[states.__name__] = states
    nhsuk_dir = Path(app.config["NHSUK_FRONTEND_DIR"])

    @app.get("/assets/nhsuk/<path:filename>")
    def nhsuk_asset(filename: str) -> Response:
        """Files of the pinned `nhsuk-frontend` package (installed by `make`)."""
        if not nhsuk_dir.is_dir():
            abort(404)
        return send_from_directory(nhsuk_dir, filename, max_age=86400)
