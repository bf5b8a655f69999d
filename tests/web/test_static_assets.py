"""Static files: fingerprinted addresses in pages, a year's cache for them, compressed answers made once."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli
import pytest
from flask import Flask
from flask.testing import FlaskClient

from kb.assets import FINGERPRINTED, LONG_CACHE, SHORT_CACHE
from tests.conftest import make_app

STATIC_LINK = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def _asset_links(client: FlaskClient, path: str = "/") -> list[str]:
    return STATIC_LINK.findall(client.get(path).get_data(as_text=True))


def _stylesheet(client: FlaskClient) -> str:
    return next(link for link in _asset_links(client) if "/nhsuk." in link)


def test_pages_link_every_static_file_by_a_fingerprinted_address(client: FlaskClient) -> None:
    links = _asset_links(client)
    assert len(links) == 5, links
    assert all(FINGERPRINTED.match(link) for link in links), links
    script = next(link for link in links if link.endswith(".js"))
    imports = re.findall(r"import[^'\"]*['\"]([^'\"]+)['\"]", client.get(script).get_data(as_text=True))
    assert len(imports) == 3
    assert all(FINGERPRINTED.match(address) for address in imports), imports
    assert all(client.get(address).status_code == 200 for address in imports)
    icons = re.findall(r'url\("([^"]+\.svg)"\)', client.get(_stylesheet(client)).get_data(as_text=True))
    assert icons, "the stylesheet's icons are not referred to"
    assert all(FINGERPRINTED.match(icon) and client.get(icon).status_code == 200 for icon in icons)


def test_fingerprinted_files_are_cached_for_a_year_and_others_revalidated(client: FlaskClient) -> None:
    stylesheet = client.get(_stylesheet(client))
    assert stylesheet.status_code == 200
    assert stylesheet.headers["Cache-Control"] == LONG_CACHE == "public, max-age=31536000, immutable"
    assert stylesheet.headers["Content-Type"] == "text/css; charset=utf-8"
    assert stylesheet.headers["X-Content-Type-Options"] == "nosniff"
    plain = client.get("/static/kb.css")
    assert plain.status_code == 200
    assert plain.headers["Cache-Control"] == SHORT_CACHE
    again = client.get("/static/kb.css", headers={"If-None-Match": plain.headers["ETag"]})
    assert again.status_code == 304
    assert client.get("/assets/nhsuk/nhsuk-frontend.min.js").headers["Cache-Control"] == "public, max-age=60"


@pytest.mark.parametrize(
    "path",
    [
        "/static/build/kb.0123456789.css",
        "/static/build/nhsuk.css.deadbeef00.css",
        "/static/../kb/config.py",
        "/static/build/../../kb/config.py",
        "/static/%2e%2e/kb/config.py",
        "/static/build/nhsuk/../../../requirements.txt",
    ],
)
def test_a_wrong_hash_or_a_path_outside_static_is_not_found(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(("accepted", "encoding"), [("br", "br"), ("gzip", "gzip"), ("gzip, deflate, br", "br")])
def test_compressed_twins_are_sent_to_browsers_that_accept_them(
    client: FlaskClient, accepted: str, encoding: str
) -> None:
    address = _stylesheet(client)
    identity = client.get(address).get_data()
    answer = client.get(address, headers={"Accept-Encoding": accepted})
    assert answer.headers["Content-Encoding"] == encoding
    assert answer.headers["Vary"] == "Accept-Encoding"
    body = answer.get_data()
    assert int(answer.headers["Content-Length"]) == len(body) < len(identity) / 4
    assert (brotli.decompress(body) if encoding == "br" else gzip.decompress(body)) == identity
    assert answer.headers["ETag"]


def test_identity_without_accept_encoding_and_head_and_ranges(client: FlaskClient) -> None:
    address = _stylesheet(client)
    plain = client.get(address)
    assert "Content-Encoding" not in plain.headers
    assert plain.headers["Vary"] == "Accept-Encoding"
    file = Path(__file__).resolve().parents[2] / "static" / address.removeprefix("/static/")
    assert plain.get_data() == file.read_bytes()
    assert int(plain.headers["Content-Length"]) == file.stat().st_size
    head = client.head(address, headers={"Accept-Encoding": "br"})
    assert head.status_code == 200
    assert head.get_data() == b""
    assert head.headers["Content-Encoding"] == "br"
    assert int(head.headers["Content-Length"]) == (file.parent / (file.name + ".br")).stat().st_size
    part = client.get(address, headers={"Range": "bytes=0-9"})
    assert part.status_code == 206
    assert part.get_data() == file.read_bytes()[:10]
    assert part.headers["Content-Range"] == f"bytes 0-9/{file.stat().st_size}"


@pytest.fixture
def uncompressed_app(tmp_path: Path, seeded_database: Path) -> Flask:
    """A seeded app told that a proxy in front compresses."""
    return make_app(tmp_path, seeded_database, COMPRESS_STATIC=False)


def test_compression_can_be_left_to_a_proxy(uncompressed_app: Flask) -> None:
    with uncompressed_app.app_context():
        client = uncompressed_app.test_client()
        address = _stylesheet(client)
        answer = client.get(address, headers={"Accept-Encoding": "gzip, br"})
    assert answer.status_code == 200
    assert "Content-Encoding" not in answer.headers
    assert answer.headers["Cache-Control"] == LONG_CACHE
