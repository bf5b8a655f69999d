"""Every NHS.UK class kb's pages use is in the trimmed stylesheet (`static/scss/nhsuk.scss`, built by `make assets`)."""

from __future__ import annotations

import re
from pathlib import Path

import nhsuk_frontend_jinja

from kb.config import PROJECT_ROOT

CLASS_NAME = re.compile(r"nhsuk-[a-z0-9_-]*")
SELECTOR_CLASS = re.compile(r"\.(-?[_a-zA-Z][_a-zA-Z0-9-]*)")
MACRO_IMPORT = re.compile(r"""["'](nhsuk/components/[a-z-]+)/macro\.jinja["']""")
PACKAGE = PROJECT_ROOT / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"


def _stylesheet_classes(path: Path) -> set[str]:
    """The class names in a stylesheet's selectors (declarations' addresses left out)."""
    text = re.sub(r"url\([^)]*\)", "", path.read_text(encoding="utf-8"))
    return set(SELECTOR_CLASS.findall(re.sub(r"\{[^{}]*\}", "{}", text)))


def _used_names() -> set[str]:
    """Every `nhsuk-...` name in kb's templates, code and scripts, and in the NHS.UK macros kb imports.

    A name ending in `-` is the start of names made while drawing the page (`nhsuk-tag--{{ colour }}`).
    """
    files = [*(PROJECT_ROOT / "templates").rglob("*.html"), *(PROJECT_ROOT / "kb").rglob("*.py")]
    files += [path for path in (PROJECT_ROOT / "static").glob("*.js")]
    texts = [path.read_text(encoding="utf-8") for path in files]
    macros_root = Path(nhsuk_frontend_jinja.__file__).parent / "templates"
    for component in sorted({name for text in texts for name in MACRO_IMPORT.findall(text)}):
        texts += [path.read_text(encoding="utf-8") for path in (macros_root / component).glob("*.jinja")]
    return {name for text in texts for name in CLASS_NAME.findall(text)}


def test_every_nhsuk_class_kb_uses_is_in_the_built_stylesheet() -> None:
    built = _stylesheet_classes(PROJECT_ROOT / "static" / "build" / "nhsuk.css")
    everything = _stylesheet_classes(PACKAGE / "nhsuk-frontend.css")
    used = _used_names()
    assert {"nhsuk-header", "nhsuk-card", "nhsuk-panel", "nhsuk-table", "nhsuk-u-visually-hidden"} <= used
    styled = {name for name in everything if name in used or any(name.startswith(p) for p in used if p[-1] in "-_")}
    missing = sorted(styled - built)
    assert not missing, f"add their components to static/scss/nhsuk.scss: {missing}"
    assert {"nhsuk-tag--red", "nhsuk-input--width-10", "nhsuk-fieldset__legend--m"} <= styled


def test_the_built_stylesheet_leaves_out_components_kb_does_not_use() -> None:
    built = _stylesheet_classes(PROJECT_ROOT / "static" / "build" / "nhsuk.css")
    assert not {"nhsuk-hero", "nhsuk-do-dont-list", "nhsuk-task-list", "nhsuk-u-margin-top-9"} & built
    assert len(built) < len(_stylesheet_classes(PACKAGE / "nhsuk-frontend.css")) / 1.5
