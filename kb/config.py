"""Settings: safe defaults for the embedded set-up, each overridable from the environment.

| variable           | default                                   |
|--------------------|-------------------------------------------|
| `DATABASE_URL`     | SQLite file `instance/kb.sqlite3`         |
| `SEARCH_INDEX_DIR` | `search_index/`                           |
| `CONTENT_DIR`      | `content/`                                |
| `SECRET_KEY`       | generated once into `instance/secret_key` |
| `KB_AUTO_MIGRATE`  | `1`: upgrade the database at start        |
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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


def load_settings(instance_dir: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the app's settings: defaults, then environment, then explicit overrides."""
    overrides = overrides or {}
    env = os.environ.get
    settings: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": env("DATABASE_URL") or f"sqlite:///{instance_dir / 'kb.sqlite3'}",
        "SEARCH_INDEX_DIR": env("SEARCH_INDEX_DIR") or str(PROJECT_ROOT / "search_index"),
        "CONTENT_DIR": env("CONTENT_DIR") or str(PROJECT_ROOT / "content"),
        "NHSUK_FRONTEND_DIR": env("NHSUK_FRONTEND_DIR")
        or str(PROJECT_ROOT / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"),
        "AUTO_MIGRATE": env("KB_AUTO_MIGRATE", "1") != "0",
        "ENTRIES_PER_PAGE": 20,
        "SITE_NAME": "kb",
        "SITE_TAGLINE": "Lessons learned and consultation",
    }
    settings.update(overrides)
    if "SECRET_KEY" not in settings:
        settings["SECRET_KEY"] = _secret_key(instance_dir)
    return settings
