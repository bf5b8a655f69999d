"""Drafts and submissions carry a badge in the lists staff see, and are never in the counts pages show."""

from __future__ import annotations

from flask import Flask

from kb.entries.queries import kind_counts, tag_counts, theme_counts
from kb.permissions import viewer_for
from tests.accounts import Cast, client_for
from tests.web.dom import parse
from tests.web.test_contributions import LESSON, write

TAG = LESSON["tags"]


def figures(html: str) -> list[str]:
    """Every count a page shows: the home page's figures and the bracketed counts beside themes and tags."""
    root = parse(html)
    numbers = [node.text() for node in root.find_all(cls="kb-counts__number")]
    numbers += [node.text() for node in root.find_all(cls="kb-count")]
    numbers += [node.text() for node in root.find_all("a", cls="kb-tag-link") if node.text().endswith(")")]
    return numbers


def badges_beside(html: str, title: str) -> list[str]:
    """The status badges of the listed entry titled `title`."""
    root = parse(html)
    item = next(node for node in root.find_all(cls="kb-entry-item") if title in node.text())
    return [node.text() for node in item.find_all(cls="kb-status-badge")]


def counted_pages(client) -> dict[str, list[str]]:
    return {path: figures(client.get(path).get_data(as_text=True)) for path in ("/", "/themes", "/tags")}


def counts_for(user) -> tuple[dict[str, int], list[tuple[str, int]], list[tuple[str, int]]]:
    viewer = viewer_for(user)
    themes = [(theme.slug, n) for theme, n in theme_counts(viewer)]
    return kind_counts(viewer), themes, [(tag.slug, n) for tag, n in tag_counts(viewer)]


def test_drafts_and_submissions_are_in_no_count_whoever_looks(seeded_app: Flask, cast: Cast) -> None:
    watchers = {"moderator": cast.moderator, "admin": cast.admin, "member": cast.member, "anonymous": None}
    before = {who: counted_pages(client_for(seeded_app, user)) for who, user in watchers.items()}
    sums = {who: counts_for(user) for who, user in watchers.items()}
    member = client_for(seeded_app, cast.member)
    assert write(member, title="A draft that is not counted").status_code == 303
    assert write(member, "submit", title="A submission that is not counted").status_code == 303
    for who, user in watchers.items():
        assert counted_pages(client_for(seeded_app, user)) == before[who], who
        assert counts_for(user) == sums[who], who
    assert "rota-gaps" not in dict(sums["moderator"][2])


def test_staff_see_a_badge_on_a_draft_and_a_submission_in_every_list(seeded_app: Flask, cast: Cast) -> None:
    member = client_for(seeded_app, cast.member)
    assert write(member, title="Night rota draft").status_code == 303
    assert write(member, "submit", title="Night rota submission").status_code == 303
    moderator = client_for(seeded_app, cast.moderator)
    tag_page = moderator.get(f"/tags/{TAG}").get_data(as_text=True)
    assert badges_beside(tag_page, "Night rota draft") == ["Draft"]
    assert badges_beside(tag_page, "Night rota submission") == ["Submitted for publication"]
    lessons = moderator.get("/lessons").get_data(as_text=True)
    assert badges_beside(lessons, "Night rota submission") == ["Submitted for publication"]
    published = next(node for node in parse(tag_page).find_all(cls="kb-entry-item") if "Night rota" not in node.text())
    assert published.find_all(cls="kb-status-badge") == []
    queue = parse(moderator.get("/moderation").get_data(as_text=True))
    assert "Submitted for publication" in [node.text() for node in queue.find_all(cls="kb-status-badge")]
    found = moderator.get("/search?q=rota").get_data(as_text=True)
    assert "Draft" in [node.text() for node in parse(found).find_all(cls="kb-status-badge")]
