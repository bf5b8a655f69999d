"""Jinja set-up: the NHS.UK component macros, the design system's assets, and filters."""

from __future__ import annotations

import sys
from pathlib import Path
from types import FrameType
from typing import Any

from flask import Flask, abort, send_from_directory
from jinja2 import ChainableUndefined, ChoiceLoader, FileSystemLoader, PackageLoader, StrictUndefined
from jinja2.runtime import Macro
from werkzeug.wrappers import Response

from kb.charts import bar_chart_svg
from kb.dates import PartialDate, london_time
from kb.entries import vocabulary
from kb.entries.models import Entry
from kb.moderation.lessons import waiting_count
from kb.moderation.queries import open_flag_count
from kb.permissions import can, current_viewer
from kb.states import STATE_ENUMS

MACRO_SUFFIX = ".jinja"
"""The NHS.UK macros' templates are named so; kb's own end in .html."""
_MACRO_CALL = Macro.__call__.__code__


def _in_macro_template() -> bool:
    """Whether the template running the caller's code is one of the NHS.UK macros'.

    Jinja keeps each compiled template's `Template` in its module globals as `__jinja_template__`;
    the nearest frame that has one is the template whose code met the undefined name. A macro
    called without a `caller` is given an undefined one by Jinja's `Macro.__call__`, before the
    macro's own code runs: that one belongs to the macro's template.
    """
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code is _MACRO_CALL:
            template = frame.f_locals["self"]._func.__globals__.get("__jinja_template__")
        else:
            template = frame.f_globals.get("__jinja_template__")
        if template is not None:
            return (template.name or "").endswith(MACRO_SUFFIX)
        frame = frame.f_back
    return False


class KbUndefined(StrictUndefined):
    """Strict in kb's templates: a name or attribute that is not there fails the page, so a misspelling fails a test.

    Inside the NHS.UK macros an undefined is chainable instead (it prints as nothing and its
    attributes are undefined too): they read nested optional parameters that kb leaves out.
    A value kb passes into a macro keeps the strictness of the template it came from.
    """

    __slots__ = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        """A chainable undefined when met inside an NHS.UK macro, else a strict one (Jinja's arguments)."""
        if _in_macro_template():
            return ChainableUndefined(*args, **kwargs)
        return super().__new__(cls)


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
    # Strict in kb's templates, chainable in the NHS.UK macros, which read nested optional parameters.
    app.jinja_env.undefined = KbUndefined
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
        return send_from_directory(nhsuk_dir, filename, max_age=60)
