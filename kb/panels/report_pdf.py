"""The report as a PDF, drawn by WeasyPrint from the report's print page.

WeasyPrint fetches nothing over the network: links keep the site's addresses, and the
only files it may read are kb's own static files, taken from disk (`StaticFilesOnly`).
Anything else a page names (an image in a finding's text, say) is refused and left out.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

STATIC_PREFIX = "/static/"


class StaticFilesOnly(URLFetcher):
    """A WeasyPrint fetcher that reads kb's static files from disk and refuses every other address."""

    def __init__(self, site_root: str, static_dir: Path) -> None:
        """Serve `<site_root>static/<file>` from `static_dir`; `site_root` is the site's address ending in `/`."""
        super().__init__(allowed_protocols=())
        self._site = urlsplit(site_root)
        self._static_dir = static_dir.resolve()

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        """The static file `url` names. Raises `ValueError` for any address that is not one of them."""
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc) != (self._site.scheme, self._site.netloc):
            raise ValueError(f"the report does not fetch {url!r}")
        if not parts.path.startswith(STATIC_PREFIX):
            raise ValueError(f"the report does not fetch {url!r}")
        path = (self._static_dir / unquote(parts.path[len(STATIC_PREFIX) :])).resolve()
        if not path.is_relative_to(self._static_dir) or not path.is_file():
            raise ValueError(f"no static file at {url!r}")
        content_type = "text/css" if path.suffix == ".css" else "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})


def render_pdf(html: str, *, site_root: str, static_dir: Path) -> bytes:
    """Draw the report's print page `html` as PDF bytes; its relative links resolve against `site_root`."""
    fetcher = StaticFilesOnly(site_root, static_dir)
    pdf: bytes = HTML(string=html, base_url=site_root, url_fetcher=fetcher).write_pdf()
    return pdf
