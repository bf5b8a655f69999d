"""A backup archive: one tar file holding the database copy, the documents' bytes and a manifest.

The manifest (`kb-backup.json`, the first member) names the kind of database, its schema
revision and every document file with its size and SHA-256, so a restore can check that
the archive is whole before it touches anything. The database copy is `database.sqlite3`
(SQLite's backup API) or `database.dump` (`pg_dump -Fc`); each document is
`documents/<stored name>`. Members are read only by the names the manifest gives and
written only under names the server chose, so nothing in an archive picks a path.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, inspect, text

from kb.errors import KbError

MANIFEST = "kb-backup.json"
FORMAT = 1
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.dump"}
DOCUMENTS_FOLDER = "documents"
CHUNK = 1024 * 1024
STORED_NAME = re.compile(r"^[0-9a-f]{32}$")


class ArchiveError(KbError):
    """The archive cannot be written, or it is not whole; the message names the file at fault."""


@dataclass(frozen=True)
class StoredFile:
    """One document's bytes as the database describes them."""

    stored_name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """What an archive holds: the database's kind and schema, and every document file."""

    kind: str
    revision: str | None
    documents: tuple[StoredFile, ...]

    def to_json(self) -> bytes:
        """The manifest as the archive stores it."""
        data = {
            "format": FORMAT,
            "database": self.kind,
            "revision": self.revision,
            "documents": [
                {"stored_name": item.stored_name, "size": item.size, "sha256": item.sha256} for item in self.documents
            ],
        }
        return json.dumps(data, indent=1).encode()

    @property
    def total_bytes(self) -> int:
        """The size of every document together."""
        return sum(item.size for item in self.documents)


def document_files(engine: Engine) -> tuple[StoredFile, ...]:
    """Every document file the database names (current versions and history), once each.

    A database at a schema older than documents names none.
    """
    with engine.connect() as connection:
        if not inspect(connection).has_table("documents"):
            return ()
        rows = connection.execute(
            text("SELECT DISTINCT stored_name, size, sha256 FROM documents ORDER BY stored_name")
        ).all()
    return tuple(StoredFile(str(name), int(size), str(digest)) for name, size, digest in rows)


def is_archive(path: Path) -> bool:
    """Whether `path` is a tar file (an archive of this kind, or a damaged one)."""
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


def _member_info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = int(time.time())
    return info


class _HashingReader(io.RawIOBase):
    """Reads a file on, keeping the SHA-256 of what was read."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        """Read up to `size` bytes and add them to the digest."""
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def write_archive(target: IO[bytes], manifest: Manifest, database_file: Path, locate: Callable[[str], Path]) -> None:
    """Write the archive to `target`: the manifest, the database copy, then each document.

    `locate` gives the file of a stored name. Raises `ArchiveError` when a document the
    database names is missing, or its bytes no longer match the size and SHA-256 recorded
    for it.
    """
    with tarfile.open(fileobj=target, mode="w", format=tarfile.PAX_FORMAT) as tar:
        body = manifest.to_json()
        tar.addfile(_member_info(MANIFEST, len(body)), io.BytesIO(body))
        with database_file.open("rb") as handle:
            tar.addfile(_member_info(DATABASE_MEMBERS[manifest.kind], database_file.stat().st_size), handle)
        for item in manifest.documents:
            path = locate(item.stored_name)
            try:
                handle = path.open("rb")
            except FileNotFoundError:
                raise ArchiveError(
                    f"the document file {path} is missing, though the database lists it; "
                    "put it back (from an earlier backup) before backing up"
                ) from None
            with handle:
                size = path.stat().st_size
                if size != item.size:
                    raise ArchiveError(f"the document file {path} has {size} bytes; the database recorded {item.size}")
                reader = _HashingReader(handle)
                tar.addfile(_member_info(f"{DOCUMENTS_FOLDER}/{item.stored_name}", size), reader)
                if reader.digest.hexdigest() != item.sha256:
                    raise ArchiveError(f"the document file {path} changed since it was stored (its SHA-256 differs)")


def _parse_manifest(data: Any, path: Path) -> Manifest:
    try:
        if data["format"] != FORMAT:
            raise ArchiveError(f"{path} is a backup in format {data['format']}, which this version of kb cannot read")
        documents = tuple(
            StoredFile(str(item["stored_name"]), int(item["size"]), str(item["sha256"])) for item in data["documents"]
        )
        kind, revision = str(data["database"]), data["revision"]
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ArchiveError(f"{path} has a damaged manifest ({MANIFEST}): {error}") from error
    if kind not in DATABASE_MEMBERS or not all(STORED_NAME.match(item.stored_name) for item in documents):
        raise ArchiveError(f"{path} has a damaged manifest ({MANIFEST}): a name in it is not one kb writes")
    return Manifest(kind=kind, revision=None if revision is None else str(revision), documents=documents)


def read_manifest(path: Path) -> Manifest:
    """The manifest of the archive at `path`; raises `ArchiveError` when there is none or it cannot be read."""
    try:
        with tarfile.open(path, mode="r:") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            data = json.loads(member.read())
    except KeyError:
        raise ArchiveError(f"{path} is a tar file but not a kb backup: it has no {MANIFEST}") from None
    except (tarfile.TarError, OSError, ValueError) as error:
        raise ArchiveError(f"{path} cannot be read as a kb backup: {error}") from error
    return _parse_manifest(data, path)


def _copy_member(tar: tarfile.TarFile, name: str, destination: Path, path: Path) -> str:
    """Copy member `name` to `destination`; returns the SHA-256 of its bytes."""
    try:
        source = tar.extractfile(name)
    except KeyError:
        source = None
    if source is None:
        raise ArchiveError(f"{path} is not whole: {name}, which its manifest lists, is missing from it")
    digest = hashlib.sha256()
    with source, destination.open("wb") as handle:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            handle.write(chunk)
    return digest.hexdigest()


def unpack(path: Path, manifest: Manifest, staging: Path) -> Path:
    """Copy the database and every document out of the archive into `staging`, checking each document.

    Returns the database copy's file; the documents are `staging/<stored name>`. Raises
    `ArchiveError` when a member is missing or a document's bytes do not match the manifest.
    """
    database = staging / DATABASE_MEMBERS[manifest.kind]
    try:
        with tarfile.open(path, mode="r:") as tar:
            _copy_member(tar, DATABASE_MEMBERS[manifest.kind], database, path)
            for item in manifest.documents:
                name = f"{DOCUMENTS_FOLDER}/{item.stored_name}"
                staged = staging / item.stored_name
                if _copy_member(tar, name, staged, path) != item.sha256 or staged.stat().st_size != item.size:
                    raise ArchiveError(f"{path} is damaged: {name} does not match its size and SHA-256 in the manifest")
    except (tarfile.TarError, EOFError) as error:
        raise ArchiveError(f"{path} is damaged: {error}") from error
    return database


def place_documents(staging: Path, manifest: Manifest, locate: Callable[[str], Path]) -> None:
    """Move each unpacked document from `staging` to its place in the documents folder."""
    for item in manifest.documents:
        destination = locate(item.stored_name)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(staging / item.stored_name, destination)
