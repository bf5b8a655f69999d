"""Fingerprinted copies of static files: names from content, references rewritten, made again on change."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import brotli
import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

from kb.assets import FINGERPRINTED, Assets, StaticFiles, build, current_build


def _site(tmp_path: Path) -> tuple[Path, Path]:
    static, nhsuk = tmp_path / "static", tmp_path / "nhsuk"
    (static / "build").mkdir(parents=True)
    (nhsuk / "assets" / "images").mkdir(parents=True)
    (nhsuk / "assets" / "images" / "arrow.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'></svg>")
    (nhsuk / "frontend.min.js").write_text("export const initAll=()=>1;//# sourceMappingURL=frontend.min.js.map")
    (static / "build" / "nhsuk.css").write_text('a{background:url("/assets/nhsuk/assets/images/arrow.svg")}' * 20)
    (static / "kb.js").write_text(
        "import { initAll } from '/assets/nhsuk/frontend.min.js'\nimport './kb-drafts.js'\n"
        "import './missing.js'\ninitAll()\n"
    )
    (static / "kb-drafts.js").write_text("export const drafts = 1\n")
    return static, nhsuk


def test_copies_are_named_by_content_and_refer_to_each_other_by_those_names(tmp_path: Path) -> None:
    static, nhsuk = _site(tmp_path)
    urls = build(static, nhsuk).urls
    assert set(urls) == {
        "/static/kb.js",
        "/static/kb-drafts.js",
        "/static/build/nhsuk.css",
        "/assets/nhsuk/frontend.min.js",
        "/assets/nhsuk/assets/images/arrow.svg",
    }
    assert all(FINGERPRINTED.match(hashed) for hashed in urls.values()), urls
    script = (static / urls["/static/kb.js"].removeprefix("/static/")).read_text()
    assert f"from '{urls['/assets/nhsuk/frontend.min.js']}'" in script
    assert f"import '{urls['/static/kb-drafts.js']}'" in script
    assert "import './missing.js'" in script
    package = (static / urls["/assets/nhsuk/frontend.min.js"].removeprefix("/static/")).read_text()
    assert package.endswith("//# sourceMappingURL=/assets/nhsuk/frontend.min.js.map")
    stylesheet = static / urls["/static/build/nhsuk.css"].removeprefix("/static/")
    assert f'url("{urls["/assets/nhsuk/assets/images/arrow.svg"]}")' in stylesheet.read_text()
    assert gzip.decompress((stylesheet.parent / (stylesheet.name + ".gz")).read_bytes()) == stylesheet.read_bytes()
    assert brotli.decompress((stylesheet.parent / (stylesheet.name + ".br")).read_bytes()) == stylesheet.read_bytes()
    assert build(static, nhsuk).urls == urls


def test_a_changed_file_gets_a_new_name_and_so_does_every_file_that_refers_to_it(tmp_path: Path) -> None:
    static, nhsuk = _site(tmp_path)
    first = current_build(static, nhsuk)
    assert current_build(static, nhsuk) is first
    drafts = static / "kb-drafts.js"
    drafts.write_text("export const drafts = 2\n")
    os.utime(drafts, ns=(drafts.stat().st_atime_ns, drafts.stat().st_mtime_ns + 10**9))
    second = current_build(static, nhsuk)
    changed = {url for url in first.urls if first.urls[url] != second.urls[url]}
    assert changed == {"/static/kb.js", "/static/kb-drafts.js"}
    assert (static / first.urls["/static/kb.js"].removeprefix("/static/")).is_file(), "old copies stay for old pages"
    (static / "print.css").write_text("a { color: red }\n")
    assert FINGERPRINTED.match(current_build(static, nhsuk).urls["/static/print.css"]), "a file that appears is seen"


def test_a_name_outside_the_folders_is_never_copied(tmp_path: Path) -> None:
    static, nhsuk = _site(tmp_path)
    (tmp_path / "secret.js").write_text("export const secret = 1\n")
    (static / "kb.js").write_text("import '../secret.js'\nimport '/assets/nhsuk/../secret.js'\n")
    urls = build(static, nhsuk).urls
    assert set(urls) == {"/static/kb.js", "/static/build/nhsuk.css", "/assets/nhsuk/assets/images/arrow.svg"}


def test_outside_production_a_page_drawn_after_an_edit_links_the_new_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    static, nhsuk = _site(tmp_path)
    server = StaticFiles(lambda environ, start_response: [], static, compressed=True)
    assets = Assets(static, nhsuk, refresh=True, server=server)
    first = assets.url("kb.js")
    assert first in server.files
    drafts = static / "kb-drafts.js"
    drafts.write_text("export const drafts = 3\n")
    os.utime(drafts, ns=(drafts.stat().st_atime_ns, drafts.stat().st_mtime_ns + 10**9))
    monkeypatch.setattr("kb.assets.REFRESH_SECONDS", 0.0)
    second = assets.url("kb.js")
    assert second != first
    assert second in server.files, "the new copy is served at once"
    assert Assets(static, nhsuk, refresh=False, server=server).url("kb.js") == second


def test_outside_production_an_edited_file_is_sent_whole_under_its_plain_name(tmp_path: Path) -> None:
    static, _ = _site(tmp_path)
    (static / "kb.css").write_text("a{}")
    server = StaticFiles(Response("page"), static, compressed=False, refresh=True)
    client = Client(server)
    assert client.get("/static/kb.css").get_data(as_text=True) == "a{}"
    (static / "kb.css").write_text("a{color:red}" * 5)
    answer = client.get("/static/kb.css")
    assert answer.get_data(as_text=True) == "a{color:red}" * 5
    assert answer.headers["Content-Length"] == str(len("a{color:red}" * 5))
