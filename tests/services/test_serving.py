"""kb under gunicorn with `gunicorn.conf.py`: two workers, JSON logs, a worker replaced, the database lost and back.

Each test starts its own gunicorn (and, for PostgreSQL, its own throwaway server) and
stops it. Waits poll with a generous deadline and assert nothing about how long they took.
"""

from __future__ import annotations

import json
import os
import signal

from tests.postgres import postgres_or_skip
from tests.serving import gunicorn, seeded_copy, wait_until
from tests.web import seed

LESSON_PATH = seed.path_of(seed.of_kind("lesson")[0])


def test_gunicorn_serves_kb_with_two_workers_and_logs_json_lines(tmp_path, seeded_database):
    with gunicorn(tmp_path, seeded_copy(tmp_path, seeded_database)) as server:
        assert len(server.workers()) == 2
        home = server.get("/")
        assert home.status == 200
        assert "kb" in home.body
        assert server.get(LESSON_PATH).status == 200
        health = server.get("/healthz", headers={"X-Request-ID": "serving-test-1"})
        assert health.status == 200
        assert health.json()["status"] == "ok"
        assert health.headers["x-request-id"] == "serving-test-1"
        assert server.get("/readyz").status == 200
        assert server.get("/no-such-page").status == 404
    assert server.process.returncode == 0, "a TERM signal stops gunicorn cleanly"
    lines = [line for line in server.log_lines() if line.strip()]
    assert [line for line in lines if not line.startswith("{")] == [], "every line is JSON, start-up included"
    records = [json.loads(line) for line in lines]
    requests = [record for record in records if record.get("event") == "request"]
    probe = [record for record in requests if record["request_id"] == "serving-test-1"]
    assert len(probe) == 1
    assert (probe[0]["method"], probe[0]["path"], probe[0]["status"]) == ("GET", "/healthz", 200)
    assert {record["status"] for record in requests} >= {200, 404}
    assert any(record["logger"] == "gunicorn.error" and "Booting worker" in record["message"] for record in records)


def test_a_worker_killed_outright_is_replaced_and_the_site_keeps_answering(tmp_path, seeded_database):
    with gunicorn(tmp_path, seeded_copy(tmp_path, seeded_database)) as server:
        first, second = server.workers()
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: first not in server.workers() and len(server.workers()) == 2, "a new worker")
        assert second in server.workers()
        for _ in range(6):
            assert server.get(LESSON_PATH).status == 200


def test_with_postgresql_stopped_pages_answer_503_then_recover_without_a_restart(tmp_path):
    postgres = postgres_or_skip(tmp_path / "postgres")
    try:
        with gunicorn(tmp_path / "site", postgres.url) as server:
            assert server.get("/").status == 200
            workers = server.workers()
            postgres.stop()
            for path in ("/", "/lessons", "/search?q=handover", "/healthz", "/readyz"):
                answer = server.get(path)
                assert answer.status == 503, path
                assert "psycopg" not in answer.body
                assert "Traceback" not in answer.body
            page = server.get("/", headers={"X-Request-ID": "outage-1"})
            assert "Sorry, the service is unavailable" in page.body
            assert page.headers["retry-after"] == "30"
            assert page.headers["x-request-id"] == "outage-1"
            postgres.start()
            wait_until(lambda: server.answers("/"), "the site to answer again")
            for path in ("/", "/lessons", "/healthz", "/readyz"):
                assert server.get(path).status == 200, path
            assert server.workers() == workers, "the same workers recovered; none had to be replaced"
        records = [json.loads(line) for line in server.log_lines() if line.startswith("{")]
        outage = [record for record in records if record.get("request_id") == "outage-1"]
        assert [record["logger"] for record in outage] == ["kb.unavailable", "gunicorn.access"]
        assert outage[0]["level"] == "error"
        assert outage[0]["message"].startswith("Database unavailable, answered 503: OperationalError")
        assert outage[1]["status"] == 503
    finally:
        postgres.remove()
