"""JSON log lines and request ids (kb.logs): pure formatting, no app."""

from __future__ import annotations

import json
import logging
import re

from kb.logs import JsonFormatter, RequestIdFilter, logging_config, request_id_from


def record(name: str = "kb.search", message: str = "indexed %s entries", args: object = (3,), **extra: object):
    made = logging.LogRecord(name, logging.WARNING, __file__, 1, message, args, None)  # type: ignore[arg-type]
    made.__dict__.update(extra)
    return made


def test_a_record_is_one_line_of_json_with_time_level_logger_and_message():
    line = JsonFormatter().format(record(request_id="abc"))
    assert "\n" not in line
    fields = json.loads(line)
    assert fields["level"] == "warning"
    assert fields["logger"] == "kb.search"
    assert fields["message"] == "indexed 3 entries"
    assert fields["request_id"] == "abc"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", fields["time"])


def test_extra_fields_are_kept_and_odd_values_written_as_text():
    fields = json.loads(JsonFormatter().format(record(entry_id=7, path=object())))
    assert fields["entry_id"] == 7
    assert fields["path"].startswith("<object object")


def test_an_exception_is_written_inside_the_line():
    try:
        raise ValueError("bad index")
    except ValueError:
        import sys

        failed = record(message="failed", args=())
        failed.exc_info = sys.exc_info()
    line = JsonFormatter().format(failed)
    assert "\n" not in line
    assert "ValueError: bad index" in json.loads(line)["exception"]


def test_a_gunicorn_access_record_becomes_a_request_line():
    atoms = {
        "m": "GET",
        "U": "/lessons",
        "q": "page=2",
        "s": "200",
        "B": 5120,
        "D": 12345,
        "h": "127.0.0.1",
        "a": 'curl "quoted"',
        "{x-request-id}o": "r-1",
    }
    access = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%(h)s", (), None)
    access.args = atoms
    fields = json.loads(JsonFormatter().format(access))
    assert fields["event"] == "request"
    assert (fields["method"], fields["path"], fields["query"]) == ("GET", "/lessons", "page=2")
    assert (fields["status"], fields["bytes"], fields["duration_ms"]) == (200, 5120, 12.3)
    assert fields["request_id"] == "r-1"
    assert fields["user_agent"] == 'curl "quoted"'
    assert "message" not in fields


def test_a_feed_token_never_reaches_a_request_line():
    for query, shown in (
        ("token=kb_secret", "token=[hidden]"),
        ("q=a&token=kb_secret&tag=b", "q=a&token=[hidden]&tag=b"),
        ("mytoken=x", "mytoken=x"),
    ):
        access = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%(h)s", (), None)
        access.args = {"m": "GET", "U": "/feeds/all.atom", "q": query, "s": "200"}
        line = JsonFormatter().format(access)
        assert json.loads(line)["query"] == shown
        assert "kb_secret" not in line


def test_outside_a_request_the_filter_adds_no_id_and_keeps_the_record():
    made = record()
    assert RequestIdFilter().filter(made) is True
    assert made.request_id is None


def test_a_sensible_request_id_is_kept_and_anything_else_replaced():
    assert request_id_from("lb-7f3a.42") == "lb-7f3a.42"
    for unusable in (None, "", "two words", 'quote"', "x" * 129, "línea"):
        assert re.fullmatch(r"[0-9a-f]{32}", request_id_from(unusable))
    assert request_id_from(None) != request_id_from(None)


def test_the_configuration_sends_everything_through_the_json_formatter_and_can_leave_out_request_lines():
    config = logging_config("DEBUG", access=False)
    assert config["formatters"]["json"]["()"] is JsonFormatter
    assert config["filters"]["request_id"]["()"] is RequestIdFilter
    assert config["root"] == {"level": "DEBUG", "handlers": ["json"]}
    assert config["loggers"]["gunicorn.access"]["level"] == "CRITICAL"
    assert logging_config()["loggers"]["gunicorn.access"]["level"] == "INFO"
    assert config["handlers"]["json"]["filters"] == ["request_id"]


def request_line(path: str, query: str) -> dict:
    access = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%(h)s", (), None)
    access.args = {"m": "GET", "U": path, "q": query, "s": "200"}
    return json.loads(JsonFormatter().format(access))


def test_a_feed_token_inside_a_next_parameter_never_reaches_a_request_line():
    for query, shown in (
        ("next=%2Ffeeds%2Fall.atom%3Ftoken%3Dkb_secret", "next=%2Ffeeds%2Fall.atom%3Ftoken%3D[hidden]"),
        ("next=%2Ffeeds%2Fall.atom%3ftoken%3dkb_secret&x=1", "next=%2Ffeeds%2Fall.atom%3ftoken%3d[hidden]&x=1"),
        ("next=%2Fs.atom%3Fq%3Da%26token%3Dkb_secret%26tag%3Db", "next=%2Fs.atom%3Fq%3Da%26token%3D[hidden]%26tag%3Db"),
        ("next=%2Fsearch%3Fmytoken%3Dx", "next=%2Fsearch%3Fmytoken%3Dx"),
    ):
        assert request_line("/login", query)["query"] == shown


def test_an_emergency_sign_in_link_never_reaches_a_request_line():
    fields = request_line("/login/emergency/eyJ1Ijo0Mn0.aBcD.secret-part", "")
    assert fields["path"] == "/login/emergency/[hidden]"
    assert request_line("/login/emergency/abc.def", "next=%2F")["path"] == "/login/emergency/[hidden]"
    assert request_line("/lessons/emergency-planning", "")["path"] == "/lessons/emergency-planning"
