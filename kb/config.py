"""Settings: safe defaults for the embedded set-up, each overridable from the environment.

| variable           | default                                   |
|--------------------|-------------------------------------------|
| `DATABASE_URL`     | SQLite file `instance/kb.sqlite3`; or PostgreSQL, `postgresql://user:password@host/kb` |
| `SEARCH_INDEX_DIR` | `search_index/`                           |
| `CONTENT_DIR`      | `content/`                                |
| `DOCUMENTS_DIR`    | `instance/documents/`: the bytes of attached documents (docs/deployment.md) |
| `DOCUMENT_MAX_MB`  | `25`: the largest document a person may attach |
| `DOCUMENT_EXTRACT_SECONDS`, `DOCUMENT_EXTRACT_MEMORY_MB` | `20`, `768`: limits of reading a document's text |
| `SECRET_KEY`       | generated once into `instance/secret_key` |
| `KB_AUTO_MIGRATE`  | `1`: upgrade the database at start        |
| `KB_ENV`           | `development`; `production` turns on HSTS and secure cookies, and refuses demo mode |
| `KB_DEMO`          | `0`; `1` adds one demo account per role and a banner saying so |
| `SITE_URL`         | `http://FLASK_RUN_HOST:FLASK_RUN_PORT` (`make run` sets both), else `http://127.0.0.1:5000` |
| `MAIL_BACKEND`     | `console` (print mail), or `smtp` (the default when `SMTP_HOST` is set) |
| `SMTP_HOST`, `SMTP_PORT` | the mail server (port `587`)            |
| `SMTP_TLS`         | `starttls` (default), `ssl` or `none`     |
| `SMTP_CA_FILE`     | a CA bundle to trust, for a server with a private certificate |
| `SMTP_USERNAME`, `SMTP_PASSWORD` | credentials, when the server needs them |
| `MAIL_FROM`        | `kb <kb@localhost>`                       |
| `SEARCH_BACKEND`   | `whoosh`; `postgresql` with more than one host (`kb.search.backend`) |
| `SEARCH_ONE_HOST`  | `0`; `1` says one host serves the PostgreSQL database, so Whoosh is right |
| `SEARCH_MEANING`   | `1`: search by meaning as well as words (`kb.search.meaning`); `0` turns it off |
| `COMPRESS_STATIC`  | `1`: static files go gzip or brotli compressed; `0` when a proxy compresses |
| `MAIL_REQUEST_SECONDS` | `5`: seconds a request may spend sending mail after its commit |
| `RATELIMIT_STORAGE_URI` | `memory://`; `database` under gunicorn (`PRODUCTION_DEFAULTS`); or `redis://...` |
| `SESSION_IDLE_MINUTES`, `SESSION_ABSOLUTE_HOURS`, `REMEMBER_DAYS` | `60`, `12`, `14` |
| `LOGIN_FREE_FAILURES`, `LOGIN_FIRST_DELAY_SECONDS`, `LOGIN_MAX_DELAY_SECONDS` | `5`, `30`, `900` (docs/accounts.md) |
| `LOGIN_FAILURE_WINDOW_MINUTES`, `LOGIN_ACCOUNT_FAILURES` | `60`, `100` |
| `OIDC_DISCOVERY_URL` | unset: no single sign-on; else the provider's `/.well-known/openid-configuration` |
| `OIDC_CLIENT_ID`, `OIDC_CLIENT_SECRET` | kb's client at the provider (the secret only ever from the environment) |
| `OIDC_BUTTON_LABEL` | `Sign in with your organisation's account` |
| `OIDC_DOMAINS`     | allowed email domains and their organisations: `nhs.net=NHS England;trust.nhs.uk=Example Trust` |
| `OIDC_ROLES_CLAIM`, `OIDC_ROLE_VALUES` | unset; e.g. `roles` and `kb-moderators=moderator;kb-admins=admin` |
| `OIDC_EMAIL_VERIFIED_CLAIM`, `OIDC_SCOPES` | `email_verified`, `openid email profile` |
| `LOCAL_PASSWORDS`  | `on`; `off` leaves single sign-on as the only way in |
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kb.errors import KbError
from kb.states import Role

PROJECT_ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_DEFAULTS: dict[str, str] = {
    # Several workers must count sign-in and posting attempts together: in memory each would count alone.
    "RATELIMIT_STORAGE_URI": "database",
}
"""Defaults that differ when kb is served by gunicorn (`kb.wsgi.production_app`); the environment still wins."""
DOCUMENT_EXTRACT_SECONDS_DEFAULT = 20.0
EXTRACT_MARGIN_SECONDS = 5
"""Seconds an upload keeps, past reading its document's text, for the rest of its work before the request's timeout."""


def _secret_key(instance_dir: Path) -> str:
    """The secret key from the environment, else one generated once and kept on disk."""
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    key_file = instance_dir / "secret_key"
    if not key_file.exists():
        instance_dir.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


class ConfigurationError(KbError, RuntimeError):
    """Raised at start when settings are unsafe or contradictory; the message says which."""


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


WILDCARD_HOSTS = frozenset({"0.0.0.0", "::"})  # noqa: S104 (compared with, never bound to)
"""Addresses a server listens on but a browser cannot open: links name this machine instead."""


def development_site_url(env: Mapping[str, str]) -> str:
    """The address `flask run` serves on, from `FLASK_RUN_HOST` and `FLASK_RUN_PORT` (`make run` sets both).

    The default for `SITE_URL`, so that mailed and exported links in development use the
    port the site is really on. A wildcard host becomes 127.0.0.1.
    """
    host = env.get("FLASK_RUN_HOST") or "127.0.0.1"
    host = "127.0.0.1" if host in WILDCARD_HOSTS else host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{env.get('FLASK_RUN_PORT') or 5000}"


def _account_settings(env: dict[str, str]) -> dict[str, Any]:
    """Sign-in, session, mail and rate-limit settings."""
    site_url = (env.get("SITE_URL") or development_site_url(env)).rstrip("/")
    absolute = dt.timedelta(hours=int(env.get("SESSION_ABSOLUTE_HOURS") or 12))
    remember = dt.timedelta(days=int(env.get("REMEMBER_DAYS") or 14))
    return {
        "KB_ENV": env.get("KB_ENV") or "development",
        "DEMO_MODE": _flag(env.get("KB_DEMO")),
        "SITE_URL": site_url,
        "MAIL_BACKEND": env.get("MAIL_BACKEND") or ("smtp" if env.get("SMTP_HOST") else "console"),
        "SMTP_HOST": env.get("SMTP_HOST") or "localhost",
        "SMTP_PORT": int(env.get("SMTP_PORT") or 587),
        "SMTP_TLS": env.get("SMTP_TLS") or "starttls",
        "SMTP_CA_FILE": env.get("SMTP_CA_FILE"),
        "SMTP_USERNAME": env.get("SMTP_USERNAME"),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD"),
        "SMTP_TIMEOUT": 10,
        # A request starts no more mail after this many seconds of sending (its own first, then
        # due mail left by earlier failures); the rest waits for `mail send-pending` or a later request.
        "MAIL_REQUEST_SECONDS": float(env.get("MAIL_REQUEST_SECONDS") or 5),
        "MAIL_FROM": env.get("MAIL_FROM") or "kb <kb@localhost>",
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI") or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_LIMIT_PER_ADDRESS": env.get("LOGIN_LIMIT_PER_ADDRESS") or "30 per 10 minutes",
        "LOGIN_LIMIT_PER_ACCOUNT": env.get("LOGIN_LIMIT_PER_ACCOUNT") or "6 per 10 minutes",
        # Wrong passwords (kb/users/throttle.py): free failures per account and address, then a
        # wait that doubles from the first delay up to the longest; how long failures are
        # remembered; failures per account from unknown browsers before only known ones may sign in.
        "LOGIN_FREE_FAILURES": int(env.get("LOGIN_FREE_FAILURES") or 5),
        "LOGIN_FIRST_DELAY_SECONDS": int(env.get("LOGIN_FIRST_DELAY_SECONDS") or 30),
        "LOGIN_MAX_DELAY_SECONDS": int(env.get("LOGIN_MAX_DELAY_SECONDS") or 900),
        "LOGIN_FAILURE_WINDOW_MINUTES": int(env.get("LOGIN_FAILURE_WINDOW_MINUTES") or 60),
        "LOGIN_ACCOUNT_FAILURES": int(env.get("LOGIN_ACCOUNT_FAILURES") or 100),
        "SESSION_IDLE": dt.timedelta(minutes=int(env.get("SESSION_IDLE_MINUTES") or 60)),
        "PERMANENT_SESSION_LIFETIME": absolute,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": remember,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # A long form may take a while to write; the token lasts as long as a session can.
        "WTF_CSRF_TIME_LIMIT": int(absolute.total_seconds()),
        # No form needs more; a larger body is refused before it is read.
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "MAX_FORM_MEMORY_SIZE": 2 * 1024 * 1024,
        "INVITE_MAX_AGE": dt.timedelta(days=7),
        "RESET_MAX_AGE": dt.timedelta(hours=1),
    }


def parse_pairs(text: str, setting: str) -> dict[str, str]:
    """`key=value;key=value` as a dict (keys lower case, both trimmed); raises `ConfigurationError` naming `setting`."""
    pairs: dict[str, str] = {}
    for part in filter(None, (piece.strip() for piece in text.split(";"))):
        key, equals, value = part.partition("=")
        if not equals or not key.strip():
            raise ConfigurationError(f"{setting}: {part!r} is not of the form name=value (pairs separated by ';')")
        pairs[key.strip().lower()] = value.strip()
    return pairs


def _sso_settings(env: dict[str, str]) -> dict[str, Any]:
    """Single sign-on with an OpenID provider (`kb.users.sso`) and whether local passwords still work."""
    local = (env.get("LOCAL_PASSWORDS") or "on").strip().lower()
    if local not in {"on", "off", "1", "0", "true", "false", "yes", "no"}:
        raise ConfigurationError(f"LOCAL_PASSWORDS must be 'on' or 'off', not {local!r}")
    return {
        "OIDC_DISCOVERY_URL": (env.get("OIDC_DISCOVERY_URL") or "").strip(),
        "OIDC_CLIENT_ID": env.get("OIDC_CLIENT_ID") or "",
        "OIDC_CLIENT_SECRET": env.get("OIDC_CLIENT_SECRET") or "",
        "OIDC_BUTTON_LABEL": env.get("OIDC_BUTTON_LABEL") or "Sign in with your organisation's account",
        "OIDC_DOMAINS": parse_pairs(env.get("OIDC_DOMAINS") or "", "OIDC_DOMAINS"),
        "OIDC_ROLES_CLAIM": (env.get("OIDC_ROLES_CLAIM") or "").strip(),
        "OIDC_ROLE_VALUES": parse_pairs(env.get("OIDC_ROLE_VALUES") or "", "OIDC_ROLE_VALUES"),
        "OIDC_EMAIL_VERIFIED_CLAIM": (env.get("OIDC_EMAIL_VERIFIED_CLAIM") or "email_verified").strip(),
        "OIDC_SCOPES": env.get("OIDC_SCOPES") or "openid email profile",
        "LOCAL_PASSWORDS": _flag(local),
    }


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name, not an address: only "localhost" is known to stay on this machine
        return False


def check_sso_settings(settings: dict[str, Any]) -> None:
    """Refuse single sign-on settings that cannot work or are unsafe; raises `ConfigurationError`."""
    url = settings["OIDC_DISCOVERY_URL"]
    if not url:
        if not settings["LOCAL_PASSWORDS"]:
            raise ConfigurationError("LOCAL_PASSWORDS cannot be off without single sign-on (set OIDC_DISCOVERY_URL)")
        return
    if not url.startswith("https://") and not (url.startswith("http://") and _loopback(url)):
        raise ConfigurationError("OIDC_DISCOVERY_URL must start with https:// (http:// only on loopback, for tests)")
    if settings["KB_ENV"] == "production" and not url.startswith("https://"):
        raise ConfigurationError("OIDC_DISCOVERY_URL must start with https:// when KB_ENV is 'production'")
    for name in ("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_DOMAINS"):
        if not settings[name]:
            raise ConfigurationError(f"{name} must be set when OIDC_DISCOVERY_URL is")
    wrong = sorted(set(settings["OIDC_ROLE_VALUES"].values()) - set(Role))
    if wrong:
        raise ConfigurationError(f"OIDC_ROLE_VALUES: {', '.join(wrong)} is not a role ({', '.join(Role)})")


def check_settings(settings: dict[str, Any]) -> None:
    """Refuse unsafe combinations; raises `ConfigurationError` naming the setting at fault."""
    if settings["KB_ENV"] not in {"development", "production"}:
        raise ConfigurationError(f"KB_ENV must be 'development' or 'production', not {settings['KB_ENV']!r}")
    check_sso_settings(settings)
    if settings["KB_ENV"] != "production":
        return
    if settings["DEMO_MODE"]:
        raise ConfigurationError(
            "KB_DEMO cannot be on when KB_ENV is 'production': anyone could sign in as a demo admin without a password"
        )
    if not settings["SITE_URL"].startswith("https://"):
        raise ConfigurationError("SITE_URL must start with https:// when KB_ENV is 'production'")
    if settings["MAIL_BACKEND"] != "smtp":
        raise ConfigurationError("MAIL_BACKEND must be 'smtp' when KB_ENV is 'production' (set SMTP_HOST)")


def database_uri(url: str) -> str:
    """The SQLAlchemy URL for `url`: PostgreSQL addresses (`postgres://`, `postgresql://`) use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def engine_options(uri: str) -> dict[str, Any]:
    """Connection pool settings: a server database is checked before each use, so a restart is survived."""
    if uri.startswith("sqlite"):
        return {}
    options: dict[str, Any] = {"pool_pre_ping": True, "pool_recycle": 1800}
    if "connect_timeout" not in uri:
        # A database host that does not answer fails the request in seconds with a 503 page,
        # instead of holding the worker until gunicorn's timeout kills it.
        options["connect_args"] = {"connect_timeout": 5}
    return options


def document_extract_seconds(environ: Mapping[str, str]) -> float:
    """`DOCUMENT_EXTRACT_SECONDS` from `environ`: how long reading one document's text may take (default 20)."""
    return float(environ.get("DOCUMENT_EXTRACT_SECONDS") or DOCUMENT_EXTRACT_SECONDS_DEFAULT)


def extraction_outlasts_timeout(extract_seconds: float, request_timeout: float) -> str | None:
    """Why these settings cannot serve uploads, or None: reading a document must end well before the request's timeout.

    An upload reads its document's text while the request waits; a worker still waiting at
    gunicorn's timeout is killed, and the person sees the proxy's error instead of kb's message.
    """
    if extract_seconds + EXTRACT_MARGIN_SECONDS <= request_timeout:
        return None
    highest = request_timeout - EXTRACT_MARGIN_SECONDS
    return (
        f"DOCUMENT_EXTRACT_SECONDS is {extract_seconds:g} but KB_TIMEOUT is {request_timeout:g}: reading a "
        f"document's text must end at least {EXTRACT_MARGIN_SECONDS} seconds before a request's timeout, or a slow "
        f"upload gets its worker killed. Lower DOCUMENT_EXTRACT_SECONDS to {highest:g} "
        "or less, or raise KB_TIMEOUT (and the proxy's read timeout with it)."
    )


def production_defaults(environ: Mapping[str, str]) -> dict[str, str]:
    """The `PRODUCTION_DEFAULTS` the environment does not set itself."""
    return {name: value for name, value in PRODUCTION_DEFAULTS.items() if not environ.get(name)}


def load_settings(instance_dir: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the app's settings: defaults, then environment, then explicit overrides."""
    overrides = overrides or {}
    env = os.environ.get
    settings: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": env("DATABASE_URL") or f"sqlite:///{instance_dir / 'kb.sqlite3'}",
        "SEARCH_INDEX_DIR": env("SEARCH_INDEX_DIR") or str(PROJECT_ROOT / "search_index"),
        "CONTENT_DIR": env("CONTENT_DIR") or str(PROJECT_ROOT / "content"),
        "DOCUMENTS_DIR": env("DOCUMENTS_DIR") or str(instance_dir / "documents"),
        "DOCUMENT_MAX_BYTES": int(float(env("DOCUMENT_MAX_MB") or 25) * 1024 * 1024),
        "DOCUMENT_EXTRACT_SECONDS": document_extract_seconds(os.environ),
        "DOCUMENT_EXTRACT_MEMORY_MB": int(env("DOCUMENT_EXTRACT_MEMORY_MB") or 768),
        "NHSUK_FRONTEND_DIR": env("NHSUK_FRONTEND_DIR")
        or str(PROJECT_ROOT / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"),
        "AUTO_MIGRATE": env("KB_AUTO_MIGRATE", "1") != "0",
        "ENTRIES_PER_PAGE": 20,
        "RESULTS_PER_PAGE": 10,
        # How long a save waits for another process to finish writing the index before it
        # leaves its change queued for the next writer.
        "SEARCH_LOCK_TIMEOUT": float(env("SEARCH_LOCK_TIMEOUT", "10")),
        # A missing or damaged index is rebuilt from the database: "background" (the site
        # keeps serving and the search page says so), "inline" (before serving) or "off".
        "SEARCH_REBUILD_AT_START": env("SEARCH_REBUILD_AT_START", "background"),
        # Search by meaning as well as by words (kb.search.meaning); "0" turns it off.
        "SEARCH_MEANING": env("SEARCH_MEANING", "1").strip().lower() not in {"0", "false", "no", "off"},
        "COMPRESS_STATIC": env("COMPRESS_STATIC", "1").strip().lower() not in {"0", "false", "no", "off"},
        # Entry pages remember their similar entries (ids only, read back through the visibility
        # rule) for this many seconds per worker, at most this many lists; 0 seconds turns it off.
        "RELATED_CACHE_SECONDS": float(env("RELATED_CACHE_SECONDS", "300")),
        "RELATED_CACHE_SIZE": int(env("RELATED_CACHE_SIZE", "4096")),
        # Discussion: posting limits per signed-in user and per address, and the size of a thread.
        "COMMENT_LIMIT_PER_USER": env("COMMENT_LIMIT_PER_USER") or "10 per minute",
        "COMMENT_LIMIT_PER_ADDRESS": env("COMMENT_LIMIT_PER_ADDRESS") or "30 per minute",
        "COMMENT_MAX_CHARS": int(env("COMMENT_MAX_CHARS") or 10_000),
        "COMMENT_MAX_DEPTH": int(env("COMMENT_MAX_DEPTH") or 50),
        # Drafts kept for signed-out posters, per client address; the oldest go first.
        "COMMENT_DRAFTS_PER_ADDRESS": int(env("COMMENT_DRAFTS_PER_ADDRESS") or 20),
        # Drafts of long forms: per account, per client address for those posted signed out, and their size.
        "FORM_DRAFTS_PER_USER": int(env("FORM_DRAFTS_PER_USER") or 50),
        "FORM_DRAFTS_PER_ADDRESS": int(env("FORM_DRAFTS_PER_ADDRESS") or 20),
        "FORM_DRAFT_MAX_CHARS": int(env("FORM_DRAFT_MAX_CHARS") or 500_000),
        # Flags one signed-in member may raise: each item once, and no more than this many in all.
        "FLAG_LIMIT_PER_USER": env("FLAG_LIMIT_PER_USER") or "20 per hour",
        # Live previews one signed-in person may ask for while typing (one per pause).
        "PREVIEW_LIMIT_PER_USER": env("PREVIEW_LIMIT_PER_USER") or "120 per minute",
        # A review's report as a PDF or Word file, per client address; and published PDFs kept per worker.
        "REPORT_DOWNLOAD_LIMIT_PER_ADDRESS": env("REPORT_DOWNLOAD_LIMIT_PER_ADDRESS") or "20 per minute",
        "REPORT_PDF_CACHE_SIZE": int(env("REPORT_PDF_CACHE_SIZE") or 16),
        # Requests to the JSON API per token (or per address when anonymous); docs/api.md.
        "API_LIMIT": env("API_LIMIT") or "300 per minute",
        # Move the objects made at start-up out of the garbage collector's way once the app
        # is built, so large pages do not pay for scanning them again (not in tests, which
        # build many apps in one process).
        "FREEZE_STARTUP_OBJECTS": env("KB_FREEZE_STARTUP_OBJECTS", "1") != "0",
        "SITE_NAME": "kb",
        "SITE_TAGLINE": "Lessons learned and consultation",
    }
    settings.update(_account_settings(dict(os.environ)))
    settings.update(_sso_settings(dict(os.environ)))
    settings.update(overrides)
    settings["SQLALCHEMY_DATABASE_URI"] = database_uri(settings["SQLALCHEMY_DATABASE_URI"])
    settings.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(settings["SQLALCHEMY_DATABASE_URI"]))
    settings["SITE_URL"] = settings["SITE_URL"].rstrip("/")
    secure = settings["SITE_URL"].startswith("https://")
    settings.setdefault("SESSION_COOKIE_SECURE", secure)
    settings.setdefault("REMEMBER_COOKIE_SECURE", secure)
    check_settings(settings)
    if "SECRET_KEY" not in settings and settings["KB_ENV"] == "production" and not env("SECRET_KEY"):
        raise ConfigurationError("SECRET_KEY must be set when KB_ENV is 'production', the same on every host")
    if "SECRET_KEY" not in settings:
        settings["SECRET_KEY"] = _secret_key(instance_dir)
    return settings
