"""Building a thread's tree from a flat list of comments: pure code, no app and no database.

A thread is loaded in one query and shaped here, so rendering 2,000 comments costs the
same number of queries as rendering two. Top-level comments follow the reader's chosen
order (oldest or newest first); replies always read oldest first, as a conversation.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

ORDERS: dict[str, str] = {"oldest": "Oldest first", "newest": "Newest first"}
SHOWN_DEPTH = 5
"""Levels of replies shown on one page; deeper replies are behind a "continue this thread" link."""


class Threaded(Protocol):
    """What the tree needs of a comment."""

    @property
    def id(self) -> int: ...  # noqa: D102

    @property
    def parent_id(self) -> int | None: ...  # noqa: D102

    @property
    def created_at(self) -> dt.datetime: ...  # noqa: D102


T = TypeVar("T", bound=Threaded)


@dataclass
class Node(Generic[T]):
    """One comment in a tree, its depth below the tree's top, and its replies."""

    comment: T
    depth: int
    replies: list[Node[T]] = field(default_factory=list)

    def count(self) -> int:
        """How many comments the node holds: itself and every reply below it."""
        return sum(1 for _ in walk([self]))  # iterative: a chain thousands deep must not hit the recursion limit


def _order_key(comment: Threaded) -> tuple[dt.datetime, int]:
    return comment.created_at, comment.id


def build_tree(comments: Sequence[T], order: str = "oldest", root_id: int | None = None) -> list[Node[T]]:
    """The threads of `comments`: top-level comments in `order`, each with its replies, oldest first.

    With `root_id`, the one thread starting at that comment (for "continue this thread").
    A comment whose parent is not among `comments` is treated as a top-level comment, so
    nothing loaded is ever dropped. Raises `ValueError` for an unknown order.
    """
    if order not in ORDERS:
        raise ValueError(f"unknown comment order {order!r}")
    known = {comment.id for comment in comments}
    children: dict[int | None, list[T]] = defaultdict(list)
    for comment in comments:
        parent = comment.parent_id if comment.parent_id in known else None
        children[parent].append(comment)
    for siblings in children.values():
        siblings.sort(key=_order_key)

    def grow(comment: T, depth: int) -> Node[T]:
        node = Node(comment, depth)
        stack = [node]
        while stack:  # iterative, so a very deep thread cannot exhaust Python's recursion limit
            current = stack.pop()
            current.replies = [Node(reply, current.depth + 1) for reply in children.get(current.comment.id, [])]
            stack.extend(current.replies)
        return node

    if root_id is not None:
        top = [comment for comment in comments if comment.id == root_id]
    else:
        top = list(children.get(None, []))
        if order == "newest":
            top.reverse()
    return [grow(comment, 0) for comment in top]


def walk(nodes: Sequence[Node[T]]) -> Iterator[Node[T]]:
    """Every node of `nodes` and their replies, in reading order."""
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.replies))
