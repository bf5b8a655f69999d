"""The comment tree: nesting, the two orders, a branch from one comment, and deep chains."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from kb.comments.tree import build_tree, walk

START = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


@dataclass
class FakeComment:
    id: int
    parent_id: int | None
    created_at: dt.datetime


def comment(id_: int, parent: int | None = None, minute: int | None = None) -> FakeComment:
    return FakeComment(id_, parent, START + dt.timedelta(minutes=id_ if minute is None else minute))


def shape(nodes) -> list:
    return [(node.comment.id, shape(node.replies)) for node in nodes]


def test_replies_nest_under_their_parents_oldest_first() -> None:
    comments = [comment(1), comment(2), comment(3, 1), comment(4, 3), comment(5, 1), comment(6, 2)]
    tree = build_tree(comments)
    assert shape(tree) == [(1, [(3, [(4, [])]), (5, [])]), (2, [(6, [])])]
    assert [node.depth for node in walk(tree)] == [0, 1, 2, 1, 0, 1]
    assert tree[0].count() == 4


def test_newest_first_reverses_only_the_top_level() -> None:
    comments = [comment(1), comment(2), comment(3, 1), comment(4, 1)]
    assert shape(build_tree(comments, "newest")) == [(2, []), (1, [(3, []), (4, [])])]


def test_order_uses_the_time_written_not_the_id() -> None:
    comments = [comment(1, minute=30), comment(2, minute=10), comment(3, 1, minute=50), comment(4, 1, minute=40)]
    assert shape(build_tree(comments)) == [(2, []), (1, [(4, []), (3, [])])]


def test_a_root_gives_one_branch_with_depths_counted_from_it() -> None:
    comments = [comment(1), comment(2, 1), comment(3, 2), comment(4, 3), comment(5, 1)]
    (branch,) = build_tree(comments, root_id=2)
    assert shape([branch]) == [(2, [(3, [(4, [])])])]
    assert [node.depth for node in walk([branch])] == [0, 1, 2]


def test_a_reply_whose_parent_is_not_loaded_is_kept_at_the_top() -> None:
    assert shape(build_tree([comment(5, 99), comment(6, 5)])) == [(5, [(6, [])])]


def test_a_chain_thousands_deep_builds_without_recursion_errors() -> None:
    chain = [comment(1)] + [comment(index, index - 1) for index in range(2, 5001)]
    tree = build_tree(chain)
    nodes = list(walk(tree))
    assert len(nodes) == 5000
    assert nodes[-1].depth == 4999
    assert [node.comment.id for node in nodes] == list(range(1, 5001))
    assert tree[0].count() == 5000
    assert nodes[4].count() == 4996


def test_an_unknown_order_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown comment order"):
        build_tree([comment(1)], "random")
