"""The production entry point (`gunicorn.conf.py` serves `kb.wsgi:production_app()`).

It is `create_app()` plus one thing a server behind proxies needs: with `KB_PROXY_HOPS=N`
(the number of proxies in front that set `X-Forwarded-For` and `X-Forwarded-Proto`), the
client's address and scheme are read from those headers, N hops back, so per-address
rate limits count each client rather than the proxy. Without it the headers are ignored:
trusting them with no proxy in front would let anyone choose their address. It also
compiles every template and, with `SEARCH_MEANING` on, loads the embedding model before
gunicorn forks its workers (`compile_templates`, `kb.search.meaning.model.preload`), and warns
when the search backend cannot be shared by the hosts of a PostgreSQL database.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from kb import create_app, freeze_startup_objects
from kb.config import production_defaults
from kb.health import watch_for_an_undeclared_proxy
from kb.search.backend import divergence_warning
from kb.search.meaning import model as meaning_model

log = logging.getLogger(__name__)


def proxy_hops(value: str | None) -> int:
    """The number of trusted proxies from `KB_PROXY_HOPS`; raises `ValueError` naming the setting when it is not one."""
    text = (value or "0").strip()
    if not text.isdigit() or int(text) > 10:
        raise ValueError(f"KB_PROXY_HOPS must be a whole number of proxies from 0 to 10, not {value!r}")
    return int(text)


def production_app(config: dict[str, Any] | None = None) -> Flask:
    """A kb app for gunicorn: `create_app(config)` over `kb.config.PRODUCTION_DEFAULTS`.

    Client addresses are read through `KB_PROXY_HOPS` proxies.
    """
    app = create_app({**production_defaults(os.environ), **(config or {})})
    warning = divergence_warning(app)
    if warning:
        log.warning(warning)
    hops = proxy_hops(os.environ.get("KB_PROXY_HOPS"))
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    else:
        watch_for_an_undeclared_proxy(app)
    compile_templates(app)
    if app.config["SEARCH_MEANING"]:
        # Loaded in gunicorn's master, the model's pages are shared by every worker it forks.
        meaning_model.preload()
    if app.config["FREEZE_STARTUP_OBJECTS"] and not app.testing:
        freeze_startup_objects()  # Again, with the compiled templates.
    return app


def compile_templates(app: Flask) -> int:
    """Compile every template into the app's Jinja cache now; returns how many.

    gunicorn preloads the app in its master, so workers fork with the templates compiled
    instead of each compiling them on first use (about a second of a worker's CPU, again
    after every `max_requests` restart). Templates are not reloaded from disk in production
    (`auto_reload` is off), and the cache holds 400, more than kb has.
    """
    names = app.jinja_env.list_templates()
    for name in names:
        app.jinja_env.get_template(name)
    return len(names)
