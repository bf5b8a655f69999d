"""Import a folder of content files into the database (export is `kb.content.export`).

Import upserts by slug and is idempotent: an unchanged file makes no new revision, and a
file whose text has not changed since it was last imported never overwrites later edits.
Every file is checked first; each problem is reported as `path:line: message`, and every
good file is still loaded.

The documents a file lists under `attachments:` are attached, replaced or removed to match
the list (`kb.content.attachments`).

A file's `replaces:` keeps old slugs working: an entry with one of them is merged into the
file's entry (`kb.moderation.curation.carry_out_merge`), and a slug no entry has gets a
merged placeholder, so its address and `[[links]]` lead to the file's entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from kb.content.attachments import (
    AttachmentReport,
    sync_attachments,
)
from kb.content.document import EntryDocument, Reference, parse_document, serialise_document
from kb.content.fields import Problem
from kb.content.taxonomy import parse_regions, parse_taxonomy
from kb.dates import utcnow
from kb.entries.models import Entry
from kb.entries.service import (
    MODEL_BY_KIND,
    apply_document,
    assign_review,
    current_revisions,
    record_revision,
    rerender_entries_linking_to,
)
from kb.entries.targets import link_targets
from kb.extensions import db
from kb.moderation.curation import carry_out_merge
from kb.moderation.service import ModerationError
from kb.states import EntryStatus
from kb.taxonomy.regions import apply_regions, canonical_region, region_choices
from kb.taxonomy.service import apply_taxonomy

TAXONOMY_FILE = "taxonomy.yaml"
IMPORT_AUTHOR = "content import"


@dataclass
class ImportReport:
    """What an import did, file by file."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    documents: AttachmentReport = field(default_factory=AttachmentReport)
    notes: list[Problem] = field(default_factory=list)
    """Things worth a look that did not stop a file loading, e.g. a region not in the list."""

    def summary(self) -> str:
        """One closing line, e.g. `27 files: 3 created, 1 updated, 23 unchanged, 0 failed`.

        When documents were attached, replaced or removed, their counts follow after a `;`.
        """
        total = len(self.created) + len(self.updated) + len(self.unchanged) + len(self.failed)
        files = (
            f"{total} files: {len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.failed)} failed"
        )
        documents = self.documents.summary()
        return f"{files}; {documents}" if documents else files


@dataclass
class _Candidate:
    path: str
    text: str
    document: EntryDocument
    references: list[Reference]
    kind_line: int
    file: Path


def display_path(path: Path) -> str:
    """A path as a person would type it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def content_files(directory: Path) -> list[Path]:
    """Every `*.md` file below `directory`, in a stable order."""
    return sorted(path for path in directory.rglob("*.md") if path.is_file())


def import_taxonomy(directory: Path, report: ImportReport) -> None:
    """Create or update the themes and tags listed in `taxonomy.yaml`, and its regions list, if there is one."""
    path = directory / TAXONOMY_FILE
    if not path.exists():
        return
    text = path.read_text(encoding="utf-8")
    themes, problems = parse_taxonomy(text, display_path(path))
    regions, region_problems = parse_regions(text, display_path(path))
    report.problems.extend([*problems, *region_problems])
    apply_taxonomy(themes)
    if regions:
        apply_regions(regions)


def _check_regions(candidates: list[_Candidate], report: ImportReport) -> None:
    """Write a listed region's other spellings as the list does; note a region the list lacks (kept as written)."""
    if not region_choices():
        return
    for candidate in candidates:
        written = candidate.document.region
        if not written:
            continue
        listed = canonical_region(written)
        line = next((n for n, text in enumerate(candidate.text.split("\n"), 1) if text.startswith("region:")), 1)
        if listed is None:
            message = f"region '{written}' is not in the regions list ({TAXONOMY_FILE}); it is kept as written"
            report.notes.append(Problem(candidate.path, line, message))
        elif listed != written:
            candidate.document.region = listed
            report.notes.append(Problem(candidate.path, line, f"region '{written}' is stored as '{listed}'"))


def _read_candidates(files: list[Path], report: ImportReport, on_file: Callable[[Path], None]) -> list[_Candidate]:
    candidates = []
    for path in files:
        on_file(path)
        shown = display_path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            report.problems.append(Problem(shown, 1, f"not UTF-8 text ({error.reason})"))
            report.failed.append(shown)
            continue
        result = parse_document(text, shown, default_slug=path.stem)
        report.problems.extend(result.problems)
        if result.document is None:
            report.failed.append(shown)
            continue
        kind_line = next((n for n, line in enumerate(text.split("\n"), 1) if line.startswith("kind:")), 1)
        candidates.append(_Candidate(shown, text, result.document, result.references, kind_line, path))
    return candidates


def _reject(candidate: _Candidate, line: int, message: str, report: ImportReport) -> None:
    report.problems.append(Problem(candidate.path, line, message))
    report.failed.append(candidate.path)


def _drop_duplicate_slugs(candidates: list[_Candidate], report: ImportReport) -> list[_Candidate]:
    by_slug: dict[str, list[_Candidate]] = {}
    for candidate in candidates:
        by_slug.setdefault(candidate.document.slug, []).append(candidate)
    kept = []
    for slug, group in by_slug.items():
        if len(group) == 1:
            kept.append(group[0])
            continue
        for candidate in group:
            others = ", ".join(other.path for other in group if other is not candidate)
            _reject(candidate, 1, f"duplicate slug '{slug}': also used by {others}", report)
    return kept


def _drop_broken_links(candidates: list[_Candidate], stored: dict[str, str], report: ImportReport) -> list[_Candidate]:
    """Reject files that link to unknown slugs, repeating until no rejection breaks another."""
    while True:
        known = set(stored) | {slug for candidate in candidates for slug in _slugs_of(candidate.document)}
        broken = [c for c in candidates if any(ref.slug not in known for ref in c.references)]
        if not broken:
            return candidates
        for candidate in broken:
            for ref in candidate.references:
                if ref.slug not in known:
                    report.problems.append(Problem(candidate.path, ref.line, f"link to unknown entry '{ref.slug}'"))
            report.failed.append(candidate.path)
        candidates = [c for c in candidates if c not in broken]


def _drop_kind_changes(candidates: list[_Candidate], stored: dict[str, str], report: ImportReport) -> list[_Candidate]:
    kept = []
    for candidate in candidates:
        existing_kind = stored.get(candidate.document.slug)
        if existing_kind and existing_kind != candidate.document.kind:
            _reject(
                candidate,
                candidate.kind_line,
                f"'{candidate.document.slug}' is already a {existing_kind}; "
                f"its kind cannot change to {candidate.document.kind}",
                report,
            )
        else:
            kept.append(candidate)
    return kept


def _drop_wrong_reviews(candidates: list[_Candidate], stored: dict[str, str], report: ImportReport) -> list[_Candidate]:
    """Reject files whose `review:` names an entry that is not a review."""
    kinds = stored | {candidate.document.slug: candidate.document.kind for candidate in candidates}
    kept = []
    for candidate in candidates:
        review = candidate.document.review
        if review and kinds.get(review) != "review":
            line = next((ref.line for ref in candidate.references if ref.slug == review), 1)
            _reject(candidate, line, f"'review: {review}' names a {kinds.get(review)}, not a review", report)
        else:
            kept.append(candidate)
    return kept


def _slugs_of(document: EntryDocument) -> list[str]:
    """The slugs that lead to a document's entry: its own and those it replaces."""
    return [document.slug, *document.replaces]


def _drop_replace_conflicts(
    candidates: list[_Candidate], stored: dict[str, str], report: ImportReport
) -> list[_Candidate]:
    """Reject files whose `replaces:` names a slug another file uses or replaces, or an entry of another kind."""
    owners: dict[str, list[str]] = {}
    for candidate in candidates:
        for slug in _slugs_of(candidate.document):
            owners.setdefault(slug, []).append(candidate.path)
    kept = []
    for candidate in candidates:
        document = candidate.document
        problems = [
            f"'{slug}' is also the slug of, or replaced by, {', '.join(p for p in owners[slug] if p != candidate.path)}"
            for slug in document.replaces
            if len(owners[slug]) > 1
        ]
        problems += [
            f"'{slug}' is a {stored[slug]}; a {document.kind} cannot replace it"
            for slug in document.replaces
            if stored.get(slug, document.kind) != document.kind
        ]
        for message in problems:
            _reject(candidate, _replaces_line(candidate), message, report)
        if not problems:
            kept.append(candidate)
    return kept


def _replaces_line(candidate: _Candidate) -> int:
    return next((n for n, line in enumerate(candidate.text.split("\n"), 1) if line.startswith("replaces:")), 1)


def _place_replaced_slugs(candidates: list[_Candidate]) -> None:
    """Give each replaced slug that no entry has a merged placeholder leading to its replacement."""
    wanted = {slug: candidate.document.slug for candidate in candidates for slug in candidate.document.replaces}
    if not wanted:
        return
    have = set(db.session.scalars(select(Entry.slug).where(Entry.slug.in_(wanted))))
    targets = {entry.slug: entry for entry in db.session.scalars(select(Entry).where(Entry.slug.in_(wanted.values())))}
    for slug, target_slug in wanted.items():
        if slug in have:
            continue
        target = targets[target_slug]
        placeholder = MODEL_BY_KIND[target.kind](
            slug=slug,
            title=slug.replace("-", " ").capitalize(),
            status=str(EntryStatus.MERGED),  # a plain string, as YAML writes it
            visibility=target.visibility,
            review_id=target.review_id,
            status_note=f"Replaced by {target.title}",
            status_changed_at=utcnow(),
            merged_into_id=target.id,
        )
        db.session.add(placeholder)
    db.session.flush()


def _merge_replaced_entries(candidates: list[_Candidate], report: ImportReport) -> None:
    """Merge each entry whose slug a file replaces into that file's entry, unless already merged into it."""
    for candidate in candidates:
        if not candidate.document.replaces:
            continue
        target = db.session.scalar(select(Entry).where(Entry.slug == candidate.document.slug))
        for duplicate in db.session.scalars(select(Entry).where(Entry.slug.in_(candidate.document.replaces))):
            if target is None or (duplicate.status == EntryStatus.MERGED and duplicate.merged_into_id == target.id):
                continue
            try:
                carry_out_merge(duplicate, target, actor=None)
            except ModerationError as error:
                message = f"cannot replace '{duplicate.slug}': {error}"
                report.problems.append(Problem(candidate.path, _replaces_line(candidate), message))


def import_directory(directory: Path, on_file: Callable[[Path], None] = lambda path: None) -> ImportReport:
    """Check and load every content file below `directory`; flushes, never commits."""
    report = ImportReport()
    import_taxonomy(directory, report)
    candidates = _read_candidates(content_files(directory), report, on_file)
    stored = dict(db.session.execute(select(Entry.slug, Entry.kind)).all())
    candidates = _drop_duplicate_slugs(candidates, report)
    candidates = _drop_replace_conflicts(candidates, stored, report)
    candidates = _drop_kind_changes(candidates, stored, report)
    candidates = _drop_broken_links(candidates, stored, report)
    candidates = _drop_wrong_reviews(candidates, stored, report)
    _check_regions(candidates, report)

    entries = {entry.slug: entry for entry in db.session.scalars(select(Entry))}
    documents = {entry_id: revision.document for entry_id, revision in current_revisions().items()}
    changed: list[tuple[_Candidate, Entry, str, str]] = []
    # The files whose documents follow their attachments list: every new or changed file, and
    # an unchanged one whose entry still holds its text (after a later edit on the site, the
    # site's documents stand, as its text does).
    attaching: list[tuple[_Candidate, Entry]] = []
    for candidate in candidates:
        document, entry = candidate.document, entries.get(candidate.document.slug)
        file_hash = hashlib.sha256(candidate.text.encode()).hexdigest()
        canonical = serialise_document(document)
        if entry is not None and (entry.imported_hash == file_hash or documents.get(entry.id) == canonical):
            report.unchanged.append(candidate.path)
            if documents.get(entry.id) == canonical:
                attaching.append((candidate, entry))
            continue
        (report.updated if entry else report.created).append(candidate.path)
        entry = apply_document(document, entry)
        changed.append((candidate, entry, canonical, file_hash))
        attaching.append((candidate, entry))
    _place_replaced_slugs(candidates)
    targets = link_targets()
    # Every entry's review first: a paper's links to its panel's other papers are shown only
    # when both are known to belong to that review, whichever file comes first.
    for candidate, entry, _, _ in changed:
        assign_review(entry, candidate.document, targets)
    targets = link_targets()
    for candidate, entry, canonical, file_hash in changed:
        verb = "Updated" if entry.id in documents else "Imported"
        message = f"{verb} from {candidate.path}"
        record_revision(
            entry, candidate.document, canonical, author_name=IMPORT_AUTHOR, message=message, targets=targets
        )
        entry.imported_hash = file_hash
    if changed:
        rerender_entries_linking_to([entry for _, entry, _, _ in changed], targets)
    for candidate, entry in attaching:
        sync_attachments(
            entry,
            candidate.document.attachments,
            content_path=candidate.file,
            shown_path=candidate.path,
            text=candidate.text,
            report=report.documents,
        )
    report.problems.extend(report.documents.problems)
    _merge_replaced_entries(candidates, report)
    report.failed = list(dict.fromkeys(report.failed))
    return report
