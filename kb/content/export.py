"""Export the database as a folder of content files: the taxonomy, each entry's current document and its documents.

An export followed by an import changes nothing. It can be limited to what one viewer
may see (`visible_to`); such an export is a reader's copy, not an archive, and need not
import on its own, since its entries may link to entries it leaves out.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from kb.content.attachments import current_documents, document_with_attachments, export_attachments
from kb.content.document import parse_document
from kb.content.service import TAXONOMY_FILE
from kb.content.taxonomy import serialise_taxonomy
from kb.entries.models import Entry, Revision
from kb.entries.service import current_revisions
from kb.entries.vocabulary import KIND_PLURALS
from kb.extensions import db
from kb.permissions import Viewer, visible_entries
from kb.states import EntryStatus
from kb.taxonomy.regions import region_specs
from kb.taxonomy.service import taxonomy_specs


def _replaced_slugs(revisions: dict[int, Revision]) -> set[str]:
    """Slugs some entry's current document replaces: their entries live on as its `replaces:` line."""
    replaced: set[str] = set()
    for revision in revisions.values():
        if "\nreplaces:" in revision.document:
            parsed = parse_document(revision.document, "export").document
            replaced.update(parsed.replaces if parsed is not None else [])
    return replaced


def export_directory(directory: Path, *, visible_to: Viewer | None = None) -> int:
    """Write the taxonomy and each entry's current document below `directory`; returns how many.

    Each entry's current documents are written beside its file (`kb.content.attachments`),
    and its `attachments:` list names them.

    With `visible_to` only the entries that viewer may see are written (the same rule as
    every page, `permissions.visible_entries`); without it, every entry is, for an
    operator's archive. The taxonomy is always written whole: themes are not restricted.
    Raises `MissingDocumentError` when a document's file is gone from `DOCUMENTS_DIR`.
    """
    specs, regions = taxonomy_specs(), region_specs()
    directory.mkdir(parents=True, exist_ok=True)
    if specs or regions:
        (directory / TAXONOMY_FILE).write_text(serialise_taxonomy(specs, regions), encoding="utf-8")
    revisions = current_revisions()
    replaced = _replaced_slugs(revisions)
    attached = current_documents()
    count = 0
    query = select(Entry).order_by(Entry.kind, Entry.slug)
    if visible_to is not None:
        query = query.where(visible_entries(visible_to))
    for entry in db.session.scalars(query):
        if entry.id not in revisions or (entry.slug in replaced and entry.status == EntryStatus.MERGED):
            # A merged slug lives on as its replacement's `replaces:` line; one whose merge was
            # refused (its comments had fewer readers) is still an entry and keeps its file.
            continue
        folder = directory / KIND_PLURALS[entry.kind]
        folder.mkdir(exist_ok=True)
        files = attached.get(entry.id, [])
        text = document_with_attachments(revisions[entry.id].document, entry, files)
        (folder / f"{entry.slug}.md").write_text(text, encoding="utf-8")
        export_attachments(folder, entry, files)
        count += 1
    return count
