"""kb's templates fail on a name they were not given; the NHS.UK macros keep their optional parameters."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import Flask, render_template, render_template_string
from jinja2 import UndefinedError

TAG = '{% from "nhsuk/components/tag/macro.jinja" import tag %}'


def test_a_misspelt_variable_in_a_kb_template_fails_the_page(app: Flask) -> None:
    with app.test_request_context(), pytest.raises(UndefinedError, match="'email' is undefined"):
        render_template("auth/reset_sent.html", emial="someone@example.org")


def test_the_same_template_renders_with_the_right_name(app: Flask) -> None:
    with app.test_request_context():
        html = render_template("auth/reset_sent.html", email="someone@example.org")
    assert "If someone@example.org belongs to an account" in html


def test_a_misspelt_attribute_fails_and_is_not_printed_as_nothing(app: Flask) -> None:
    entry = SimpleNamespace(title="Triage at the front door")
    with app.test_request_context():
        assert render_template_string("<h1>{{ entry.title }}</h1>", entry=entry) == "<h1>Triage at the front door</h1>"
        with pytest.raises(UndefinedError, match="titel"):
            render_template_string("<h1>{{ entry.titel }}</h1>", entry=entry)
        with pytest.raises(UndefinedError, match="'message' is undefined"):
            render_template_string("{% if message %}<p>{{ message }}</p>{% endif %}")


def test_a_name_kb_may_leave_out_is_asked_for_with_is_defined(app: Flask) -> None:
    with app.test_request_context():
        page = "{% if message is defined and message %}<p>{{ message }}</p>{% endif %}"
        assert render_template_string(page) == ""
        assert render_template_string(page, message="Saved") == "<p>Saved</p>"


def test_an_nhsuk_macro_reads_the_nested_parameters_kb_leaves_out(app: Flask) -> None:
    # The tag macro reads params.colour, params.classes, params.id and params.attributes.
    with app.test_request_context():
        html = render_template_string(TAG + '{{ tag({"text": "Draft"}) }}')
    assert '<strong class="nhsuk-tag"' in html
    assert "Draft" in html


def test_a_misspelt_value_passed_into_an_nhsuk_macro_still_fails(app: Flask) -> None:
    with app.test_request_context(), pytest.raises(UndefinedError, match="'labl' is undefined"):
        render_template_string(TAG + '{{ tag({"text": labl}) }}', label="Draft")
