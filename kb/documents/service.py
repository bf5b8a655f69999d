"""Attaching, replacing and removing the documents of an entry.

`prepare_document` refuses a file that is too large or not a kind kb takes
(`DocumentRefusedError`) and reads its text page by page in a limited process
(`kb.documents.extract`), touching no database, so a route calls it before its transaction
opens. `attach_document` checks the actor may edit the entry, stores the bytes under a
server-chosen name, and adds the `Document` and its `DocumentPage` rows. Replacing points
the old version at the new one; removing stamps the version; neither deletes a row, so the
entry's history keeps every file. Either way the entry is queued for the search index in
the same transaction. Services flush and never commit; bytes written for a transaction that rolls back are deleted.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, SessionTransaction

from kb.audit.service import record_event
from kb.content.fields import ATTACHMENT_FILENAME, ATTACHMENT_FILENAME_MAX
from kb.dates import utcnow
from kb.documents import storage
from kb.documents.errors import DocumentRefusedError
from kb.documents.extract import Extraction, extract_text
from kb.documents.models import Document, DocumentPage
from kb.documents.sniff import FileType, extension_of, sniff
from kb.errors import ConflictError
from kb.extensions import db
from kb.permissions import require
from kb.search.lifecycle import queue_for_indexing
from kb.states import DocumentTextStatus
from kb.text import one_line

if TYPE_CHECKING:
    from kb.entries.models import Entry
    from kb.users.models import User

TITLE_MAX = 300
_STORED = "kb_documents_stored"
"""Session info key: stored names written in the open transaction, deleted again if it rolls back."""
UNSAFE_RUN = re.compile(r"[^A-Za-z0-9_.-]+")


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


def _check_size(data: bytes) -> None:
    limit = int(current_app.config["DOCUMENT_MAX_BYTES"])
    if len(data) > limit:
        raise DocumentRefusedError(
            f"The file is {_megabytes(len(data))} MB; kb takes files of up to {_megabytes(limit)} MB."
        )


def listed_filename(filename: str, file_type: FileType) -> str:
    """The name a file is listed under: the uploaded name made safe (ASCII letters, digits, `-`, `_`, `.`), kb's ending.

    The same rule as the `attachments:` of content files, so every listed name can be exported.
    """
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    extension = extension_of(name)
    stem = name[: -len(extension)] if extension else name
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    safe = re.sub(r"\.{2,}", ".", UNSAFE_RUN.sub("-", ascii_stem)).strip("-._")
    safe = safe[: ATTACHMENT_FILENAME_MAX - len(file_type.extension)].rstrip("-._") or "document"
    listed = f"{safe}{file_type.extension}"
    assert ATTACHMENT_FILENAME.match(listed), listed
    return listed


@dataclass(frozen=True)
class PreparedDocument:
    """A file checked and read, ready for `attach_document`: its bytes, kind, listed name and text."""

    data: bytes
    file_type: FileType
    filename: str
    """The name it is listed under (`listed_filename`)."""
    extraction: Extraction


def prepare_document(data: bytes, filename: str) -> PreparedDocument:
    """Check the file `data`, uploaded as `filename`, and read its text, with no database work (no transaction waits).

    Raises DocumentRefusedError for a file that is empty, too large, of a kind kb does not
    take, or named as another kind or two kinds at once. A file whose text cannot be read is
    not refused: its extraction says why.
    """
    _check_size(data)
    file_type = sniff(data, filename)
    return PreparedDocument(data, file_type, listed_filename(filename, file_type), extract_text(data, file_type))


def free_filename(filename: str, taken: Collection[str]) -> str:
    """`filename`, or when it is among `taken`, the same name with `-2`, `-3`... before its ending.

    `filename` is already a listed name (`listed_filename`); the result keeps to the same rule and length.
    """
    if filename not in taken:
        return filename
    extension = extension_of(filename)
    stem = filename[: -len(extension)] if extension else filename
    for number in itertools.count(2):
        suffix = f"-{number}"
        kept = stem[: ATTACHMENT_FILENAME_MAX - len(extension) - len(suffix)].rstrip("-._") or "document"
        candidate = f"{kept}{suffix}{extension}"
        if candidate not in taken:
            assert ATTACHMENT_FILENAME.match(candidate), candidate
            return candidate
    raise AssertionError("unreachable")


def _clean_title(title: str, filename: str) -> str:
    cleaned = one_line(title)
    if len(cleaned) > TITLE_MAX:
        raise DocumentRefusedError(f"The title is {len(cleaned)} characters long; keep it to {TITLE_MAX}.")
    return cleaned or filename


def _check_name_free(entry: Entry, filename: str, replaces: Document | None) -> None:
    query = select(Document.id).where(
        Document.entry_id == entry.id,
        Document.filename == filename,
        Document.replaced_by_id.is_(None),
        Document.removed_at.is_(None),
    )
    if replaces is not None:
        query = query.where(Document.id != replaces.id)
    if db.session.scalar(query) is not None:
        raise DocumentRefusedError(
            f"This entry already has a file called {filename}. Replace that file, or give this one another name."
        )


def _remember_stored(session: Session, stored_name: str) -> None:
    session.info.setdefault(_STORED, []).append(stored_name)


@event.listens_for(Session, "after_commit")
def _forget_stored(session: Session) -> None:
    session.info.pop(_STORED, None)


@event.listens_for(Session, "after_soft_rollback")
def _delete_stored(session: Session, previous_transaction: SessionTransaction) -> None:
    # Only the outer transaction's end decides; a rolled-back savepoint leaves the outer work in place.
    if previous_transaction.nested:
        return
    for stored_name in session.info.pop(_STORED, []):
        storage.delete_bytes(stored_name)


def _next_position(entry: Entry) -> int:
    query = select(func.max(Document.position)).where(
        Document.entry_id == entry.id, Document.replaced_by_id.is_(None), Document.removed_at.is_(None)
    )
    highest = db.session.scalar(query)
    return 0 if highest is None else highest + 1


def attach_document(
    entry: Entry,
    data: bytes,
    *,
    filename: str,
    title: str,
    actor: User | None,
    replaces: Document | None = None,
    prepared: PreparedDocument | None = None,
) -> Document:
    """Attach the file `data` to `entry` (as a new version of `replaces`, when given) with its text.

    `prepared` is `prepare_document(data, filename)` done beforehand (outside the
    transaction); without it the file is checked and read here. `actor` None is kb itself
    (content import); anyone else needs the right to edit the entry. A file whose text
    cannot be read is still attached, with `text_status` failed or no_text and a message saying why.

    Raises PermissionDeniedError; ConflictError when `replaces` is not a current document
    of `entry`; DocumentRefusedError for a file that is empty, too large, of a kind kb does
    not take, named as another kind or two kinds at once, or a name already listed.
    """
    if actor is not None:
        require(actor, "entry.edit", entry)
    if replaces is not None and (replaces.entry_id != entry.id or not replaces.is_current):
        raise ConflictError(
            "That file has already been replaced or removed; reload the page to see its latest version."
        )
    if prepared is None:
        prepared = prepare_document(data, filename)
    elif prepared.data is not data and prepared.data != data:
        raise ValueError("attach_document was given a prepared document of other bytes than `data`")
    file_type, listed, extraction = prepared.file_type, prepared.filename, prepared.extraction
    _check_name_free(entry, listed, replaces)
    clean_title = _clean_title(title, listed)
    session = db.session()
    if replaces is not None:
        # Out of the current set first: the new version may keep the name, which is unique among current files.
        replaces.replaced_by_id = replaces.id
        session.flush()
    stored_name = storage.store_bytes(data)
    _remember_stored(session, stored_name)
    kept = extraction.pages if extraction.status == DocumentTextStatus.EXTRACTED else []
    document = Document(
        entry=entry,
        filename=listed,
        title=clean_title,
        position=replaces.position if replaces is not None else _next_position(entry),
        media_type=file_type.media_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        stored_name=stored_name,
        text_status=extraction.status,
        text_message=extraction.message,
        page_count=len(extraction.pages) or None,
        uploaded_by_id=actor.id if actor is not None else None,
        pages=[DocumentPage(number=number, text=text) for number, text in enumerate(kept, start=1)],
    )
    session.add(document)
    session.flush()
    if replaces is not None:
        replaces.replaced_by_id = document.id
    session.flush()
    queue_for_indexing(session, {entry.id})
    action = "document.replace" if replaces is not None else "document.attach"
    record_event(action, actor=actor, target=entry, new=f"{listed}: {file_type.label}, {extraction.status.value}")
    return document


def remove_document(document: Document, *, actor: User | None) -> None:
    """Take `document` off its entry; the row and the file stay in the entry's history.

    Raises PermissionDeniedError, or ConflictError when it was already replaced or removed.
    """
    if actor is not None:
        require(actor, "entry.edit", document.entry)
    if not document.is_current:
        raise ConflictError("That file has already been replaced or removed; reload the page to see the entry's files.")
    document.removed_at = utcnow()
    session = db.session()
    session.flush()
    queue_for_indexing(session, {document.entry_id})
    record_event("document.remove", actor=actor, target=document.entry, old=document.filename)
