"""What the seed content in `content/` holds, read straight from the files.

Page tests compare what the site shows with this, so they keep working when the
content grows, and fail when a page drops or adds entries it should not. `documents()`
holds what a signed-out reader may see (published and public), since that is what the
page tests' client sees; `all_documents()` holds every file, restricted ones included.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from kb.config import PROJECT_ROOT
from kb.content.document import EntryDocument, parse_document
from kb.content.taxonomy import ThemeSpec, parse_taxonomy
from kb.entries.vocabulary import KIND_PLURALS
from kb.markdown import LinkTarget

CONTENT = PROJECT_ROOT / "content"


@cache
def all_documents() -> dict[str, EntryDocument]:
    """Every seed entry by slug, whoever may see it."""
    found = {}
    for path in sorted(CONTENT.rglob("*.md")):
        result = parse_document(path.read_text(encoding="utf-8"), str(path), default_slug=path.stem)
        assert result.document is not None, result.problems
        found[result.document.slug] = result.document
    return found


def stored_entry_count() -> int:
    """How many entries the seed import stores: one per file, and a merged placeholder per slug a file replaces."""
    documents = all_documents().values()
    return len(documents) + sum(len(document.replaces) for document in documents)


def is_public(document: EntryDocument) -> bool:
    """Whether a signed-out reader may see the entry."""
    return document.status == "published" and document.visibility == "public"


@cache
def documents() -> dict[str, EntryDocument]:
    """The seed entries a signed-out reader may see, by slug."""
    return {slug: document for slug, document in all_documents().items() if is_public(document)}


@cache
def themes() -> list[ThemeSpec]:
    specs, problems = parse_taxonomy((CONTENT / "taxonomy.yaml").read_text(encoding="utf-8"), "taxonomy.yaml")
    assert not problems
    return specs


def path_of(document: EntryDocument) -> str:
    return f"/{KIND_PLURALS[document.kind]}/{document.slug}"


def of_kind(kind: str) -> list[EntryDocument]:
    return [document for document in documents().values() if document.kind == kind]


def paths(documents_: list[EntryDocument]) -> set[str]:
    return {path_of(document) for document in documents_}


def with_tag(tag: str, kind: str | None = None) -> list[EntryDocument]:
    return [d for d in documents().values() if tag in d.tags and (kind is None or d.kind == kind)]


def theme_entries(theme: ThemeSpec) -> list[EntryDocument]:
    tags = {tag.slug for tag in theme.tags}
    return [document for document in documents().values() if tags & set(document.tags)]


def a_lesson_with_a_source_paper() -> EntryDocument:
    """A lesson with a paper as `source`, tags, and a maturity other than the default."""
    for document in of_kind("lesson"):
        source = documents().get(document.source or "")
        if source and source.kind == "paper" and document.tags and document.maturity != "observation":
            return document
    raise AssertionError("the seed content has no lesson with a source paper")


def resolver():
    """Resolve [[slug]] links the way the site does, from the seed files."""
    targets = {slug: LinkTarget(path_of(document), document.title) for slug, document in documents().items()}
    return targets.get


def content_file(document: EntryDocument) -> Path:
    return CONTENT / KIND_PLURALS[document.kind] / f"{document.slug}.md"
