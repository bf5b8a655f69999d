"""The theme taxonomy file (`content/taxonomy.yaml`): parse, check and write it back.

Pure functions: no app, no database. Problems are located by line like content files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from kb.content.document import CanonicalDumper
from kb.content.fields import SLUG, Problem, forbidden_characters
from kb.text import clean_line


@dataclass
class TagSpec:
    """A tag of the controlled vocabulary."""

    slug: str
    label: str


@dataclass
class ThemeSpec:
    """A theme and the tags that belong to it."""

    slug: str
    label: str
    description: str = ""
    tags: list[TagSpec] = field(default_factory=list)


def _mapping(node: yaml.Node) -> dict[str, tuple[Any, yaml.Node]]:
    return {str(key.value): (value.value, value) for key, value in node.value}


def parse_taxonomy(text: str, path: str) -> tuple[list[ThemeSpec], list[Problem]]:
    """Read the taxonomy file; themes with problems are left out and reported."""
    problems: list[Problem] = forbidden_characters(text, path)
    if problems:
        return [], problems

    def report(node: yaml.Node | None, message: str) -> None:
        problems.append(Problem(path, node.start_mark.line + 1 if node else 1, message))

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problems.append(Problem(path, mark.line + 1 if mark else 1, f"bad YAML: {getattr(error, 'problem', error)}"))
        return [], problems
    if not isinstance(root, yaml.MappingNode) or "themes" not in _mapping(root):
        report(root, "the taxonomy file needs a 'themes:' list")
        return [], problems
    themes_node = _mapping(root)["themes"][1]
    if not isinstance(themes_node, yaml.SequenceNode):
        report(themes_node, "'themes' must be a list")
        return [], problems
    themes: list[ThemeSpec] = []
    seen_tags: set[str] = set()
    for theme_node in themes_node.value:
        theme = _parse_theme(theme_node, seen_tags, report)
        if theme and any(other.slug == theme.slug for other in themes):
            report(theme_node, f"theme '{theme.slug}' is listed more than once")
        elif theme:
            themes.append(theme)
    return themes, problems


def _parse_theme(node: yaml.Node, seen_tags: set[str], report: Any) -> ThemeSpec | None:
    if not isinstance(node, yaml.MappingNode):
        report(node, "each theme is a mapping with slug, label, description and tags")
        return None
    values = _mapping(node)
    unknown = set(values) - {"slug", "label", "description", "tags"}
    if unknown:
        report(node, f"unknown theme keys: {', '.join(sorted(unknown))}")
        return None
    slug, label = values.get("slug", ("", None))[0], values.get("label", ("", None))[0]
    if not isinstance(slug, str) or not SLUG.match(slug) or not label:
        report(node, "a theme needs a slug (lower-case-hyphenated) and a label")
        return None
    theme = ThemeSpec(slug, clean_line(str(label)), str(values.get("description", ("", None))[0] or "").strip())
    tags_node = values.get("tags", (None, None))[1]
    for tag_node in tags_node.value if isinstance(tags_node, yaml.SequenceNode) else []:
        tag_values = _mapping(tag_node) if isinstance(tag_node, yaml.MappingNode) else {}
        tag_slug, tag_label = tag_values.get("slug", ("", None))[0], tag_values.get("label", ("", None))[0]
        if not isinstance(tag_slug, str) or not SLUG.match(tag_slug) or not tag_label:
            report(tag_node, "a tag needs a slug (lower-case-hyphenated) and a label")
        elif tag_slug in seen_tags:
            report(tag_node, f"tag '{tag_slug}' is listed in more than one place")
        else:
            seen_tags.add(tag_slug)
            theme.tags.append(TagSpec(tag_slug, clean_line(str(tag_label))))
    return theme


def serialise_taxonomy(themes: list[ThemeSpec]) -> str:
    """Write the taxonomy in canonical form."""
    data = {
        "themes": [
            {
                "slug": theme.slug,
                "label": theme.label,
                "description": theme.description,
                "tags": [{"slug": tag.slug, "label": tag.label} for tag in theme.tags],
            }
            for theme in themes
        ]
    }
    return yaml.dump(data, Dumper=CanonicalDumper, sort_keys=False, allow_unicode=True, width=1_000_000)
