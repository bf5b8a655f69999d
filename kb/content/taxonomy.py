"""The taxonomy file (`content/taxonomy.yaml`): themes, tags and the regions list; parse, check, write back.

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


@dataclass
class RegionSpec:
    """A region of the controlled list, with other spellings that mean it."""

    name: str
    synonyms: list[str] = field(default_factory=list)


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


def parse_regions(text: str, path: str) -> tuple[list[RegionSpec], list[Problem]]:
    """Read the `regions:` list of the taxonomy file (empty when it has none); bad items are left out and reported.

    The themes of the same file are read by `parse_taxonomy`, which reports the file's
    character and YAML problems, so those are not reported twice here.
    """
    problems: list[Problem] = []
    if forbidden_characters(text, path):
        return [], problems
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return [], problems
    if not isinstance(root, yaml.MappingNode) or "regions" not in _mapping(root):
        return [], problems
    node = _mapping(root)["regions"][1]
    if not isinstance(node, yaml.SequenceNode):
        problems.append(Problem(path, node.start_mark.line + 1, "'regions' must be a list"))
        return [], problems
    regions: list[RegionSpec] = []
    for item in node.value:
        region = _parse_region(item)
        line = item.start_mark.line + 1
        if region is None:
            problems.append(Problem(path, line, "a region is a name, or a mapping with a name and synonyms"))
        elif any(other.name.casefold() == region.name.casefold() for other in regions):
            problems.append(Problem(path, line, f"region '{region.name}' is listed more than once"))
        else:
            regions.append(region)
    return regions, problems


def _parse_region(node: yaml.Node) -> RegionSpec | None:
    if isinstance(node, yaml.ScalarNode):
        name = clean_line(str(node.value))
        return RegionSpec(name) if name else None
    if not isinstance(node, yaml.MappingNode) or set(_mapping(node)) - {"name", "synonyms"}:
        return None
    values = _mapping(node)
    name = clean_line(str(values.get("name", ("", None))[0] or ""))
    synonyms_node = values.get("synonyms", (None, None))[1]
    if not name or (synonyms_node is not None and not isinstance(synonyms_node, yaml.SequenceNode)):
        return None
    items = synonyms_node.value if synonyms_node is not None else []
    synonyms = [clean_line(str(item.value)) for item in items if isinstance(item, yaml.ScalarNode)]
    return RegionSpec(name, [synonym for synonym in synonyms if synonym])


def serialise_taxonomy(themes: list[ThemeSpec], regions: list[RegionSpec] | None = None) -> str:
    """Write the taxonomy in canonical form: the themes, then the regions when there are any."""
    data: dict[str, Any] = {
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
    if regions:
        data["regions"] = [
            {"name": region.name, "synonyms": region.synonyms} if region.synonyms else region.name for region in regions
        ]
    return yaml.dump(data, Dumper=CanonicalDumper, sort_keys=False, allow_unicode=True, width=1_000_000)
