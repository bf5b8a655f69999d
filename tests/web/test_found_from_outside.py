"""Found from outside: robots.txt names the sitemap, which lists public pages only; public pages describe themselves."""

from __future__ import annotations

from xml.etree.ElementTree import fromstring

from flask.testing import FlaskClient

from kb.content.document import EntryDocument
from kb.extensions import db
from kb.users.models import User
from tests.accounts import login_as, make_user
from tests.web import seed
from tests.web.dom import parse

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
SITE = "http://127.0.0.1:5000"
"""The test apps' `SITE_URL` (the development default)."""


def hidden_documents() -> list[EntryDocument]:
    """Seed entries a signed-out reader may not see: members, panel, draft or unpublished."""
    return [document for document in seed.all_documents().values() if not seed.is_public(document)]


def test_robots_names_the_sitemap_and_keeps_crawlers_out_of_private_places(client: FlaskClient) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert f"Sitemap: {SITE}/sitemap.xml" in lines
    for prefix in ("/account", "/admin", "/search?", "/*token="):
        assert f"Disallow: {prefix}" in lines


def test_the_sitemap_lists_every_public_entry_and_nothing_hidden(client: FlaskClient) -> None:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    root = fromstring(response.data)
    assert root.tag == f"{SITEMAP}urlset"
    urls = {url.findtext(f"{SITEMAP}loc"): url.findtext(f"{SITEMAP}lastmod") for url in root}
    assert all(loc and loc.startswith(f"{SITE}/") for loc in urls)
    public = {f"{SITE}{seed.path_of(document)}" for document in seed.documents().values()}
    assert public <= set(urls)
    assert all(urls[loc] for loc in public)
    hidden = hidden_documents()
    assert hidden, "the seed holds entries a signed-out reader may not see"
    assert not {f"{SITE}{seed.path_of(document)}" for document in hidden} & set(urls)
    assert f"{SITE}/" in urls
    assert {f"{SITE}/themes/{theme.slug}" for theme in seed.themes()} <= set(urls)


def meta_of(html: str) -> dict[str, str]:
    """A page's description and Open Graph tags, by name or property."""
    head = parse(html).one("head")
    found = {}
    for tag in head.find_all("meta"):
        key = tag.attrs.get("property") or tag.attrs.get("name")
        if key in ("description",) or (key or "").startswith("og:"):
            found[key] = tag.attrs.get("content", "")
    return found


def test_a_public_lesson_describes_itself_to_link_previews(client: FlaskClient) -> None:
    document = seed.a_lesson_with_a_source_paper()
    meta = meta_of(client.get(seed.path_of(document)).get_data(as_text=True))
    assert meta["og:title"] == document.title
    assert meta["og:type"] == "article"
    assert meta["og:url"] == f"{SITE}{seed.path_of(document)}"
    assert meta["og:site_name"] == "kb"
    assert meta["description"] == meta["og:description"]
    assert meta["description"].startswith(" ".join(document.summary.split())[:100].rsplit(" ", 1)[0])


def test_an_entry_not_public_keeps_its_meta_tags_generic(client: FlaskClient) -> None:
    members = next(document for document in hidden_documents() if document.visibility == "members")
    reader = login_as(client, make_user("reader@example.org"))
    page = reader.get(seed.path_of(members))
    assert page.status_code == 200
    meta = meta_of(page.get_data(as_text=True))
    assert meta["og:title"] == "kb"
    assert meta["description"] == meta["og:description"] == "Lessons learned and consultation"
    assert "og:url" not in meta
    head = parse(page.get_data(as_text=True)).one("head")
    assert members.summary.split()[0] not in " ".join(tag.attrs.get("content", "") for tag in head.find_all("meta"))


def test_public_lists_themes_tags_and_search_describe_themselves(client: FlaskClient) -> None:
    theme = seed.themes()[0]
    for path, title in (
        ("/", None),
        ("/lessons", "Lessons"),
        (f"/themes/{theme.slug}", theme.label),
        ("/search?q=deadline", None),
    ):
        meta = meta_of(client.get(path).get_data(as_text=True))
        assert {"description", "og:title", "og:description", "og:type", "og:site_name"} <= set(meta), path
        if title is not None:
            assert meta["og:title"] == title


def test_every_page_has_one_description(client: FlaskClient) -> None:
    user = make_user("describer@example.org")
    reader = login_as(client, db.session.get(User, user.id))
    for path in ("/account", "/themes", "/consultations", "/search/help"):
        descriptions = [
            tag
            for tag in parse(reader.get(path).get_data(as_text=True)).one("head").find_all("meta")
            if tag.attrs.get("name") == "description"
        ]
        assert len(descriptions) == 1, path
