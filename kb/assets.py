"""Static assets under fingerprinted names, and serving every static file.

The files pages link to (`SOURCES`, and the NHS.UK files they refer to) are copied into
`static/build/` under names that carry a hash of their content (`kb.3f2a9c1b7d.css`), with the
references between them (a stylesheet's icons, a script's imports) rewritten to the hashed
names, and gzip and brotli twins written beside each copy. The copies are made once, by
`make assets` (`python -m kb.assets`) or else at start; a process hashes the files once and,
outside production, looks at them again at most once a second, so an edited file gets a new
name. WhiteNoise serves the static folder from the WSGI layer: fingerprinted names cached for a
year as immutable, every other static file for a minute and then revalidated.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from posixpath import normpath
from typing import Any
from urllib.parse import urljoin
from wsgiref.headers import Headers

from flask import Flask, url_for
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor
from whitenoise.responders import StaticFile

log = logging.getLogger(__name__)

SOURCES = ("build/nhsuk.css", "kb.css", "print.css", "report-pdf.css", "favicon.svg", "kb.js")
"""The static files templates link to, by their name under `static/`; what they refer to follows."""
STATIC_URL = "/static/"
NHSUK_URL = "/assets/nhsuk/"
"""Where the `nhsuk_asset` endpoint serves the `nhsuk-frontend` package's files unhashed."""
BUILD_URL = STATIC_URL + "build/"
HASH_LENGTH = 10
FINGERPRINTED = re.compile(rf"^{re.escape(BUILD_URL)}.+\.[0-9a-f]{{{HASH_LENGTH}}}\.[a-z0-9]+$")
LONG_CACHE = "public, max-age=31536000, immutable"
SHORT_CACHE = "public, max-age=60"
"""Un-fingerprinted files: kept a minute, then revalidated with their ETag."""
COMPRESSIBLE = (".css", ".js", ".svg")
REFRESH_SECONDS = 1.0

_CSS_URL = re.compile(r"""url\(\s*(["']?)([^"')\s]+)\1\s*\)""")
_JS_IMPORT = re.compile(r"""(\bfrom\s*|\bimport\s*\(?\s*)(["'])([^"'\s]+)\2""")
_SOURCE_MAP = re.compile(r"//# sourceMappingURL=(\S+)")


@dataclass
class Build:
    """One build of the assets: each plain address's fingerprinted one, and the files read to make them."""

    urls: dict[str, str] = field(default_factory=dict)
    signature: tuple[tuple[str, int, int], ...] = ()


def _signature(paths: list[Path]) -> tuple[tuple[str, int, int], ...]:
    """The paths with their modification times and sizes; a missing file has zeros."""
    marks = []
    for path in paths:
        try:
            stat = path.stat()
            marks.append((str(path), stat.st_mtime_ns, stat.st_size))
        except OSError:
            marks.append((str(path), 0, 0))
    return tuple(marks)


def _hashed_name(relative: str, digest: str) -> str:
    """`nhsuk/nhsuk-frontend.min.js` -> `nhsuk/nhsuk-frontend.min.<digest>.js`."""
    head, dot, suffix = relative.rpartition(".")
    return f"{head}.{digest}.{suffix}" if dot else f"{relative}.{digest}"


def _write_once(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


class _Builder:
    """Hashes each asset after rewriting its references to the hashed names of the files it refers to."""

    def __init__(self, static_dir: Path, nhsuk_dir: Path) -> None:
        self.static_dir = static_dir
        self.build_dir = static_dir / "build"
        self.nhsuk_dir = nhsuk_dir
        self.urls: dict[str, str] = {}
        self.read: list[Path] = []
        self._visiting: set[str] = set()

    def source(self, url: str) -> tuple[Path, str] | None:
        """The file behind plain address `url` and its name under `static/build/`, or None when kb has none."""
        if url.startswith(STATIC_URL):
            relative = url[len(STATIC_URL) :]
            root, out = self.static_dir, relative.removeprefix("build/")
        elif url.startswith(NHSUK_URL):
            relative = url[len(NHSUK_URL) :]
            root, out = self.nhsuk_dir, "nhsuk/" + relative
        else:
            return None
        path = (root / relative).resolve()
        if not path.is_relative_to(root.resolve()) or not path.is_file():
            return None
        return path, out

    def visit(self, url: str) -> str | None:
        """The fingerprinted address of plain address `url`, writing its copy if missing; None when it is no file."""
        if url in self.urls:
            return self.urls[url]
        found = self.source(url)
        if found is None or url in self._visiting:
            return None
        path, out = found
        self._visiting.add(url)
        self.read.append(path)
        data = path.read_bytes()
        if path.suffix in (".css", ".js"):
            data = self._rewrite(data.decode("utf-8"), url, path.suffix).encode("utf-8")
        self._visiting.discard(url)
        name = _hashed_name(out, hashlib.sha256(data).hexdigest()[:HASH_LENGTH])
        target = self.build_dir / name
        if not target.is_file():
            if path.suffix in COMPRESSIBLE:
                # The twins first: a hashed copy on disk means its twins are there too.
                _write_once(target.with_name(target.name + ".br"), Compressor.compress_brotli(data))
                _write_once(target.with_name(target.name + ".gz"), Compressor.compress_gzip(data))
            _write_once(target, data)
        self.urls[url] = BUILD_URL + name
        return self.urls[url]

    def _rewrite(self, text: str, url: str, suffix: str) -> str:
        """`text` with each reference to an asset replaced by its fingerprinted address."""

        def hashed(reference: str) -> str:
            if reference.startswith(("data:", "#")) or "://" in reference or reference.startswith("//"):
                return reference
            return self.visit(normpath(urljoin(url, reference))) or reference

        if suffix == ".css":
            return _CSS_URL.sub(lambda m: f'url("{hashed(m.group(2))}")', text)
        text = _JS_IMPORT.sub(lambda m: f"{m.group(1)}{m.group(2)}{hashed(m.group(3))}{m.group(2)}", text)
        # Source maps stay at their plain address, beside the package's own files.
        return _SOURCE_MAP.sub(lambda m: f"//# sourceMappingURL={urljoin(url, m.group(1))}", text)


def build(static_dir: Path, nhsuk_dir: Path) -> Build:
    """Write the fingerprinted copies (and gzip and brotli twins) that are missing; return their addresses.

    Raises `OSError` when `static/build/` cannot be written.
    """
    builder = _Builder(static_dir, nhsuk_dir)
    for name in SOURCES:
        builder.visit(STATIC_URL + name)
    # A source missing now is watched too, so the build is made again when it appears.
    watched = [*builder.read, *(static_dir / name for name in SOURCES if static_dir / name not in builder.read)]
    return Build(urls=builder.urls, signature=_signature(watched))


_builds: dict[tuple[Path, Path], Build] = {}
_lock = threading.Lock()


def current_build(static_dir: Path, nhsuk_dir: Path) -> Build:
    """The build of the two folders in this process, made again only when a file it read has changed."""
    key = (static_dir, nhsuk_dir)
    with _lock:
        known = _builds.get(key)
        if known is not None and _signature([Path(p) for p, _, _ in known.signature]) == known.signature:
            return known
        try:
            _builds[key] = build(static_dir, nhsuk_dir)
        except OSError as error:
            log.warning("static assets served under their plain names: %s", error)
            _builds[key] = Build()
        return _builds[key]


class StaticFiles(WhiteNoise):
    """WhiteNoise over the static folder: kb's cache headers, and the gzip and brotli twins unless turned off."""

    def __init__(self, application: Any, static_dir: Path, *, compressed: bool, refresh: bool = False) -> None:
        """Serve `static_dir` at /static/ in front of `application`; `compressed=False` sends every file as stored.

        `refresh` (outside production) looks each file up again on every request, so an edited one is sent whole.
        """
        self.compressed = compressed
        super().__init__(application, allow_all_origins=False, autorefresh=refresh)
        self.add_files(str(static_dir), prefix=STATIC_URL)

    def get_static_file(self, path: str, url: str, stat_cache: Any = None) -> StaticFile:
        """The file at `path` served at `url`, with its type, cache and nosniff headers."""
        headers = Headers([])
        media_type = self.media_types.get_type(path)
        headers["Content-Type"] = f"{media_type}; charset=utf-8" if media_type.startswith("text/") else media_type
        headers["Cache-Control"] = LONG_CACHE if FINGERPRINTED.match(url) else SHORT_CACHE
        headers["X-Content-Type-Options"] = "nosniff"
        encodings = {"gzip": path + ".gz", "br": path + ".br"} if self.compressed else {}
        return StaticFile(path, headers.items(), stat_cache=stat_cache, encodings=encodings)


class Assets:
    """An app's fingerprinted addresses, looked at again now and then outside production."""

    def __init__(self, static_dir: Path, nhsuk_dir: Path, *, refresh: bool, server: StaticFiles) -> None:
        """Build (or reuse this process's build of) the assets; `refresh` re-checks the files at most once a second."""
        self.static_dir, self.nhsuk_dir = static_dir, nhsuk_dir
        self.refresh = refresh
        self.server = server
        self.build = current_build(static_dir, nhsuk_dir)
        self._checked = time.monotonic()
        self._serve_new()

    def url(self, filename: str) -> str:
        """The address of static file `filename` (`"kb.css"`): its fingerprinted one when it has one."""
        if self.refresh and time.monotonic() - self._checked > REFRESH_SECONDS:
            self._checked = time.monotonic()
            build = current_build(self.static_dir, self.nhsuk_dir)
            if build is not self.build:
                self.build = build
                self._serve_new()
        return self.build.urls.get(STATIC_URL + filename) or url_for("static", filename=filename)

    def _serve_new(self) -> None:
        """Let the static server know copies written after it indexed the folder."""
        for hashed in self.build.urls.values():
            if hashed not in self.server.files:
                path = self.static_dir / hashed[len(STATIC_URL) :]
                self.server.add_file_to_dictionary(hashed, str(path))


def init_app(app: Flask) -> None:
    """Serve the static folder through WhiteNoise and give templates `static_url(filename)`."""
    static_dir = Path(app.static_folder or "static")
    refresh = app.config["KB_ENV"] != "production"
    server = StaticFiles(app.wsgi_app, static_dir, compressed=app.config["COMPRESS_STATIC"], refresh=refresh)
    app.wsgi_app = server  # type: ignore[method-assign]
    assets = Assets(static_dir, Path(app.config["NHSUK_FRONTEND_DIR"]), refresh=refresh, server=server)
    app.extensions["kb_assets"] = assets
    app.jinja_env.globals["static_url"] = assets.url


def main(argv: list[str] | None = None, out: Callable[[str], Any] = print) -> int:
    """`python -m kb.assets`: write the fingerprinted copies now, so no process has to at start."""
    from kb.config import PROJECT_ROOT

    nhsuk_dir = Path(os.environ.get("NHSUK_FRONTEND_DIR") or PROJECT_ROOT / "node_modules/nhsuk-frontend/dist/nhsuk")
    result = build(PROJECT_ROOT / "static", nhsuk_dir)
    for plain, hashed in sorted(result.urls.items()):
        out(f"{plain} -> {hashed}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
