"""A very small HTML tree, enough to ask structural questions about kb's pages."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
ENTRY_PATH = re.compile(r"^/(lessons|reviews|papers)/[a-z0-9-]+$")


@dataclass
class Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)
    parent: Node | None = None

    def text(self) -> str:
        """The element's text with runs of white space made single spaces."""
        return " ".join("".join(self._texts()).split())

    def _texts(self) -> Iterator[str]:
        for child in self.children:
            if isinstance(child, str):
                yield child
            else:
                yield from child._texts()

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def elements(self) -> Iterator[Node]:
        """Every element below this one, in document order."""
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.elements()

    def find_all(self, tag: str | None = None, *, cls: str | None = None, where: Callable[[Node], bool] | None = None):
        return [
            element
            for element in self.elements()
            if (tag is None or element.tag == tag)
            and (cls is None or cls in element.classes)
            and (where is None or where(element))
        ]

    def find(self, tag: str | None = None, **kwargs) -> Node | None:
        found = self.find_all(tag, **kwargs)
        return found[0] if found else None

    def one(self, tag: str | None = None, **kwargs) -> Node:
        found = self.find_all(tag, **kwargs)
        assert len(found) == 1, f"expected one <{tag}> {kwargs}, found {len(found)}"
        return found[0]

    def ancestor(self, tag: str) -> Node | None:
        node = self.parent
        while node is not None and node.tag != tag:
            node = node.parent
        return node

    def next_element(self) -> Node | None:
        """The next sibling element."""
        if self.parent is None:
            return None
        siblings = [child for child in self.parent.children if isinstance(child, Node)]
        index = siblings.index(self)
        return siblings[index + 1] if index + 1 < len(siblings) else None

    def hrefs(self) -> list[str]:
        return [element.attrs["href"] for element in self.find_all("a") if "href" in element.attrs]

    def entry_paths(self) -> list[str]:
        """Paths of entry pages linked from here, in order, each once."""
        return list(dict.fromkeys(href for href in self.hrefs() if ENTRY_PATH.match(href)))


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {name: value or "" for name, value in attrs}, parent=self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {name: value or "" for name, value in attrs}, parent=self.stack[-1])
        self.stack[-1].children.append(node)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str | bytes) -> Node:
    builder = _Builder()
    builder.feed(html.decode() if isinstance(html, bytes) else html)
    builder.close()
    return builder.root


def main_of(html: str | bytes) -> Node:
    """The page's <main> element."""
    return parse(html).one("main")


def heading(root: Node, text: str, tags: tuple[str, ...] = ("h1", "h2", "h3", "h4")) -> Node:
    found = [element for element in root.elements() if element.tag in tags and element.text() == text]
    assert found, f"no heading {text!r}"
    return found[0]


def block_after_heading(root: Node, text: str) -> Node:
    """The section a heading starts, or the element right after it when it has no section of its own."""
    title = heading(root, text)
    section = title.parent
    if (
        section is not None
        and section.tag == "section"
        and section.find_all(where=lambda e: e.tag.startswith("h"))[0] is title
    ):
        return section
    following = title.next_element()
    assert following is not None, f"nothing after heading {text!r}"
    return following
