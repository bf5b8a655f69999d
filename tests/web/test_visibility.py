"""Drafts and restricted entries are invisible to an anonymous viewer, everywhere."""

from __future__ import annotations

import pytest

from tests.accounts import login_as, make_cast, make_user
from tests.conftest import import_files
from tests.web import seed
from tests.web.dom import block_after_heading, main_of

LESSON = seed.a_lesson_with_a_source_paper()
PAPER = seed.documents()[LESSON.source]
TAG = LESSON.tags[0]
THEME = next(theme for theme in seed.themes() if TAG in {tag.slug for tag in theme.tags})

SECTIONS = (
    "\n\n## Driving event\n\nA.\n\n## Lesson\n\nB.\n\n## Recommendation\n\nC.\n\n## Evidence\n\nSee [[{target}]].\n"
)

HIDDEN = {
    "lessons/secret-draft.md": (
        "---\nkind: lesson\ntitle: Secret draft lesson\nsummary: Not ready.\nstatus: draft\n"
        f"region: Hidden Region\nevent_date: 1999\ntags:\n  - {TAG}\n  - hidden-free-tag\nsource: {PAPER.slug}\n---"
        + SECTIONS.format(target=PAPER.slug)
    ),
    "papers/members-only.md": (
        "---\nkind: paper\ntitle: Members only paper\nsummary: For members.\nvisibility: members\n"
        f"tags:\n  - {TAG}\nsee_also:\n  - {LESSON.slug}\npaper_type: minutes\n---\n\nAbout [[{LESSON.slug}]].\n"
    ),
    "reviews/panel-review.md": (
        "---\nkind: review\ntitle: Panel only review\nsummary: For the panel.\nvisibility: panel\n"
        "commissioning_body: Panel body\nreview_status: in-progress\n---\n\nText.\n"
    ),
}
HIDDEN_PATHS = ["/lessons/secret-draft", "/papers/members-only", "/reviews/panel-review"]
HIDDEN_TITLES = ["Secret draft lesson", "Members only paper", "Panel only review"]
PUBLIC_PAGES = [
    "/",
    "/lessons",
    "/lessons?sort=title",
    "/lessons?page=2",
    "/papers",
    "/reviews",
    "/themes",
    f"/themes/{THEME.slug}",
    "/tags",
    f"/tags/{TAG}",
    "/tags/hidden-free-tag",
    seed.path_of(LESSON),
    seed.path_of(PAPER),
]


def import_hidden(tmp_path, files: dict[str, str]) -> None:
    import_files(tmp_path / "hidden", files)


def snapshot(client) -> dict[str, str]:
    """The main text of each public page, without its lists of similar entries.

    Similar entries are ranked with word statistics of the whole index, so a hidden entry
    can change their order (never what is listed: that is checked by the visibility
    matrix); every other part of a public page must stay exactly the same.
    """
    texts = {}
    for url in PUBLIC_PAGES:
        response = client.get(url)
        if response.status_code != 200:
            texts[url] = str(response.status_code)
            continue
        main = main_of(response.data)
        text = main.text()
        for section in main.find_all(cls="kb-similar"):
            text = text.replace(section.text(), "")
        texts[url] = text
    return texts


@pytest.fixture
def before(client) -> dict[str, str]:
    return snapshot(client)


@pytest.fixture
def hidden(seeded_app, tmp_path, before):
    import_hidden(tmp_path, HIDDEN)


@pytest.mark.parametrize("path", HIDDEN_PATHS)
@pytest.mark.parametrize("suffix", ["", "/history", "/history/1", "/compare?from=1&to=1"])
def test_hidden_entries_answer_404(client, hidden, path, suffix):
    response = client.get(path + suffix)
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    for title in HIDDEN_TITLES:
        assert title not in text


@pytest.mark.parametrize("path", HIDDEN_PATHS)
def test_hidden_entries_404_under_any_kind(client, hidden, path):
    slug = path.rsplit("/", 1)[1]
    for plural in ("lessons", "reviews", "papers"):
        assert client.get(f"/{plural}/{slug}").status_code == 404


def test_public_pages_do_not_change(client, before, hidden):
    after = snapshot(client)
    for url in PUBLIC_PAGES:
        if url == "/tags/hidden-free-tag":
            continue
        assert after[url] == before[url], url


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_hidden_titles_never_appear(client, hidden, url):
    response = client.get(url)
    text = response.get_data(as_text=True)
    for title, path in zip(HIDDEN_TITLES, HIDDEN_PATHS, strict=True):
        assert title not in text, url
        assert f'href="{path}"' not in text, url
    assert "Hidden Region" not in text
    assert ">1999<" not in text


def test_hidden_entries_are_not_counted(client, hidden):
    home = main_of(client.get("/").data).text()
    assert f"{len(seed.of_kind('lesson'))} lessons" in home
    assert f"{len(seed.of_kind('paper'))} meeting papers" in home
    assert f"{len(seed.of_kind('review'))} reviews" in home
    tag_page = main_of(client.get(f"/tags/{TAG}").data)
    assert set(tag_page.entry_paths()) == seed.paths(seed.with_tag(TAG))
    assert f"{len(seed.with_tag(TAG))} entr" in tag_page.text()
    themes = main_of(client.get("/themes").data)
    [link] = themes.find_all("a", where=lambda e: e.attrs.get("href") == f"/themes/{THEME.slug}")
    assert f"({len(seed.theme_entries(THEME))}" in link.parent.text()


def test_hidden_entries_are_not_backlinks(client, hidden):
    paper = main_of(client.get(seed.path_of(PAPER)).data)
    assert "/lessons/secret-draft" not in block_after_heading(paper, "Links to this meeting paper").entry_paths()
    lesson = main_of(client.get(seed.path_of(LESSON)).data)
    assert "/papers/members-only" not in lesson.entry_paths()


def test_hidden_free_tag_lists_nothing(client, hidden):
    response = client.get("/tags/hidden-free-tag")
    assert response.status_code in (200, 404)
    if response.status_code == 200:
        assert main_of(response.data).entry_paths() == []
    assert "/tags/hidden-free-tag" not in main_of(client.get("/tags").data).hrefs()


def test_hidden_values_are_not_filter_options(client, hidden):
    main = main_of(client.get("/lessons").data)
    values = {option.attrs.get("value") for option in main.find_all("option")}
    assert "Hidden Region" not in values
    assert "1999" not in values
    assert "hidden-free-tag" not in values


def test_hidden_review_is_not_under_way_on_home(client, hidden):
    home = main_of(client.get("/").data)
    assert "/reviews/panel-review" not in block_after_heading(home, "Reviews under way").entry_paths()


def test_public_text_does_not_reveal_a_linked_draft(seeded_app, client, tmp_path):
    """A public entry whose text links to a draft must not show the draft's title or path."""
    files = dict(HIDDEN)
    files["lessons/public-mentions-draft.md"] = (
        "---\nkind: lesson\ntitle: Public lesson that mentions a draft\nsummary: Public.\n---"
        + SECTIONS.format(target="secret-draft")
    )
    import_hidden(tmp_path, files)
    response = client.get("/lessons/public-mentions-draft")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Secret draft lesson" not in text
    assert 'href="/lessons/secret-draft"' not in text


def test_publishing_a_draft_makes_it_visible(seeded_app, client, tmp_path):
    import_hidden(tmp_path, HIDDEN)
    assert client.get("/lessons/secret-draft").status_code == 404
    published = {
        "lessons/secret-draft.md": HIDDEN["lessons/secret-draft.md"].replace("status: draft", "status: published")
    }
    import_hidden(tmp_path / "again", published)
    assert client.get("/lessons/secret-draft").status_code == 200
    assert "/lessons/secret-draft" in main_of(client.get(f"/tags/{TAG}").data).entry_paths()
    paper = main_of(client.get(seed.path_of(PAPER)).data)
    assert "/lessons/secret-draft" in block_after_heading(paper, "Links to this meeting paper").entry_paths()


def test_a_free_tag_used_only_by_hidden_entries_answers_404(seeded_app, client, tmp_path):
    draft = (
        "---\nkind: lesson\ntitle: Draft with a private tag\nsummary: Hidden.\nstatus: draft\n"
        "tags: [codename-falcon]\n---" + SECTIONS.format(target=PAPER.slug)
    )
    import_hidden(tmp_path, {"lessons/draft-with-private-tag.md": draft})
    response = client.get("/tags/codename-falcon")
    assert response.status_code == 404
    assert "Codename falcon" not in response.get_data(as_text=True)


def test_a_theme_tag_with_no_visible_entries_still_has_its_page(client):
    assert client.get("/tags/financial-penalties").status_code == 200


RESTRICTED_SEED = [document for document in seed.all_documents().values() if not seed.is_public(document)]


def test_the_seed_content_has_restricted_entries():
    assert {document.visibility for document in RESTRICTED_SEED} == {"members", "panel", "draft"}


@pytest.mark.parametrize("document", RESTRICTED_SEED, ids=lambda document: document.slug)
def test_restricted_seed_entries_are_hidden_when_signed_out(client, document):
    path = seed.path_of(document)
    for suffix in ("", "/history", "/history/1"):
        response = client.get(path + suffix)
        assert response.status_code == 404
        assert document.title not in response.get_data(as_text=True)
    for url in ("/", f"/{path.split('/')[1]}", "/themes", "/tags"):
        text = client.get(url).get_data(as_text=True)
        assert document.title not in text, url
        assert f'href="{path}"' not in text, url


def test_an_admin_sees_every_seed_entry(seeded_app, client):
    login_as(client, make_user("admin@example.org", role="admin"))
    for document in seed.all_documents().values():
        response = client.get(seed.path_of(document))
        assert response.status_code == 200, seed.path_of(document)
        assert document.title in main_of(response.data).text()


def test_an_old_revision_does_not_show_an_entry_hidden_since(seeded_app, client, tmp_path):
    lesson = "---\nkind: lesson\ntitle: Lesson that cites a paper\nsummary: S.\n---" + SECTIONS.replace("B.", "{text}")
    paper = (
        "---\nkind: paper\ntitle: Paper later restricted\nsummary: S.\nvisibility: {visibility}\n"
        "paper_type: minutes\n---\n\nText.\n"
    )
    import_hidden(
        tmp_path / "1",
        {
            "papers/later-restricted.md": paper.format(visibility="public"),
            "lessons/cites.md": lesson.format(target="later-restricted", text="First."),
        },
    )
    import_hidden(tmp_path / "2", {"lessons/cites.md": lesson.format(target="later-restricted", text="Second.")})
    import_hidden(tmp_path / "3", {"papers/later-restricted.md": paper.format(visibility="members")})
    assert client.get("/papers/later-restricted").status_code == 404
    assert "Paper later restricted" not in client.get("/lessons/cites").get_data(as_text=True)
    old = client.get("/lessons/cites/history/1")
    assert old.status_code == 200
    assert "Paper later restricted" not in old.get_data(as_text=True)


def test_restricted_pages_say_who_can_read_them(seeded_app) -> None:
    cast = make_cast()
    member = login_as(seeded_app.test_client(), cast.member)
    moderator = login_as(seeded_app.test_client(), cast.moderator)
    members_page = member.get("/lessons/good-idea-badly-implemented").get_data(as_text=True)
    panel_page = moderator.get("/papers/lessons-review-panel-evidence-to-gather").get_data(as_text=True)
    public_page = member.get("/lessons/procurement-weighted-towards-cost").get_data(as_text=True)
    assert "Members only." in members_page
    assert "Review panel only." in panel_page
    assert 'href="/reviews/nhs-111-programme-lessons-review"' in panel_page.split("kb-audience", 1)[1][:600]
    assert "kb-audience" not in public_page
