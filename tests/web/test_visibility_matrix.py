"""Every role × every visibility × every surface: what is shown, what is not, and the counts.

One app per module holds the seed content (which has members, panel and draft entries of
its own), one account per role, and four generated lessons, one per visibility. Each
lesson has its own region, year and free tag, a theme tag, and a see-also link to a
public paper, and one public lesson lists all four under see also, so every surface has
something to show or to leave out. What a role should see is worked out below from the
rule as the issue states it (`role_sees`), never from `kb.permissions`; counts are
worked out the same way from the seed files, so a surface that ignores the rule for any
entry, seed or generated, fails here.

Each lesson also has a document, replaced once, so its documents are surfaces too: the
text view of the current and of the earlier version, the download, and the list of its
documents with their history.

Search is a surface too: each lesson has a word of its own, so the search page for that
word (and for a misspelling of it), the page's totals and facet counts, and the entry
pages' lists of similar entries are checked the same way.

A comment in a finding's discussion is a row of its own: only the review's panel and staff
read it, on the finding's page; every other surface (the comment's addresses, the review's
page, count and exports, search, notifications) shows it to nobody else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import feedparser
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, true

from kb.access.service import issue_token
from kb.comments.service import post_comment
from kb.documents.service import attach_document
from kb.entries.models import Entry, Review
from kb.entries.related import MUTUAL_SEE_ALSO
from kb.entries.vocabulary import BACKLINK_RELATIONS, KIND_PLURALS
from kb.extensions import db
from kb.markdown import INTERNAL_LINK
from kb.panels.service import FindingText, create_finding
from kb.search.text import facet_key
from kb.states import EntryStatus, TokenKind
from kb.users.models import User
from tests.accounts import login_as, make_cast, make_user
from tests.conftest import import_files, make_app
from tests.web import seed
from tests.web.dom import Node, block_after_heading, main_of

ROLES = ("anonymous", "member", "author", "panel", "other-panel", "moderator", "admin", "deactivated")
"""`panel` sits on one review's panel, `other-panel` on the other's; `author` wrote the draft.

The deactivated account is a moderator with seats on both panels: deactivation must take
all of that away.
"""
VISIBILITIES = ("public", "members", "panel", "draft")
REVIEWS = sorted(seed.of_kind("review"), key=lambda review: review.title)
PANEL_REVIEWS = {"panel": REVIEWS[0].slug, "other-panel": REVIEWS[1].slug}
"""The review whose panel each panel role sits on, as `make_cast` seats them (by review title)."""
SIGNED_IN = frozenset(ROLES) - {"anonymous", "deactivated"}
STAFF = frozenset({"moderator", "admin"})

THEME = "contract-management"
THEME_TAG = "financial-penalties"
LINKED_PAPER = "nhs-alliance-discussion-paper"
INDEX = "matrix-public-index"
MISSING = "matrix-no-such-entry"


def role_sees(role: str, status: str, visibility: str, panel_review: str | None, author: str | None) -> bool:
    """The rule, from the issue: public, members, that review's panel, draft; staff see all."""
    if role in STAFF or (author is not None and author == role):
        return True
    if status != "published":
        return False
    if visibility == "public":
        return True
    if role not in SIGNED_IN:
        return False
    if visibility == "members":
        return True
    if visibility == "panel":
        return panel_review is not None and panel_review == PANEL_REVIEWS.get(role)
    return False


@dataclass(frozen=True)
class Target:
    """One generated lesson per visibility, with a region, year and free tag of its own."""

    visibility: str

    @property
    def slug(self) -> str:
        return f"matrix-{self.visibility}-lesson"

    @property
    def path(self) -> str:
        return f"/lessons/{self.slug}"

    @property
    def title(self) -> str:
        return f"Matrix {self.visibility} lesson"

    @property
    def region(self) -> str:
        return f"Matrix Region {self.visibility.title()}"

    @property
    def year(self) -> str:
        return str(1990 + VISIBILITIES.index(self.visibility))

    @property
    def tag(self) -> str:
        return f"matrix-{self.visibility}"

    @property
    def word(self) -> str:
        """A word no other entry contains, in the lesson's text."""
        return f"zq{self.visibility}matrix"

    @property
    def misspelt(self) -> str:
        """The word one letter off, which search may correct to it."""
        return self.word[:-1] + "z"

    @property
    def status(self) -> str:
        return "draft" if self.visibility == "draft" else "published"

    @property
    def author(self) -> str | None:
        return "author" if self.visibility == "draft" else None

    @property
    def review(self) -> str | None:
        """The panel lesson belongs to the review the `panel` role sits on."""
        return PANEL_REVIEWS["panel"] if self.visibility == "panel" else None

    def file(self) -> str:
        review = f"review: {self.review}\n" if self.review else ""
        return (
            f"---\nkind: lesson\ntitle: {self.title}\nsummary: Generated for the visibility matrix.\n"
            f"status: {self.status}\nvisibility: {self.visibility}\n{review}region: {self.region}\n"
            f"event_date: {self.year}\ntags:\n  - {self.tag}\n  - {THEME_TAG}\nsee_also:\n  - {LINKED_PAPER}\n---\n\n"
            f"## Driving event\n\nA.\n\n## Lesson\n\nB. {self.word}.\n\n## Recommendation\n\nC.\n\n## Evidence\n\nD.\n"
        )

    def seen_by(self, role: str) -> bool:
        return role_sees(role, self.status, self.visibility, self.review, self.author)

    @property
    def document_title(self) -> str:
        return f"Matrix {self.visibility} document"

    def document_bytes(self, version: int) -> bytes:
        return f"Minutes of the {self.visibility} meeting, version {version}.\n".encode()

    def doc(self) -> Doc:
        return Doc(
            self.slug,
            "lesson",
            self.status,
            self.visibility,
            self.review,
            (self.tag, THEME_TAG),
            frozenset({LINKED_PAPER}),
            self.author,
        )


TARGETS = {visibility: Target(visibility) for visibility in VISIBILITIES}
INDEX_FILE = (
    "---\nkind: lesson\ntitle: Matrix public index\nsummary: Lists every matrix lesson under see also.\n"
    "see_also:\n" + "".join(f"  - {t.slug}\n" for t in TARGETS.values()) + "---\n\n"
    "## Driving event\n\nA.\n\n## Lesson\n\nB.\n\n## Recommendation\n\nC.\n\n## Evidence\n\nD.\n"
)


@dataclass(frozen=True)
class Doc:
    """What the expected figures need to know about one entry, seed or generated."""

    slug: str
    kind: str
    status: str
    visibility: str
    review: str | None
    tags: tuple[str, ...]
    links: frozenset[str]
    author: str | None = None
    replaced: bool = False
    """A slug a content file replaces: a merged placeholder, which an export leaves to that file's `replaces:`."""

    def seen_by(self, role: str) -> bool:
        return role_sees(role, self.status, self.visibility, self.review, self.author)

    @property
    def path(self) -> str:
        return f"/{KIND_PLURALS[self.kind]}/{self.slug}"


def seed_docs() -> list[Doc]:
    docs = []
    for document in seed.all_documents().values():
        mentions = {m.group(1) for text in document.markdown_texts().values() for m in INTERNAL_LINK.finditer(text)}
        links = frozenset(mentions | set(document.see_also) | ({document.source} if document.source else set()))
        docs.append(
            Doc(
                document.slug,
                document.kind,
                document.status,
                document.visibility,
                document.review,
                tuple(document.tags),
                links,
            )
        )
        # A replaced slug lives on as a merged placeholder, which only staff see.
        docs.extend(
            Doc(slug, document.kind, "merged", document.visibility, document.review, (), frozenset(), replaced=True)
            for slug in document.replaces
        )
    return docs


@dataclass
class World:
    """The module's app, a signed-in client per role, and a cache of the pages they fetched."""

    app: Flask | None = None
    clients: dict[str, FlaskClient] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    docs: list[Doc] = field(default_factory=list)
    export_root: Path | None = None
    pages: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    exports: dict[str, tuple[str, set[str]]] = field(default_factory=dict)
    documents: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Each target's document ids by visibility: (the current version, the earlier one it replaced)."""
    feed_tokens: dict[str, str] = field(default_factory=dict)
    """Each signed-in role's personal feed token, made when a feed is first read."""

    def get(self, role: str, url: str) -> tuple[int, str]:
        """The status and HTML of `url` as `role` sees it, fetched once per world."""
        key = (role, url)
        if key not in self.pages:
            response = self.clients[role].get(url)
            self.pages[key] = (response.status_code, response.get_data(as_text=True))
        return self.pages[key]

    def expected(self, role: str, kind: str | None = None, where: Callable[[Doc], bool] = lambda d: True) -> int:
        """How many entries (of a kind) that pass `where` the role may see."""
        return sum(1 for d in self.docs if d.seen_by(role) and (kind is None or d.kind == kind) and where(d))

    def counted(self, role: str, kind: str | None = None, where: Callable[[Doc], bool] = lambda d: True) -> int:
        """The figure a count shows the role: the published entries among those it may see (drafts never count)."""
        return self.expected(role, kind, lambda d: d.status == EntryStatus.PUBLISHED and where(d))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("matrix")
    app = make_app(folder, seeded_database, ENTRIES_PER_PAGE=1000)
    with app.app_context():
        cast = make_cast()
        assert (cast.review.slug, cast.other_review.slug) == (PANEL_REVIEWS["panel"], PANEL_REVIEWS["other-panel"])
        deactivated = make_user(
            "deactivated@example.org", role="moderator", panels=(cast.review, cast.other_review), active=False
        )
        users: dict[str, User | None] = {
            "anonymous": None,
            "member": cast.member,
            "author": cast.author,
            "panel": cast.panel,
            "other-panel": cast.other_panel,
            "moderator": cast.moderator,
            "admin": cast.admin,
            "deactivated": deactivated,
        }
        files = {f"lessons/{t.slug}.md": t.file() for t in TARGETS.values()}
        files[f"lessons/{INDEX}.md"] = INDEX_FILE
        import_files(folder / "generated", files)
        draft = db.session.scalar(select(Entry).where(Entry.slug == TARGETS["draft"].slug))
        assert draft is not None
        draft.author_id = cast.author.id
        db.session.commit()

        world = World(app=app, export_root=folder / "exports")
        for target in TARGETS.values():
            lesson = db.session.scalar(select(Entry).where(Entry.slug == target.slug))
            assert lesson is not None
            title = target.document_title
            earlier = attach_document(lesson, target.document_bytes(1), filename="minutes.txt", title=title, actor=None)
            db.session.flush()
            current = attach_document(
                lesson, target.document_bytes(2), filename="minutes.txt", title=title, actor=None, replaces=earlier
            )
            db.session.commit()
            world.documents[target.visibility] = (current.id, earlier.id)
        index = Doc(INDEX, "lesson", "published", "public", None, (), frozenset(t.slug for t in TARGETS.values()))
        world.docs = [*seed_docs(), *(t.doc() for t in TARGETS.values()), index]
        for role, user in users.items():
            client = app.test_client()
            world.clients[role] = login_as(client, user) if user is not None else client
            if user is not None:
                world.emails[role] = user.email
        yield world
        db.session.remove()
        db.engine.dispose()


# --- what a page shows ------------------------------------------------------------------------


def leaks(html: str, target: Target) -> list[str]:
    """Any trace of the target anywhere in a page: its title, address, region, year or free tag."""
    traces = [target.title, f'href="{target.path}"', target.region, f"/tags/{target.tag}", f">{target.year}<"]
    return [trace for trace in traces if trace in html]


def number_after(text: str, pattern: str) -> int:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in {text[:300]!r}"
    return int(match.group(1))


MAIN = re.compile(r"<main\b.*?</main>", re.S)


def comparable_main(html: str, url: str) -> str:
    """The page's <main> as HTML, with the requested address taken out."""
    match = MAIN.search(html)
    assert match
    return match.group(0).replace(url, "URL")


ENTRY_SUFFIXES = {"entry": "", "history": "/history", "revision": "/history/1", "compare": "/compare?from=1&to=1"}


def check_not_found(world: World, role: str, url: str, missing_url: str, target: Target) -> None:
    """A hidden page answers 404 exactly like a missing one, and shows no trace of the target.

    The requested address itself appears on the page (the sign-in link returns to it), so
    it is taken out before comparing.
    """
    status, html = world.get(role, url)
    assert status == 404
    assert leaks(html.replace(url, ""), target) == []
    missing_status, missing_html = world.get(role, missing_url)
    assert missing_status == 404
    assert comparable_main(html, url) == comparable_main(missing_html, missing_url)


def check_entry_surface(world: World, role: str, target: Target, surface: str) -> None:
    suffix = ENTRY_SUFFIXES[surface]
    if target.seen_by(role):
        status, html = world.get(role, target.path + suffix)
        assert status == 200
        assert target.title in main_of(html).text()
    else:
        check_not_found(world, role, target.path + suffix, f"/lessons/{MISSING}{suffix}", target)


def check_documents(world: World, role: str, target: Target, surface: str) -> None:
    """A lesson's documents follow the lesson: the text views, the download and the list, or 404 as if missing."""
    current, earlier = world.documents[target.visibility]
    base, missing = f"{target.path}/documents", f"/lessons/{MISSING}/documents"
    version = 1 if surface == "document-earlier" else 2
    suffix = {"document-text": f"/{current}", "document-earlier": f"/{earlier}", "document-list": ""}.get(surface)
    if surface == "document-download":
        status, body = world.get(role, f"{base}/{current}/download")
        if target.seen_by(role):
            assert (status, body.encode()) == (200, target.document_bytes(2))
        else:
            assert status == 404
            assert world.get(role, f"{missing}/{current}/download")[0] == 404
            assert "meeting, version" not in body
        return
    assert suffix is not None
    url = base + suffix
    if target.seen_by(role):
        status, html = world.get(role, url)
        assert status == 200
        main = main_of(html)
        assert target.document_title in main.text()
        assert f"{base}/{earlier}/download" in main.hrefs() or surface == "document-earlier"
        if surface != "document-list":
            assert target.document_bytes(version).decode().strip() in main.text()
    else:
        check_not_found(world, role, url, missing + suffix, target)
        assert target.document_title not in world.get(role, url)[1]


def shown_or_absent(html: str, block: Node | None, target: Target, shown: bool) -> None:
    """The target is linked from `block` when shown; when not, no trace of it is anywhere on the page."""
    if shown:
        assert block is not None
        assert target.path in block.entry_paths()
    else:
        assert leaks(html, target) == []


def check_list(world: World, role: str, target: Target) -> None:
    for kind, plural in (("lesson", "lessons"), ("paper", "meeting papers"), ("review", "reviews")):
        url = {"lesson": "/lessons", "paper": "/papers", "review": "/reviews"}[kind]
        status, html = world.get(role, url)
        assert status == 200
        main = main_of(html)
        expected = world.expected(role, kind)
        assert number_after(main.text(), rf"of (\d+) {plural}") == expected, url
        assert len(main.find_all("li", cls="kb-entry-item")) == expected, url
    _, html = world.get(role, "/lessons")
    shown_or_absent(html, main_of(html), target, target.seen_by(role))
    status, html = world.get(role, f"/lessons?tag={target.tag}")
    assert status == 200
    main = main_of(html)
    if target.seen_by(role):
        assert main.entry_paths() == [target.path]
    else:
        assert main.entry_paths() == []
        assert leaks(html, target) == []


def check_home(world: World, role: str, target: Target) -> None:
    _, html = world.get(role, "/")
    main = main_of(html)
    counts = main.one("ul", cls="kb-counts").text()
    assert number_after(counts, r"(\d+) lessons") == world.counted(role, "lesson")
    assert number_after(counts, r"(\d+) meeting papers") == world.counted(role, "paper")
    assert number_after(counts, r"(\d+) reviews") == world.counted(role, "review")
    theme_link = main.one("a", where=lambda e: e.attrs.get("href") == f"/themes/{THEME}")
    assert number_after(theme_link.parent.text(), r"\((\d+)") == world.counted(role, where=in_theme)
    shown_or_absent(html, block_after_heading(main, "Recently updated"), target, target.seen_by(role))


THEME_TAGS = {tag.slug for theme in seed.themes() if theme.slug == THEME for tag in theme.tags}


def in_theme(doc: Doc) -> bool:
    return bool(THEME_TAGS & set(doc.tags))


def has_theme_tag(doc: Doc) -> bool:
    return THEME_TAG in doc.tags


def check_theme(world: World, role: str, target: Target) -> None:
    status, html = world.get(role, f"/themes/{THEME}")
    assert status == 200
    main = main_of(html)
    expected, counted = world.expected(role, where=in_theme), world.counted(role, where=in_theme)
    # The list and its heading hold every entry the role may see; the figures beside themes and tags, published ones.
    assert number_after(main.text(), r"Entries \((\d+)\)") == expected
    assert len(main.find_all("li", cls="kb-entry-item")) == expected
    assert number_after(main.text(), r"Financial penalties \((\d+)\)") == world.counted(role, where=has_theme_tag)
    shown_or_absent(html, main, target, target.seen_by(role))
    _, html = world.get(role, "/themes")
    heading = main_of(html).one("h2", where=lambda e: e.attrs.get("id") == f"theme-{THEME}")
    assert number_after(heading.text(), r"\((\d+)") == counted
    if not target.seen_by(role):
        assert leaks(html, target) == []  # its free tag is not listed under "Other tags"


def check_tag(world: World, role: str, target: Target) -> None:
    if target.seen_by(role):
        status, html = world.get(role, f"/tags/{target.tag}")
        assert status == 200
        main = main_of(html)
        assert main.entry_paths() == [target.path]
        assert "1 entry with this tag" in main.text()
    else:
        check_not_found(world, role, f"/tags/{target.tag}", "/tags/matrix-no-such-tag", target)
    _, html = world.get(role, "/tags")
    main = main_of(html)
    links = main.find_all("a", where=lambda e: e.attrs.get("href") == f"/tags/{target.tag}")
    if target.seen_by(role) and target.visibility != "draft":
        [link] = links
        assert number_after(link.parent.text(), r"\((\d+)") == 1
    else:
        assert links == []  # the tags list counts published entries: a tag only a draft carries is not in it
    [theme_tag] = main.find_all("a", where=lambda e: e.attrs.get("href") == f"/tags/{THEME_TAG}")
    assert number_after(theme_tag.parent.text(), r"\((\d+)") == world.counted(role, where=has_theme_tag)
    status, html = world.get(role, f"/tags/{THEME_TAG}")
    assert status == 200
    main = main_of(html)
    assert len(main.find_all("li", cls="kb-entry-item")) == world.expected(role, where=has_theme_tag)
    shown_or_absent(html, main, target, target.seen_by(role))


def check_see_also(world: World, role: str, target: Target) -> None:
    """The public index lists every target under see also; a role sees only what it may."""
    status, html = world.get(role, f"/lessons/{INDEX}")
    assert status == 200
    main = main_of(html)
    expected = [t.path for t in TARGETS.values() if t.seen_by(role)]
    if expected:
        assert block_after_heading(main, "Links from this lesson").entry_paths() == expected
    shown_or_absent(html, main, target, target.seen_by(role))


def check_backlinks(world: World, role: str, target: Target) -> None:
    """Each target lists a public paper under see also; the paper's backlinks follow the rule."""
    status, html = world.get(role, f"/papers/{LINKED_PAPER}")
    assert status == 200
    related = main_of(html).one("section", cls="kb-related")
    incoming = (*BACKLINK_RELATIONS.values(), MUTUAL_SEE_ALSO)
    linking = [item for item in related.find_all("li") if any(label in item.text() for label in incoming)]
    assert len(linking) == world.expected(role, where=lambda d: LINKED_PAPER in d.links)
    paths = [path for item in linking for path in item.entry_paths()]
    assert target.path in paths if target.seen_by(role) else leaks(html, target) == []


def check_filters(world: World, role: str, target: Target) -> None:
    """A region, year or tag that only a hidden entry uses is not offered as a filter."""
    _, html = world.get(role, "/lessons")
    values = {option.attrs.get("value") for option in main_of(html).find_all("option")}
    offered = {target.region in values, target.year in values, target.tag in values}
    assert offered == {target.seen_by(role)}


def export_as(world: World, role: str) -> tuple[str, set[str]]:
    """The summary line and the files of `content export --as` the role's email, run once."""
    if role not in world.exports:
        assert world.app is not None
        assert world.export_root is not None
        out = world.export_root / role
        result = world.app.test_cli_runner().invoke(args=["content", "export", str(out), "--as", world.emails[role]])
        assert result.exit_code == 0, result.output
        files = {str(path.relative_to(out)) for path in out.rglob("*.md")}
        world.exports[role] = (result.stdout, files)
    return world.exports[role]


def check_export(world: World, role: str, target: Target) -> None:
    output, files = export_as(world, role)
    expected = world.expected(role, where=lambda d: not d.replaced)
    assert len(files) == expected
    assert f"Export finished: {expected} entries visible to" in output
    assert (f"lessons/{target.slug}.md" in files) == target.seen_by(role)
    plural = {"lesson": "lessons", "paper": "papers", "review": "reviews"}
    assert files == {f"{plural[d.kind]}/{d.slug}.md" for d in world.docs if d.seen_by(role) and not d.replaced}


# --- search ------------------------------------------------------------------------------------


def search_html(world: World, role: str, **args: str) -> str:
    status, html = world.get(role, "/search" + (f"?{urlencode(args)}" if args else ""))
    assert status == 200
    return html


def result_paths(main: Node) -> list[str]:
    """The entries the search page lists as results, in order."""
    listed = main.find("ol", cls="kb-results")
    return listed.entry_paths() if listed is not None else []


def total_shown(main: Node) -> int:
    """The total in "Showing 1 to 10 of N ...", 0 for "No results."."""
    line = main.one("p", cls="kb-result-count").text()
    return 0 if line.startswith("No ") else number_after(line, r"of (\d+) ")


def facets_shown(main: Node) -> dict[str, dict[str, int]]:
    """Each facet's values with their counts, as the search page offers them."""
    facets: dict[str, dict[str, int]] = {}
    for block in main.find_all("div", cls="kb-facet"):
        name = block.one("h3").attrs["id"].removeprefix("facet-")
        for link in block.find_all("a", cls="kb-facet__link"):
            [value] = parse_qs(urlsplit(link.attrs["href"]).query)[name]
            count = link.parent.one("span", cls="kb-facet__count") if link.parent is not None else None
            assert count is not None
            facets.setdefault(name, {})[value] = number_after(count.text(), r"^(\d+)")
    return facets


def check_search(world: World, role: str, target: Target) -> None:
    """The lesson's own word finds it, and only for those who may see it."""
    html = search_html(world, role, q=target.word)
    main = main_of(html)
    if target.seen_by(role):
        assert result_paths(main) == [target.path]
        assert total_shown(main) == 1
        assert f"<mark>{target.word}</mark>" in html  # the snippet shows where it matched
    else:
        assert result_paths(main) == []
        assert total_shown(main) == 0
        assert facets_shown(main) == {}
        assert leaks(html, target) == []


def check_search_suggestion(world: World, role: str, target: Target) -> None:
    """A misspelt word is corrected to the lesson's word only for those who may see the lesson."""
    html = search_html(world, role, q=target.misspelt)
    main = main_of(html)
    if target.seen_by(role):
        assert result_paths(main) == [target.path]
        assert target.word in main.text()
    else:
        assert result_paths(main) == []
        assert target.word not in html
        assert "Did you mean" not in html
        assert "Showing results for" not in html
        assert leaks(html, target) == []


def check_search_total(world: World, role: str, target: Target) -> None:
    """Browsing with no words counts every entry the role may see, of each kind and status."""
    main = main_of(search_html(world, role))
    assert total_shown(main) == world.expected(role)
    facets = facets_shown(main)
    kinds = {kind: world.expected(role, kind) for kind in ("lesson", "paper", "review")}
    assert facets["kind"] == {kind: count for kind, count in kinds.items() if count}
    statuses = {d.status for d in world.docs}
    expected_statuses = {s: world.expected(role, where=lambda d, s=s: d.status == s) for s in statuses}
    assert facets["status"] == {status: count for status, count in expected_statuses.items() if count}


def check_search_facets(world: World, role: str, target: Target) -> None:
    """The lesson's tag, region and year are offered, counted once, only to those who may see it."""
    main = main_of(search_html(world, role))
    facets = facets_shown(main)
    own = {"tag": target.tag, "region": facet_key(target.region), "year": target.year}
    shown = {name: facets.get(name, {}).get(value) for name, value in own.items()}
    assert shown == dict.fromkeys(own, 1 if target.seen_by(role) else None)
    assert facets["theme"][THEME] == world.expected(role, where=in_theme)
    assert facets["tag"][THEME_TAG] == world.expected(role, where=has_theme_tag)


NOWHERE_FILTERS = {"tag": "matrix-no-such-tag", "region": "matrix-no-such-region", "year": "1980"}


def check_search_filter(world: World, role: str, target: Target) -> None:
    """Filtering by the lesson's tag, region or year shows it; to others, the page for a value nobody uses."""
    own = {"tag": target.tag, "region": facet_key(target.region), "year": target.year}
    for name, value in own.items():
        html = search_html(world, role, **{name: value})
        if target.seen_by(role):
            assert result_paths(main_of(html)) == [target.path], name
            continue
        assert result_paths(main_of(html)) == [], name
        assert leaks(html, target) == [], name
        nowhere = NOWHERE_FILTERS[name]
        assert comparable_main(html, value) == comparable_main(search_html(world, role, **{name: nowhere}), nowhere)


def similar_paths(main: Node) -> list[str]:
    """The entries an entry page lists as like it: lessons elsewhere or in another year, and similar in meaning."""
    return [path for part in main.find_all(cls="kb-similar") for path in part.entry_paths()]


def check_similar(world: World, role: str, target: Target) -> None:
    """Similar lists on the public index and on the target show only what the role may see.

    The index links every target under see also, and similar lists leave out what the page
    already links, so a target is never among them there.
    """
    _, html = world.get(role, f"/lessons/{INDEX}")
    listed = similar_paths(main_of(html))
    assert target.path not in listed
    seen = {d.path for d in world.docs if d.seen_by(role)}
    assert set(listed) <= seen
    if target.seen_by(role):
        _, html = world.get(role, target.path)
        assert set(similar_paths(main_of(html))) <= seen - {target.path}


def feed_url(world: World, role: str, path: str) -> str:
    """`path` as the role reads it in a feed reader: with its personal feed token, or none when signed out."""
    if role == "anonymous":
        return path
    if role not in world.feed_tokens:
        user = db.session.scalar(select(User).where(User.email == world.emails[role]))
        assert user is not None
        was_active, user.active = user.active, True  # a token is made while the account is active
        _, world.feed_tokens[role] = issue_token(user, kind=TokenKind.FEED, name="Matrix reader")
        user.active = was_active
        db.session.commit()
    return f"{path}?{urlencode({'token': world.feed_tokens[role]})}"


def feed_paths(body: str) -> set[str]:
    feed = feedparser.parse(body)
    assert feed.bozo == 0
    return {urlsplit(item.link).path for item in feed.entries}


def check_feed(world: World, role: str, target: Target) -> None:
    """The lessons feed and the target's tag feed, read with the role's feed token: published entries it may see."""
    status, body = world.get("anonymous", feed_url(world, role, "/feeds/lessons.atom"))
    if role == "deactivated":
        assert status == 403
        assert target.title not in body
        return
    assert status == 200
    published = {d.path for d in world.docs if d.kind == "lesson" and d.status == "published" and d.seen_by(role)}
    assert feed_paths(body) == published
    status, body = world.get("anonymous", feed_url(world, role, f"/feeds/tags/{target.tag}.atom"))
    if not target.seen_by(role):
        assert status == 404
        assert leaks(body, target) == []
        return
    assert status == 200
    assert feed_paths(body) == ({target.path} if target.status == "published" else set())


def api_json(world: World, role: str, url: str) -> tuple[int, dict]:
    """The status and JSON of an API address as `role`'s signed-in browser reads it."""
    status, body = world.get(role, url)
    return status, json.loads(body)


def check_api_entry(world: World, role: str, target: Target) -> None:
    """The API's entry answers as the page does: the entry, or the very answer a missing slug gets."""
    status, body = api_json(world, role, f"/api/v1/entries/{target.slug}")
    if target.seen_by(role):
        assert (status, body["title"]) == (200, target.title)
    else:
        assert (status, body) == api_json(world, role, f"/api/v1/entries/{MISSING}")
        assert status == 404


def check_api_list(world: World, role: str, target: Target) -> None:
    """The API's lists hold as many entries of each kind as the role may list, the target among them or not."""
    for kind in ("lesson", "paper", "review"):
        slugs: list[str] = []
        url: str | None = f"/api/v1/entries?kind={kind}&limit=100"
        while url is not None:
            status, body = api_json(world, role, url)
            assert status == 200
            slugs += [item["slug"] for item in body["items"]]
            url = urlsplit(body["next"]).path + "?" + urlsplit(body["next"]).query if body["next"] else None
        # Lists leave merged duplicates out (`permissions.listed_entries`): their addresses lead to what absorbed them.
        listed = world.expected(role, kind, lambda d: d.status != EntryStatus.MERGED)
        assert len(slugs) == len(set(slugs)) == listed, kind
        if kind == "lesson":
            assert (target.slug in slugs) == target.seen_by(role)


def check_api_search(world: World, role: str, target: Target) -> None:
    """The API's search finds the lesson's own word only for those who may see it; facets count nothing else."""
    status, body = api_json(world, role, f"/api/v1/search?q={target.word}")
    assert status == 200
    slugs = [hit["entry"]["slug"] for hit in body["items"]]
    if target.seen_by(role):
        assert (slugs, body["total"]) == ([target.slug], 1)
    else:
        assert (slugs, body["total"]) == ([], 0)
        assert all(value["count"] == 0 for values in body["facets"].values() for value in values)
        assert target.title not in json.dumps(body)


SURFACES: dict[str, Callable[[World, str, Target], None]] = {
    **{
        name: (lambda surface: lambda world, role, target: check_entry_surface(world, role, target, surface))(name)
        for name in ENTRY_SUFFIXES
    },
    **{
        name: (lambda surface: lambda world, role, target: check_documents(world, role, target, surface))(name)
        for name in ("document-text", "document-earlier", "document-download", "document-list")
    },
    "list": check_list,
    "home": check_home,
    "theme": check_theme,
    "tag": check_tag,
    "see-also": check_see_also,
    "backlinks": check_backlinks,
    "filters": check_filters,
    "export": check_export,
    "search": check_search,
    "search-suggestion": check_search_suggestion,
    "search-total": check_search_total,
    "search-facets": check_search_facets,
    "search-filter": check_search_filter,
    "similar": check_similar,
    "feed": check_feed,
    "api-entry": check_api_entry,
    "api-list": check_api_list,
    "api-search": check_api_search,
}

MATRIX = [
    pytest.param(role, visibility, surface, id=f"{role}-{visibility}-{surface}")
    for role in ROLES
    for visibility in VISIBILITIES
    for surface in SURFACES
    if not (surface == "export" and role == "anonymous")  # an export is run as an account
]


@pytest.mark.parametrize(("role", "visibility", "surface"), MATRIX)
def test_visibility_matrix(world, role, visibility, surface):
    SURFACES[surface](world, role, TARGETS[visibility])


def test_the_table_is_not_trivial(world):
    """Each role sees a different set of the targets, and the seed's own restricted entries count too."""
    seen = {role: tuple(t.seen_by(role) for t in TARGETS.values()) for role in ROLES}
    assert seen["anonymous"] == seen["deactivated"] == (True, False, False, False)
    assert seen["member"] == seen["other-panel"] == (True, True, False, False)
    assert seen["panel"] == (True, True, True, False)
    assert seen["author"] == (True, True, False, True)
    assert seen["moderator"] == seen["admin"] == (True, True, True, True)
    restricted = [d for d in seed.all_documents().values() if not seed.is_public(d)]
    assert {d.visibility for d in restricted} == {"members", "panel", "draft"}
    seed_panel_papers = [d for d in restricted if d.visibility == "panel" and d.kind == "paper"]
    assert {d.review for d in seed_panel_papers} == {PANEL_REVIEWS["other-panel"]}
    papers = {role: world.expected(role, "paper") for role in ROLES}
    assert papers["other-panel"] == papers["member"] + len(seed_panel_papers) == papers["moderator"]
    assert papers["anonymous"] == papers["panel"] == papers["member"]


def test_the_matrix_catches_a_surface_that_ignores_the_rule(world, monkeypatch):
    """Break one surface (the kind counts on the home page) and the matrix check must fail."""
    import kb.entries.queries as queries

    def counts_everything(viewer):
        return dict(db.session.execute(select(Entry.kind, func.count()).group_by(Entry.kind)).all())

    monkeypatch.setattr(queries, "kind_counts", counts_everything)
    fresh = World(app=world.app, clients=world.clients, docs=world.docs)
    with pytest.raises(AssertionError):
        check_home(fresh, "anonymous", TARGETS["members"])
    monkeypatch.undo()
    check_home(World(app=world.app, clients=world.clients, docs=world.docs), "anonymous", TARGETS["members"])


@pytest.mark.parametrize("surface", ["search", "search-suggestion", "search-total", "search-facets"])
def test_the_matrix_catches_a_search_that_ignores_the_rule(world, monkeypatch, surface):
    """Drop the index's visibility filter (and the database's second check) and the search checks must fail."""
    import kb.search.visible as visible
    import kb.search.whoosh_search as whoosh_search

    monkeypatch.setattr(whoosh_search, "index_visibility_filter", lambda viewer: None)
    monkeypatch.setattr(visible, "visible_entries", lambda viewer: True)
    fresh = World(app=world.app, clients=world.clients, docs=world.docs)
    with pytest.raises(AssertionError):
        SURFACES[surface](fresh, "anonymous", TARGETS["draft"])
    monkeypatch.undo()
    SURFACES[surface](World(app=world.app, clients=world.clients, docs=world.docs), "anonymous", TARGETS["draft"])


def test_the_matrix_catches_a_feed_that_ignores_the_rule(world, monkeypatch):
    """Read feeds without the visibility rule and the feed check must fail."""
    import kb.feeds.queries as feed_queries

    monkeypatch.setattr(feed_queries, "visible_entries", lambda viewer: true())
    fresh = World(app=world.app, clients=world.clients, docs=world.docs, emails=world.emails)
    with pytest.raises(AssertionError):
        check_feed(fresh, "member", TARGETS["panel"])
    monkeypatch.undo()
    check_feed(World(app=world.app, clients=world.clients, docs=world.docs), "anonymous", TARGETS["panel"])


@pytest.mark.parametrize("surface", ["document-text", "document-download", "document-list"])
def test_the_matrix_catches_a_document_page_that_ignores_the_rule(world, monkeypatch, surface):
    """Load the entry of a document page without the visibility rule and the document checks must fail."""
    import kb.documents.routes as routes

    def any_entry(viewer, slug):
        return db.session.scalar(select(Entry).where(Entry.slug == slug))

    monkeypatch.setattr(routes, "visible_entry", any_entry)
    fresh = World(app=world.app, clients=world.clients, docs=world.docs, documents=world.documents)
    with pytest.raises(AssertionError):
        SURFACES[surface](fresh, "anonymous", TARGETS["draft"])
    monkeypatch.undo()
    fresh = World(app=world.app, clients=world.clients, docs=world.docs, documents=world.documents)
    SURFACES[surface](fresh, "anonymous", TARGETS["draft"])


def test_export_without_as_writes_every_entry(world, tmp_path):
    assert world.app is not None
    result = world.app.test_cli_runner().invoke(args=["content", "export", str(tmp_path / "all")])
    assert result.exit_code == 0, result.output
    written = [d for d in world.docs if not d.replaced]
    assert f"Export finished: {len(written)} entries written to" in result.stdout
    assert len(list((tmp_path / "all").rglob("*.md"))) == len(written)


def test_export_as_is_case_insensitive_about_the_email(world, tmp_path):
    assert world.app is not None
    result = world.app.test_cli_runner().invoke(
        args=["content", "export", str(tmp_path / "m"), "--as", "MEMBER@Example.org"]
    )
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "m").rglob("*.md"))) == world.expected("member")


def test_export_as_a_deactivated_account_says_it_is_a_signed_out_view(world):
    output, files = export_as(world, "deactivated")
    assert "deactivated, so as a signed-out reader" in output
    assert len(files) == world.expected("anonymous")


def test_export_as_an_unknown_email_is_a_clear_error(world, tmp_path):
    assert world.app is not None
    out = tmp_path / "nobody"
    result = world.app.test_cli_runner().invoke(args=["content", "export", str(out), "--as", "nobody@example.org"])
    assert result.exit_code == 2
    assert "Invalid value for '--as': no account has the email address 'nobody@example.org'" in result.output
    assert not out.exists()


# --- a finding's discussion ------------------------------------------------------------------------

TALK_WORD = "zqfindingtalk"
TALK_TITLE = "Matrix finding under discussion"
TALK_READERS = frozenset({"panel", "moderator", "admin"})
"""Those who may work on a draft finding of the `panel` role's review: its panel and staff."""


@dataclass(frozen=True)
class Talk:
    """A draft finding of the panel's review and one comment in its discussion."""

    finding_url: str
    comment_id: int
    review_path: str


@pytest.fixture(scope="module")
def talk(world: World) -> Talk:
    review = db.session.scalar(select(Review).where(Review.slug == PANEL_REVIEWS["panel"]))
    author = db.session.scalar(select(User).where(User.email == world.emails["panel"]))
    assert review is not None
    assert author is not None
    finding = create_finding(review, FindingText(TALK_TITLE, "Text.", ""), actor=author)
    body = f"The {TALK_WORD} question, @moderator and @member and @other-panel."
    comment = post_comment(review, body, actor=author, finding=finding)
    db.session.commit()
    return Talk(f"/reviews/{review.slug}/findings/{finding.number}", comment.id, review.path)


def _fetch(world: World, role: str, url: str) -> tuple[int, str, str]:
    response = world.clients[role].get(url)
    return response.status_code, response.get_data(as_text=True), response.headers.get("Location", "")


def check_talk(world: World, talk: Talk, role: str, surface: str) -> None:
    reads = role in TALK_READERS
    if surface == "finding-page":
        status, html, _ = _fetch(world, role, talk.finding_url)
        assert status == (200 if reads else 404)
        assert (TALK_WORD in html) == reads
    elif surface in ("permalink", "thread", "reply"):
        suffix = {"permalink": "", "thread": "/thread", "reply": "/reply"}[surface]
        status, html, location = _fetch(world, role, f"/comments/{talk.comment_id}{suffix}")
        if surface == "reply" and role in ("anonymous", "deactivated"):
            assert status == 302
            assert "/login" in location
        elif reads:
            assert status == 302
            assert location.split("?")[0].split("#")[0].endswith(talk.finding_url)
        else:
            assert status == 404
            assert TALK_WORD not in html
    elif surface == "review-page":
        for url in (
            talk.review_path,
            "/reviews",
            f"{talk.review_path}/comments.md",
            f"{talk.review_path}/comments.csv",
        ):
            status, html, _ = _fetch(world, role, url)
            assert TALK_WORD not in html, url
        assert 'Comments <span class="kb-muted">(0)</span>' in _fetch(world, role, talk.review_path)[1]
    elif surface == "search":
        status, html, _ = _fetch(world, role, f"/search?q={TALK_WORD}")
        assert status == 200
        assert result_paths(main_of(html)) == []
    elif surface == "notifications":
        status, html, _ = _fetch(world, role, "/notifications")
        told = role == "moderator"  # mentioned; the panel role wrote it, a non-reader is never told
        assert (TALK_TITLE in html) == told, role


TALK_SURFACES = ("finding-page", "permalink", "thread", "reply", "review-page", "search", "notifications")


@pytest.mark.parametrize(
    ("role", "surface"),
    [pytest.param(role, surface, id=f"{role}-{surface}") for role in ROLES for surface in TALK_SURFACES],
)
def test_a_finding_comment_is_seen_only_by_those_who_may_work_on_the_finding(world, talk, role, surface):
    check_talk(world, talk, role, surface)


def test_the_finding_comment_row_catches_an_address_that_ignores_the_rule(world, talk, monkeypatch):
    """Let the comment's addresses skip the finding's rule and the row must fail."""
    import kb.comments.queries as comment_queries

    monkeypatch.setattr(comment_queries, "on_panel_of", lambda viewer, entry: True)
    with pytest.raises(AssertionError):
        check_talk(world, talk, "member", "permalink")
    monkeypatch.undo()
    check_talk(world, talk, "member", "permalink")
