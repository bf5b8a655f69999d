"""The documents a content file lists under `attachments:`: attached on import, written back on export.

A content file `papers/p.md` lists its files as `p/<name>`, read from beside it
(`papers/p/<name>`). On import each listed file is compared with the entry's current
document of that name by SHA-256: the same bytes change nothing (a new title or place in
the list is taken over), other bytes replace it (the old version stays in the entry's
history), and a current document the list no longer names is removed. A file is matched
by the name kb keeps it under (`kb.documents.service.listed_filename`: `x.PDF` is kept as
`x.pdf`), and a listed name that differs from it is reported. A file that is
missing or refused is reported with its path and line; the entry, its other files and the
document it already had under that name are kept. Export writes each current document's
bytes to the same place and the list from the entry's current documents.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from kb.content.document import parse_document, serialise_document
from kb.content.fields import AttachmentRef, Problem
from kb.documents.models import Document
from kb.documents.service import attach_document, listed_filename, remove_document
from kb.documents.sniff import sniff
from kb.documents.storage import path_of, read_bytes
from kb.entries.models import Entry
from kb.errors import InvalidInputError, KbError
from kb.extensions import db


class MissingDocumentError(KbError):
    """A document the database lists has no file under `DOCUMENTS_DIR`; the message names both."""


@dataclass
class AttachmentReport:
    """What an import did to documents: file paths as given, and what went wrong."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        """E.g. `documents: 2 added, 1 replaced, 0 removed`; empty when nothing changed."""
        if not (self.added or self.replaced or self.removed):
            return ""
        return f"documents: {len(self.added)} added, {len(self.replaced)} replaced, {len(self.removed)} removed"


def current_documents(entry_ids: list[int] | None = None) -> dict[int, list[Document]]:
    """The current documents of each entry (of those in `entry_ids`, or all), in list order."""
    query = (
        select(Document)
        .where(Document.replaced_by_id.is_(None), Document.removed_at.is_(None))
        .order_by(Document.entry_id, Document.position, Document.id)
    )
    if entry_ids is not None:
        query = query.where(Document.entry_id.in_(entry_ids))
    grouped: dict[int, list[Document]] = {}
    for document in db.session.scalars(query):
        grouped.setdefault(document.entry_id, []).append(document)
    return grouped


def _line_of(text: str, ref: AttachmentRef) -> int:
    """The line of the list item naming `ref.file`, or 1."""
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.strip().lstrip("-").strip()
        if stripped.startswith("file:") and ref.file in stripped:
            return number
    return 1


def sync_attachments(
    entry: Entry,
    refs: list[AttachmentRef],
    *,
    content_path: Path,
    shown_path: str,
    text: str,
    report: AttachmentReport,
) -> None:
    """Make `entry`'s current documents the files `refs` lists beside `content_path`; flushes.

    Problems are added to `report` as `shown_path:line: message`; nothing is raised for a
    missing or refused file.
    """
    current = {document.filename: document for document in current_documents([entry.id]).get(entry.id, [])}
    listed = {ref.filename for ref in refs}
    for position, ref in enumerate(refs):
        path = content_path.parent / ref.file
        line = _line_of(text, ref)
        try:
            data = path.read_bytes()
        except OSError as error:
            reason = "no such file" if isinstance(error, FileNotFoundError) else error.strerror or str(error)
            report.problems.append(Problem(shown_path, line, f"attachment '{ref.file}': {reason}: {path}"))
            continue
        try:
            name = listed_filename(ref.filename, sniff(data, ref.filename))
            existing = current.get(name)
            listed.add(name)
            if name != ref.filename:
                message = (
                    f"attachment '{ref.file}' is kept as '{name}', the name kb gives a file of its kind: "
                    f"rename {path} and this line to match, as an export will list it"
                )
                report.problems.append(Problem(shown_path, line, message))
            if existing is not None and existing.sha256 == hashlib.sha256(data).hexdigest():
                existing.title, existing.position = ref.title, position
                continue
            document = attach_document(
                entry, data, filename=ref.filename, title=ref.title, actor=None, replaces=existing
            )
        except InvalidInputError as error:
            message = f"attachment '{ref.file}' ({path}) was not attached: {error}"
            report.problems.append(Problem(shown_path, line, message))
            continue
        document.position = position
        (report.replaced if existing is not None else report.added).append(str(path))
    for filename, document in current.items():
        if filename not in listed:
            remove_document(document, actor=None)
            report.removed.append(str(content_path.parent / entry.slug / filename))
    db.session.flush()


def attachment_refs(entry: Entry, documents: list[Document]) -> list[AttachmentRef]:
    """The `attachments:` list of an entry with these current documents."""
    return [AttachmentRef(f"{entry.slug}/{document.filename}", document.title) for document in documents]


def document_with_attachments(stored: str, entry: Entry, documents: list[Document]) -> str:
    """The entry's stored document with its `attachments:` list made to name `documents`.

    The stored text is returned as it is when it already names them, so an export of an
    entry whose list is up to date is its stored document byte for byte.
    """
    refs = attachment_refs(entry, documents)
    if not refs and "\nattachments:" not in stored:
        return stored
    parsed = parse_document(stored, "export").document
    if parsed is None or parsed.attachments == refs:
        return stored
    parsed.attachments = refs
    return serialise_document(parsed)


def export_attachments(folder: Path, entry: Entry, documents: list[Document]) -> None:
    """Write the bytes of `documents` to `folder/<slug>/<filename>`, beside the entry's content file.

    Raises MissingDocumentError when a document's file is gone from `DOCUMENTS_DIR`.
    """
    if not documents:
        return
    target = folder / entry.slug
    target.mkdir(parents=True, exist_ok=True)
    for document in documents:
        try:
            data = read_bytes(document.stored_name)
        except FileNotFoundError:
            raise MissingDocumentError(
                f"{entry.slug}/{document.filename} has no file at {path_of(document.stored_name)}: "
                "put it back (from a backup) and export again"
            ) from None
        (target / document.filename).write_bytes(data)
