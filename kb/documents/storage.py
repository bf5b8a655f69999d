"""Where the bytes of documents live: files under `DOCUMENTS_DIR`, named by the server.

A stored name is random, so nothing a person typed or uploaded ever becomes part of a
path. Files are written to a temporary name and renamed into place, so a reader never sees
half a file, and are never changed once written (a new version is a new file).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import current_app

STORED_NAME_BYTES = 16


def documents_dir() -> Path:
    """The folder holding every document's bytes (setting `DOCUMENTS_DIR`)."""
    return Path(current_app.config["DOCUMENTS_DIR"])


def path_of(stored_name: str) -> Path:
    """The file of a stored name: two levels of folders by its first characters keep folders small.

    Raises ValueError for a name the server could not have chosen.
    """
    if len(stored_name) != 2 * STORED_NAME_BYTES or not all(c in "0123456789abcdef" for c in stored_name):
        raise ValueError(f"not a stored document name: {stored_name!r}")
    return documents_dir() / stored_name[:2] / stored_name[2:4] / stored_name


def store_bytes(data: bytes) -> str:
    """Write `data` under a new random name and return that name."""
    stored_name = secrets.token_hex(STORED_NAME_BYTES)
    path = path_of(stored_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{stored_name}.partial")
    with open(partial, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
    return stored_name


def read_bytes(stored_name: str) -> bytes:
    """The bytes stored under `stored_name`; raises FileNotFoundError when they are gone."""
    return path_of(stored_name).read_bytes()


def delete_bytes(stored_name: str) -> None:
    """Remove the file of `stored_name` if it exists (used when the row that named it was never committed)."""
    path_of(stored_name).unlink(missing_ok=True)
