"""The Markdown renderer: features, internal links, and what hostile input turns into."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from kb.markdown import INTERNAL_LINK, Heading, LinkTarget, render, sanitise
from kb.markdown_guard import MAX_INLINE

TARGETS = {
    "known-lesson": LinkTarget("/lessons/known-lesson", "A known lesson"),
    "known-paper": LinkTarget("/papers/known-paper", "A <b>bold</b> paper & more"),
    "hidden-draft": LinkTarget("/lessons/hidden-draft", "Secret draft title", shown=False),
}


def resolve(slug: str) -> LinkTarget | None:
    return TARGETS.get(slug)


class _Collector(HTMLParser):
    """Every start tag with its attributes, to check output structurally."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def tags_of(html: str) -> list[tuple[str, dict[str, str | None]]]:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.tags


def attribute_values(html: str, attribute: str) -> list[str]:
    return [attrs[attribute] or "" for _, attrs in tags_of(html) if attribute in attrs]


SAFE_SCHEMES = ("http://", "https://", "mailto:")


def assert_only_safe_urls(html: str) -> None:
    """Every href and src is http, https, mailto or relative (no scheme at all)."""
    for url in attribute_values(html, "href") + attribute_values(html, "src"):
        lowered = url.strip().lower()
        scheme = re.match(r"^([a-z][a-z0-9+.-]*):", lowered)
        assert scheme is None or lowered.startswith(SAFE_SCHEMES), url


def assert_no_event_handlers_or_styles(html: str) -> None:
    for tag, attrs in tags_of(html):
        for name in attrs:
            assert not name.startswith("on"), (tag, name)
            assert name != "style", tag


# --- Markdown features --------------------------------------------------------


def test_plain_paragraph_and_emphasis():
    result = render("Some *emphasis* and **strong** text.")
    assert result.html == "<p>Some <em>emphasis</em> and <strong>strong</strong> text.</p>"
    assert result.headings == []
    assert result.links == []
    assert result.missing_links == []


def test_tables_with_alignment():
    html = render("| Name | Count |\n|:-----|------:|\n| one | 1 |\n| two | 2 |").html
    tags = [tag for tag, _ in tags_of(html)]
    assert tags[:2] == ["table", "thead"]
    assert tags.count("tr") == 3
    assert tags.count("th") == 2
    assert tags.count("td") == 4
    assert '<th align="left">Name</th>' in html
    assert '<td align="right">2</td>' in html


def test_fenced_code_keeps_language_class_and_escapes_contents():
    html = render("```python\nif a < b and c > d:\n    print('<b>')\n```").html
    assert '<pre><code class="language-python">' in html
    assert "if a &lt; b and c &gt; d:" in html
    assert "&lt;b&gt;" in html
    assert "<b>" not in html


def test_fenced_code_is_not_markdown():
    html = render("```\n## not a heading\n*not emphasis* [[known-lesson]]\n```", resolve).html
    assert "<h2" not in html
    assert "<em>" not in html
    assert "## not a heading" in html
    assert "[[known-lesson]]" in html


def test_footnotes_link_both_ways():
    html = render("A claim.[^1]\n\n[^1]: The source of the claim.").html
    assert '<sup id="fnref-1"><a class="footnote-ref" href="#fn-1"' in html
    assert '<li id="fn-1">' in html
    assert 'href="#fnref-1"' in html
    assert "The source of the claim." in html
    assert 'class="footnote"' in html


def test_every_in_page_link_has_a_target():
    """Footnotes with names as well as numbers: no `#anchor` link may point nowhere."""
    text = "First.[^1] Second.[^note]\n\n## A heading\n\n[^1]: One.\n[^note]: Named."
    html = render(text).html
    ids = set(attribute_values(html, "id"))
    for href in attribute_values(html, "href"):
        if href.startswith("#"):
            assert href[1:] in ids, f"{href} points at no element in {html}"


def test_heading_anchors_are_prefixed_and_listed():
    result = render("## Who met\n\nText.\n\n### The detail\n\nMore.\n\n#### Deeper\n\n##### Too deep")
    assert '<h2 id="h-who-met">Who met</h2>' in result.html
    assert '<h3 id="h-the-detail">The detail</h3>' in result.html
    assert '<h4 id="h-deeper">Deeper</h4>' in result.html
    assert result.headings == [
        Heading(2, "h-who-met", "Who met"),
        Heading(3, "h-the-detail", "The detail"),
        Heading(4, "h-deeper", "Deeper"),
    ]


def test_anchor_prefix_keeps_texts_apart():
    result = render("## Background", anchor_prefix="terms-of-reference-")
    assert '<h2 id="h-terms-of-reference-background">' in result.html
    assert result.headings == [Heading(2, "h-terms-of-reference-background", "Background")]


def test_repeated_headings_get_distinct_anchors():
    result = render("## Notes\n\n## Notes")
    anchors = [heading.anchor for heading in result.headings]
    assert len(anchors) == 2
    assert len(set(anchors)) == 2
    assert set(attribute_values(result.html, "id")) == set(anchors)


def test_heading_that_slugifies_to_nothing_still_gets_an_anchor():
    result = render("## ***")
    ids = attribute_values(result.html, "id")
    assert ids
    assert all(anchor.startswith("h-") for anchor in ids)


def test_h1_is_demoted_to_h2():
    result = render("# Title in text\n\nBody.\n\nSetext title\n============")
    assert "<h1" not in result.html
    assert '<h2 id="h-title-in-text">Title in text</h2>' in result.html
    assert '<h2 id="h-setext-title">Setext title</h2>' in result.html
    assert [heading.level for heading in result.headings] == [2, 2]


def test_heading_ids_cannot_collide_with_page_ids():
    """A heading named like a lesson section gets an `h-` id, never the page's own id."""
    html = render("## Driving event").html
    assert attribute_values(html, "id") == ["h-driving-event"]


# --- Internal links -----------------------------------------------------------


def test_internal_link_uses_title():
    result = render("See [[known-lesson]].", resolve)
    assert result.html == (
        '<p>See <a class="kb-entry-link" href="/lessons/known-lesson" rel="noopener noreferrer">A known lesson</a>.</p>'
    )
    assert result.links == ["known-lesson"]
    assert result.missing_links == []


def test_internal_link_with_own_words():
    result = render("See [[known-lesson|this lesson]].", resolve)
    assert '<a class="kb-entry-link" href="/lessons/known-lesson"' in result.html
    assert ">this lesson</a>" in result.html
    assert "A known lesson" not in result.html


def test_internal_link_titles_and_words_are_escaped():
    result = render("[[known-paper]] and [[known-lesson|<script>alert(1)</script>]]", resolve)
    assert "<b>" not in result.html
    assert "<script>" not in result.html
    assert "A &lt;b&gt;bold&lt;/b&gt; paper &amp; more" in result.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in result.html


def test_links_listed_once_each_in_order():
    result = render("[[known-paper]] [[known-lesson]] [[known-paper|again]]", resolve)
    assert result.links == ["known-paper", "known-lesson"]


def test_missing_link_is_reported_and_marked_not_dropped():
    result = render("See [[no-such-entry]] and [[gone-too|these words]].", resolve)
    assert result.missing_links == ["no-such-entry", "gone-too"]
    assert result.links == []
    assert '<span class="kb-missing-link">no-such-entry</span>' in result.html
    assert '<span class="kb-missing-link">these words</span>' in result.html
    assert "<a" not in result.html


def test_link_to_a_target_not_every_reader_may_see_shows_only_the_authors_words():
    result = render("See [[hidden-draft]] and [[hidden-draft|the draft]].", resolve)
    assert "Secret draft title" not in result.html
    assert "/lessons/hidden-draft" not in result.html
    assert '<span class="kb-restricted-link">hidden-draft</span>' in result.html
    assert '<span class="kb-restricted-link">the draft</span>' in result.html
    assert result.links == ["hidden-draft"]
    assert result.missing_links == []


def test_without_resolver_every_link_is_missing():
    result = render("[[known-lesson]]")
    assert result.missing_links == ["known-lesson"]
    assert 'class="kb-missing-link"' in result.html


def test_links_inside_code_are_not_links():
    result = render("`[[known-lesson]]`", resolve)
    assert result.links == []
    assert "<a" not in result.html


@pytest.mark.parametrize("text", ["[[Not A Slug]]", "[[under_score]]", "[[-leading]]", "[[slug|]]"])
def test_non_slug_brackets_are_left_as_text(text):
    result = render(text, resolve)
    assert result.links == []
    assert result.missing_links == []
    assert text in result.html


def test_internal_link_pattern():
    assert INTERNAL_LINK.findall("[[a-b]] [[c|d e]] [[Bad]]") == [("a-b", ""), ("c", "d e")]


# --- Hostile input ------------------------------------------------------------

HOSTILE_TEXTS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<iframe src="https://evil.example"></iframe>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](jav&#x61;script:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click]( javascript:alert(1))",
    "[click][ref]\n\n[ref]: javascript:alert(1)",
    "![pic](data:image/png;base64,iVBORw0KGgo=)",
    "[page](data:text/html;base64,PHNjcmlwdD4=)",
    "[vb](vbscript:msgbox(1))",
    "[file](file:///etc/passwd)",
    "<ftp://files.example/x>",
    '<a href="x" onclick="steal()">click</a>',
    '<a href="x" style="position:fixed;top:0">cover</a>',
    '<p id="driving-event">hijack</p>',
    '<div id="h-fake" class="nhsuk-button">x</div>',
    '[t](https://ok.example "a\\" onmouseover=\\"alert(1)")',
    '![t](https://ok.example/p.png "x\\" onerror=\\"alert(1)")',
    "<svg onload=alert(1)>",
    "<style>body { display: none }</style>",
    "<form action=https://evil.example><input name=q></form>",
    "<!-- hidden --><b onmouseover=alert(1)>x</b>",
]


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_hostile_markdown_renders_safe(text):
    html = render(text, resolve).html
    lowered = html.lower()
    for element in ("<script", "<iframe", "<svg", "<style", "<form", "<input", "<b "):
        assert element not in lowered
    assert "javascript:" not in lowered
    assert "vbscript:" not in lowered
    assert "data:" not in lowered
    assert "file:" not in lowered
    assert_only_safe_urls(html)
    assert_no_event_handlers_or_styles(html)
    for value in attribute_values(html, "id"):
        assert value.startswith(("h-", "fn-", "fnref-")), value


def test_raw_html_is_shown_as_text():
    html = render("<script>alert(1)</script>").html
    assert html == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"


def test_raw_html_ids_do_not_survive():
    html = render('<p id="driving-event">x</p>\n\n<span id="fn-1">y</span>').html
    assert attribute_values(html, "id") == []


def test_javascript_link_keeps_its_words_but_loses_its_target():
    html = render("[click me](javascript:alert(1))").html
    assert "click me" in html
    assert attribute_values(html, "href") == []


def test_link_title_with_quotes_stays_inside_the_attribute():
    html = render('[t](https://ok.example "say \\"hi\\" onmouseover=alert(1)")').html
    [(tag, attrs)] = tags_of(html)[1:]
    assert tag == "a"
    assert set(attrs) == {"href", "title", "rel"}
    assert attrs["href"] == "https://ok.example"
    assert "onmouseover" in (attrs["title"] or "")


def test_only_http_https_mailto_and_relative_links_survive():
    text = (
        "[a](http://a.example) [b](https://b.example/x?y=1) [c](mailto:someone@example.org) "
        "[d](/lessons/x) [e](#h-top) [f](../up) [g](ftp://g.example) [h](tel:123) [i](ssh://i.example)"
    )
    html = render(text).html
    assert attribute_values(html, "href") == [
        "http://a.example",
        "https://b.example/x?y=1",
        "mailto:someone@example.org",
        "/lessons/x",
        "#h-top",
        "../up",
    ]


def test_images_from_http_survive_but_not_data():
    html = render("![ok](https://img.example/a.png) ![bad](data:image/gif;base64,R0lGOD)").html
    assert attribute_values(html, "src") == ["https://img.example/a.png"]
    assert attribute_values(html, "alt") == ["ok", "bad"]


def test_links_get_noopener():
    html = render("[x](https://x.example)").html
    assert attribute_values(html, "rel") == ["noopener noreferrer"]


@pytest.mark.parametrize(
    "text",
    ["", "   ", "[[", "]]|[[", "```", "[^missing]", "| a |", "#", "<", "&", "\x00", "*" * 500],
)
def test_odd_input_never_raises(text):
    result = render(text, resolve)
    assert isinstance(result.html, str)


# --- sanitise -----------------------------------------------------------------


def test_sanitise_removes_script_and_keeps_safe_markup():
    assert sanitise("<script>alert(1)</script><p>ok <em>fine</em></p>") == "<p>ok <em>fine</em></p>"


def test_sanitise_strips_event_handlers():
    assert sanitise("<img src=x onerror=alert(1)>") == '<img src="x">'


def test_sanitise_strips_dangerous_href_and_attributes():
    html = sanitise('<a href="javascript:alert(1)" onclick="x()" style="color:red" title="t">l</a>')
    [(tag, attrs)] = tags_of(html)
    assert tag == "a"
    assert "href" not in attrs
    assert "onclick" not in attrs
    assert "style" not in attrs
    assert attrs["title"] == "t"


@pytest.mark.parametrize(
    "hostile",
    [
        '<a href="JAVASCRIPT:alert(1)">x</a>',
        '<a href="  javascript:alert(1)">x</a>',
        '<a href="jav&#x61;script:alert(1)">x</a>',
        '<a href="vbscript:msgbox(1)">x</a>',
        '<img src="data:image/png;base64,AA">',
        '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    ],
)
def test_sanitise_drops_unsafe_urls(hostile):
    html = sanitise(hostile)
    assert attribute_values(html, "href") == []
    assert attribute_values(html, "src") == []


@pytest.mark.parametrize(
    "hostile",
    [
        '<iframe src="https://x.example"></iframe>',
        "<svg onload=alert(1)></svg>",
        "<style>body{}</style>",
        "<object data=x></object>",
        "<embed src=x>",
        "<form action=x><input><button>b</button></form>",
        "<link rel=stylesheet href=x>",
        "<meta http-equiv=refresh content='0;url=x'>",
        "<base href=https://evil.example/>",
    ],
)
def test_sanitise_removes_dangerous_elements(hostile):
    html = sanitise(hostile).lower()
    for element in ("iframe", "svg", "style", "object", "embed", "form", "input", "button", "link", "meta", "base"):
        assert f"<{element}" not in html


def test_sanitise_keeps_only_kb_ids_and_classes():
    html = sanitise(
        '<p id="driving-event" class="nhsuk-button kb-note footnote">a</p>'
        '<h2 id="h-ok">b</h2><li id="fn-2">c</li><sup id="fnref-2-1">d</sup><div id="javascript">e</div>'
    )
    assert attribute_values(html, "id") == ["h-ok", "fn-2", "fnref-2-1"]
    assert attribute_values(html, "class") == ["kb-note footnote"]


def test_sanitise_drops_class_attribute_when_nothing_is_left():
    html = sanitise('<p class="nhsuk-button evil">x</p>')
    assert html == "<p>x</p>"


def test_sanitise_removes_comments_and_h1():
    html = sanitise("<!-- secret --><h1>Title</h1>")
    assert "secret" not in html
    assert "<h1" not in html
    assert "Title" in html


def test_anchor_prefix_changes_footnote_ids_but_never_the_text_of_code():
    html = render('A note[^1], again[^1], and `id="fn-1"`.\n\n[^1]: Text.', anchor_prefix="lesson-").html
    assert 'id="fnref-lesson-1"' in html
    assert 'id="fnref2-lesson-1"' in html
    assert 'href="#fn-lesson-1"' in html
    assert '<li id="fn-lesson-1">' in html
    assert '<code>id="fn-1"</code>' in html


# --- Pathological input: read as the same text, in linear time --------------------------------


@pytest.mark.parametrize("line", ["- " * 3_000 + "a", "1. " * 3_000 + "a", "> - " * 2_000 + "a"])
def test_a_line_of_thousands_of_list_or_quote_markers_renders(line):
    html = render(line).html
    assert html.count("<li>") + html.count("<blockquote>") <= 40
    assert html.rstrip().endswith(("</ul>", "</ol>", "</blockquote>"))


def test_unclosed_brackets_read_as_text_and_links_after_them_still_work():
    html = render("[ [[ ![ [^ see [the minutes](https://example.org/m) and `code [` here [").html
    assert '<a href="https://example.org/m" rel="noopener noreferrer">the minutes</a>' in html
    assert "<code>code [</code>" in html
    assert "[ [[ ![ [^ see" in html
    assert html.rstrip().endswith("here [</p>")


def test_brackets_nested_too_deep_read_as_text():
    html = render("[" * 20 + "deep words" + "]" * 20 + "(https://example.org)").html
    assert html == (
        '<p><a href="https://example.org" rel="noopener noreferrer">' + "[" * 19 + "deep words" + "]" * 19 + "</a></p>"
    )


def test_a_table_too_wide_reads_as_text():
    header = "|".join(["h"] * 150)
    html = render(f"{header}\n{'|'.join(['-'] * 150)}\n").html
    assert "<table>" not in html
    assert "h|h|h" in html


def test_beyond_the_inline_limit_the_rest_of_a_paragraph_reads_as_text_and_the_next_paragraph_is_whole():
    text = "`c` " * (MAX_INLINE + 100) + "*em*\n\n`next` [link](https://example.org) *em*"
    first, second = render(text).html.split("\n")
    assert first.count("<code>c</code>") == MAX_INLINE
    assert first.endswith("`c` " * 100 + "<em>em</em></p>")
    assert second == (
        '<p><code>next</code> <a href="https://example.org" rel="noopener noreferrer">link</a> <em>em</em></p>'
    )


def test_entities_beyond_the_inline_limit_render_as_before():
    assert render("&amp; &copy; x&y; &#64; " * MAX_INLINE).html == "<p>" + "&amp; © x&amp;y; @ " * MAX_INLINE + "</p>"
