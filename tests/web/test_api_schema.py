"""Schemathesis against the API's own OpenAPI document: no 5xx, and every answer as the document says.

Every operation is fuzzed with data that fits the document and with data that does not,
as a member with a read-write token (so the writes run too), once with path parameters
of schemathesis' choosing and once with a real entry, review and open consultation. The
run is seeded and bounded: a few examples per operation, so it takes well under two
minutes on each database.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from kb.access.service import issue_token
from kb.entries.models import Entry
from kb.extensions import db
from kb.states import TokenKind, TokenScope
from tests.accounts import make_cast
from tests.conftest import make_app
from tests.factories import add_comment
from tests.outcome_factory import make_consultation, make_finding

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 12
SEEN: dict[int, int] = {}
"""How many answers of each status the run saw, to show it reached the views (and their writes)."""
GENEROUS = {name: "100000 per minute" for name in ("API_LIMIT", "COMMENT_LIMIT_PER_USER", "COMMENT_LIMIT_PER_ADDRESS")}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[tuple[Flask, str, dict[str, Any]]]:
    """The seeded app with a comment, a published finding, an open consultation and a member's read-write token."""
    app = make_app(tmp_path_factory.mktemp("api-schema"), seeded_database, **GENEROUS)
    with app.app_context():
        cast = make_cast()
        lesson = db.session.scalars(select(Entry).where(Entry.kind == "lesson", Entry.visibility == "public")).first()
        assert lesson is not None
        add_comment(lesson, cast.author, "A comment to read and reply to.")
        make_finding(cast.review, status="published")
        consultation = make_consultation(cast.review, closed=False)
        _, token = issue_token(cast.member, kind=TokenKind.API, name="schemathesis", scope=TokenScope.READ_WRITE)
        db.session.commit()
        real = {"slug": lesson.slug, "consultation_id": consultation.id, "review": cast.review.slug}
    # No app context is held while schemathesis calls the app: each request gets its own, as in production.
    yield app, token, real
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _run(operation: Any, mode: GenerationMode, headers: dict[str, str], path_parameters: dict[str, Any] | None) -> None:
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case: Any) -> None:
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        SEEN[response.status_code] = SEEN.get(response.status_code, 0) + 1

    try:
        check()
    except Unsatisfiable:
        # Nothing of the operation can be made invalid (a path's only parameter is any string).
        assert mode == GenerationMode.NEGATIVE, operation.label


def _real_parameters(operation: Any, real: dict[str, Any]) -> dict[str, Any] | None:
    names = {parameter.name for parameter in operation.path_parameters}
    if not names:
        return None
    if operation.path.startswith("/reviews/"):
        return {"slug": real["review"]}
    return {name: real[name] for name in names}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["fitting", "not fitting"])
def test_every_answer_matches_the_document(api: tuple[Flask, str, dict[str, Any]], mode: GenerationMode) -> None:
    app, token, real = api
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:
        _run(operation, mode, headers, None)
        chosen = _real_parameters(operation, real)
        if chosen is not None:
            _run(operation, mode, headers, chosen)
    if mode == GenerationMode.POSITIVE:
        assert {200, 201, 400, 404} <= set(SEEN), SEEN
