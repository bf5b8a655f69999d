"""The report's files without the app: the PDF fetcher reads only kb's static files, and HTML becomes Word structure."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader

from kb.markdown import render
from kb.panels.docx_html import plain_text, write_html
from kb.panels.report_pdf import StaticFilesOnly, render_pdf

SITE = "http://kb.example/"


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "static"
    folder.mkdir()
    (folder / "report.css").write_text("h1 { color: #005eb8; }", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("not for the report", encoding="utf-8")
    return folder


def test_the_fetcher_reads_a_static_file_from_disk(static_dir: Path) -> None:
    response = StaticFilesOnly(SITE, static_dir).fetch(f"{SITE}static/report.css")
    assert response.read() == b"h1 { color: #005eb8; }"
    assert response.content_type == "text/css"


@pytest.mark.parametrize(
    "url",
    [
        "https://fonts.example.org/font.woff2",
        "http://kb.example.evil/static/report.css",
        "https://kb.example/static/report.css",
        f"{SITE}lessons/a-lesson",
        f"{SITE}static/../secret.txt",
        f"{SITE}static/%2e%2e/secret.txt",
        f"{SITE}static/missing.css",
        "file:///etc/passwd",
        "data:text/css,h1{}",
    ],
)
def test_the_fetcher_refuses_everything_else(static_dir: Path, url: str) -> None:
    with pytest.raises(ValueError, match=r"the report does not fetch|no static file at"):
        StaticFilesOnly(SITE, static_dir).fetch(url)


def test_a_pdf_with_a_remote_image_is_drawn_without_fetching_it(
    static_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    html = (
        '<html><head><link rel="stylesheet" href="/static/report.css"></head><body><h1>Findings</h1>'
        '<p>Before <img src="http://127.0.0.1:9/never.png" alt="a chart"> after.</p></body></html>'
    )
    data = render_pdf(html, site_root=SITE, static_dir=static_dir)
    reader = PdfReader(io.BytesIO(data))
    assert "Findings" in reader.pages[0].extract_text()
    assert [item.title for item in reader.outline] == ["Findings"]
    assert "the report does not fetch 'http://127.0.0.1:9/never.png'" in caplog.text
    assert "report.css" not in caplog.text


def _paragraphs(html: str) -> list[tuple[str, str]]:
    document = docx.Document()
    write_html(document, html, site_root=SITE)
    return [(paragraph.style.name, paragraph.text) for paragraph in document.paragraphs]


def test_markdown_becomes_word_paragraphs_headings_lists_and_quotes() -> None:
    html = render(
        "Some **bold** and *slanted* text with [a lesson](/lessons/a) and <https://example.org/x>.\n\n"
        "## A heading in the text\n\n- first\n- second\n\n1. one\n2. two\n\n> Said at the meeting."
    ).html
    assert _paragraphs(html) == [
        ("Normal", "Some bold and slanted text with a lesson (http://kb.example/lessons/a) and https://example.org/x."),
        ("Heading 4", "A heading in the text"),
        ("List Bullet", "first"),
        ("List Bullet", "second"),
        ("List Number", "one"),
        ("List Number", "two"),
        ("Quote", "Said at the meeting."),
    ]


def test_runs_keep_bold_and_italic_and_a_note_marker_keeps_only_its_number() -> None:
    document = docx.Document()
    html = (
        '<p><strong>Bold</strong> <em>it</em> claim<sup class="kb-note-ref"><a href="#finding-1-note-1">1</a></sup></p>'
    )
    write_html(document, html, site_root=SITE)
    (paragraph,) = document.paragraphs
    assert paragraph.text == "Bold it claim1"
    runs = {run.text: run for run in paragraph.runs}
    assert runs["Bold"].bold is True
    assert runs["it"].italic is True
    assert runs["1"].font.superscript is True


def test_two_numbered_lists_each_count_from_one() -> None:
    document = docx.Document()
    write_html(document, "<ol><li>a</li><li>b</li></ol><p>between</p><ol><li>c</li></ol>", site_root=SITE)
    numbered = [p for p in document.paragraphs if p.style.name == "List Number"]
    ids = [p._p.pPr.numPr.numId.val for p in numbered]
    assert ids[0] == ids[1] != ids[2]


def test_plain_text_joins_the_words() -> None:
    assert plain_text("<p>The date was <em>19</em>\n March.</p>") == "The date was 19 March."
