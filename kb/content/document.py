"""One entry as a Markdown file with YAML front matter: parse, check and write it back.

This module has no app and no database. `parse_document` reads a file's text into an
`EntryDocument` or reports every problem it finds as `path:line: message`;
`serialise_document` writes a document in the one canonical form, so that
`parse_document(serialise_document(doc))` gives `doc` back unchanged. The format is
described in docs/content-format.md; the keys and their values are checked by
`kb.content.fields`, a lesson's sections cut by `kb.content.lesson_body`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import frontmatter
import yaml

from kb.content.fields import (
    FIELDS,
    FIELDS_BY_KEY,
    SLUG,
    AttachmentRef,
    InvalidValueError,
    Problem,
    SourceRef,
    forbidden_characters,
)
from kb.content.lesson_body import split_lesson_body
from kb.dates import PartialDate
from kb.entries.vocabulary import LESSON_SECTIONS
from kb.markdown import INTERNAL_LINK
from kb.states import EntryKind, Visibility


class _ContentLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """PyYAML's safe loader, libyaml's when PyYAML was built with it.

    Dates stay text, so that kb checks them itself and can name the line.
    """


_ContentLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class Reference:
    """A slug a document points at, with the line that names it, for checking."""

    slug: str
    line: int


@dataclass
class EntryDocument:
    """Everything an author writes about one entry; the unit of import, export and history."""

    kind: str
    slug: str
    title: str
    summary: str
    replaces: list[str] = field(default_factory=list)
    status: str = "published"
    visibility: str = "public"
    review: str | None = None
    region: str | None = None
    event_date: PartialDate | None = None
    organisation: str | None = None
    tags: list[str] = field(default_factory=list)
    source: str | None = None
    see_also: list[str] = field(default_factory=list)
    sources: list[SourceRef] = field(default_factory=list)
    attachments: list[AttachmentRef] = field(default_factory=list)
    """The entry's current documents, in order: files beside the content file, each with its title."""
    body: str = ""
    sections: dict[str, str] = field(default_factory=dict)
    maturity: str | None = None
    action_status: str | None = None
    action_owner: str | None = None
    action_due: PartialDate | None = None
    action_note: str | None = None
    action_evidence: str | None = None
    commissioning_body: str | None = None
    review_status: str | None = None
    terms_of_reference: str | None = None
    meeting: str | None = None
    meeting_date: PartialDate | None = None
    paper_type: str | None = None
    paper_status: str | None = None

    def markdown_texts(self) -> dict[str, str]:
        """Every Markdown text of the entry, keyed by where it is shown on the page."""
        texts = dict(self.sections) if self.kind == EntryKind.LESSON else {"body": self.body}
        if self.action_evidence:
            texts["action_evidence"] = self.action_evidence
        if self.terms_of_reference:
            texts["terms_of_reference"] = self.terms_of_reference
        return texts


@dataclass
class ParseResult:
    """A parsed document (None when the file cannot be used) and what was wrong."""

    document: EntryDocument | None
    problems: list[Problem]
    references: list[Reference] = field(default_factory=list)


@dataclass
class _FrontMatterMap:
    """Where each top-level key and its value sit in the file, for locating problems."""

    key_lines: dict[str, int] = field(default_factory=dict)
    values: dict[str, yaml.Node] = field(default_factory=dict)
    duplicates: list[tuple[str, int]] = field(default_factory=list)

    def line_of(self, key: str, where: tuple[int | str, ...] = ()) -> int:
        """The line of `key`, or of the part of its value that `where` leads to."""
        line = self.key_lines.get(key, 1)
        node = self.values.get(key)
        for step in where:
            if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
                node = node.value[step]
            elif isinstance(node, yaml.MappingNode):
                node = next((value for name, value in node.value if name.value == step), None)
            else:
                node = None
            if node is None:
                break
            line = node.start_mark.line + 1
        return line


def _load_front_matter(front_matter: str) -> tuple[Any, _FrontMatterMap]:
    """Parse the front matter once: its values, and where each key and value sits."""
    loader = _ContentLoader(front_matter)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return data, _map_front_matter(node)


def _map_front_matter(node: yaml.Node | None) -> _FrontMatterMap:
    mapped = _FrontMatterMap()
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key, line = str(key_node.value), key_node.start_mark.line + 1
            if key in mapped.key_lines:
                mapped.duplicates.append((key, line))
                continue
            mapped.key_lines[key] = line
            mapped.values[key] = value_node
    return mapped


def _find_references(text: str, document: EntryDocument, located: _FrontMatterMap) -> list[Reference]:
    references: list[Reference] = []
    for number, line in enumerate(text.split("\n"), start=1):
        references.extend(Reference(match.group(1), number) for match in INTERNAL_LINK.finditer(line))
    if document.source:
        references.append(Reference(document.source, located.line_of("source")))
    if document.review:
        references.append(Reference(document.review, located.line_of("review")))
    references.extend(
        Reference(slug, located.line_of("see_also", (index,))) for index, slug in enumerate(document.see_also)
    )
    return references


def parse_document(text: str, path: str, *, default_slug: str | None = None) -> ParseResult:
    """Read one content file's text. Never raises: every problem comes back located.

    `default_slug` (usually the file name without `.md`) is used when the file has no slug.
    """
    problems: list[Problem] = forbidden_characters(text, path)
    if problems:
        return ParseResult(None, problems)

    def report(line: int, message: str) -> None:
        problems.append(Problem(path, line, message))

    handler = frontmatter.YAMLHandler()
    if not handler.detect(text) or not text.startswith("---"):
        report(1, "no front matter: a content file starts with a '---' line, then YAML, then '---'")
        return ParseResult(None, problems)
    try:
        front, body = handler.split(text)
        metadata, located = _load_front_matter(front)
    except ValueError:
        report(1, "front matter is not closed by a '---' line")
        return ParseResult(None, problems)
    except yaml.YAMLError as error:
        report(*_yaml_error_location(error, front))
        return ParseResult(None, problems)
    if not isinstance(metadata, dict):
        report(2, "front matter must be a mapping of keys to values")
        return ParseResult(None, problems)
    for key, line in located.duplicates:
        report(line, f"key '{key}' is given twice")

    values = _read_fields(metadata, located, report)
    kind = values.get("kind")
    closing_line = 1 + front.count("\n")
    body = body.lstrip("\n")
    first_body_line = closing_line + 1 + _leading_blank_lines(text, closing_line)
    last_line = len(text.rstrip("\n").split("\n"))
    if kind == EntryKind.LESSON:
        values["sections"] = split_lesson_body(body.strip(), min(first_body_line, last_line), report)
    else:
        values["body"] = body.strip()
    if "slug" not in metadata:
        if default_slug and SLUG.match(default_slug):
            values["slug"] = default_slug
        else:
            report(1, f"no slug, and the file name '{default_slug}' is not a valid slug")
    if values.get("slug") in values.get("replaces", []):
        report(located.line_of("replaces"), "an entry cannot replace itself; 'replaces:' lists the slugs of others")
    if kind == EntryKind.REVIEW and values.get("review"):
        report(
            located.line_of("review"), "a review cannot belong to another review; 'review:' is for lessons and papers"
        )
    if (
        values.get("visibility") == Visibility.PANEL
        and kind not in (None, EntryKind.REVIEW)
        and not values.get("review")
    ):
        report(located.line_of("visibility"), "visibility 'panel' needs 'review:', the review whose panel may see it")
    if problems or kind is None:
        return ParseResult(None, problems)
    document = EntryDocument(**values)
    return ParseResult(document, problems, _find_references(text, document, located))


def _leading_blank_lines(text: str, closing_line: int) -> int:
    after = text.split("\n")[closing_line:]
    count = 0
    for line in after:
        if line.strip():
            break
        count += 1
    return count


def _yaml_error_location(error: yaml.YAMLError, front: str) -> tuple[int, str]:
    """The line and message for a YAML error.

    An error found only at the end of the front matter (an unclosed bracket or quote) is
    placed where the unclosed construct began.
    """
    problem_mark = getattr(error, "problem_mark", None)
    context_mark = getattr(error, "context_mark", None)
    mark = problem_mark
    if context_mark is not None and (problem_mark is None or problem_mark.line >= front.count("\n")):
        mark = context_mark
    context = getattr(error, "context", None)
    problem = getattr(error, "problem", None) or str(error)
    message = f"bad YAML: {problem}" + (f" ({context})" if context and mark is context_mark else "")
    return (mark.line + 1 if mark else 1), message


def _read_fields(
    metadata: dict[str, Any], located: _FrontMatterMap, report: Callable[[int, str], None]
) -> dict[str, Any]:
    """Check each front matter key against the field table and convert its value."""
    kind_spec = FIELDS_BY_KEY["kind"]
    kind = None
    if "kind" not in metadata:
        report(1, "missing kind (lesson, review or paper)")
    else:
        try:
            kind = kind_spec.read(metadata["kind"])
        except InvalidValueError as error:
            report(located.line_of("kind"), f"unknown kind: {error}")
    values: dict[str, Any] = {"kind": kind} if kind else {}
    for key, value in metadata.items():
        spec = FIELDS_BY_KEY.get(str(key))
        line = located.line_of(str(key))
        if spec is None:
            report(line, f"unknown key '{key}'")
        elif kind and kind not in spec.kinds:
            report(line, f"key '{key}' does not apply to a {kind}")
        elif key != "kind" and value is not None:
            try:
                values[spec.key] = spec.read(value)
            except InvalidValueError as error:
                report(located.line_of(str(key), error.where), f"{key}: {error}")
    for spec in FIELDS:
        if kind and kind in spec.kinds and spec.key not in values:
            if spec.required and metadata.get(spec.key) is None:
                report(located.line_of(spec.key), f"missing {spec.key.replace('_', ' ')}")
            elif spec.default is not None:
                values[spec.key] = list(spec.default) if isinstance(spec.default, list) else spec.default
    return values


class CanonicalDumper(yaml.SafeDumper):
    """Writes multi-line text as `|` blocks, indents lists, and never folds long lines."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        """Indent list items under their key, whatever PyYAML would choose."""
        super().increase_indent(flow, False)


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value.rstrip("\n") + "\n", style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


CanonicalDumper.add_representer(str, _represent_text)


def _source_mapping(ref: SourceRef) -> dict[str, Any]:
    mapping: dict[str, Any] = {"title": ref.title}
    if ref.publisher:
        mapping["publisher"] = ref.publisher
    if ref.date:
        mapping["date"] = ref.date.to_yaml()
    if ref.url:
        mapping["url"] = ref.url
    return mapping


def front_matter_of(document: EntryDocument) -> dict[str, Any]:
    """The document's front matter in canonical key order, without empty values."""
    mapping: dict[str, Any] = {}
    for spec in FIELDS:
        if document.kind not in spec.kinds:
            continue
        value = getattr(document, spec.key)
        if value is None or value == []:
            continue
        if isinstance(value, PartialDate):
            value = value.to_yaml()
        elif spec.key == "sources":
            value = [_source_mapping(ref) for ref in value]
        elif spec.key == "attachments":
            value = [{"file": ref.file, "title": ref.title} for ref in value]
        mapping[spec.key] = value
    return mapping


def serialise_document(document: EntryDocument) -> str:
    """Write a document as a content file in canonical form (the export format)."""
    front = yaml.dump(
        front_matter_of(document),
        Dumper=CanonicalDumper,
        sort_keys=False,
        allow_unicode=True,
        width=1_000_000,
        default_flow_style=False,
    )
    if document.kind == EntryKind.LESSON:
        body = "\n\n".join(f"## {label}\n\n{document.sections.get(key, '')}" for key, label in LESSON_SECTIONS.items())
    else:
        body = document.body
    return f"---\n{front}---\n\n{body}\n" if body else f"---\n{front}---\n"
