"""The examples in docs/content-format.md are real, valid content files."""

from __future__ import annotations

import re

import pytest

from kb.config import PROJECT_ROOT
from kb.content.document import parse_document, serialise_document

DOC = (PROJECT_ROOT / "docs" / "content-format.md").read_text(encoding="utf-8")
EXAMPLES = [block for block in re.findall(r"```(?:markdown|md)?\n(---\n.*?)```", DOC, flags=re.S)]


def test_the_format_document_has_an_example_of_each_kind():
    kinds = {re.search(r"^kind: (\w+)", block, flags=re.M).group(1) for block in EXAMPLES}
    assert kinds == {"lesson", "review", "paper"}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda block: re.search(r"^slug: (\S+)", block, re.M).group(1))
def test_each_example_parses_without_problems(example):
    result = parse_document(example, "docs/content-format.md")
    assert result.problems == []
    assert parse_document(serialise_document(result.document), "again.md").document == result.document
