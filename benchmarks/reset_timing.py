"""How long a password-reset request takes for an address with an account and for one without.

    .venv/bin/python benchmarks/reset_timing.py [--requests 200]

Nobody may learn which addresses have accounts from how long the answer takes. Posts the
real reset form through the test client, alternating a known and an unknown address, on
a throwaway SQLite database, with mail going to a real SMTP server on loopback (aiosmtpd,
from requirements-dev.txt). The time is taken until the response is ready, as a server
would send it; work left for after the response (the reset mail) is then let run, outside
the timing. Prints each case's median and p90, and the ratio of the medians (1.0 is ideal).
The machines are shared: compare ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask
from flask.testing import FlaskClient

from kb import create_app
from kb.extensions import db
from kb.users.models import User
from kb.users.passwords import hash_password
from tests.smtp import mail_settings, smtp_server

CASES = {"known address": "member@example.org", "unknown address": "nobody@example.org"}


def _form_token(client: FlaskClient) -> str:
    page = client.get("/account/reset").get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def _timed_post(client: FlaskClient, token: str, email: str) -> float:
    start = time.perf_counter()
    response = client.post("/account/reset", data={"csrf_token": token, "email": email}, buffered=False)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.status_code
    response.close()  # what the server does once the answer is sent: mail left for then goes now
    return elapsed


def measure(app: Flask, requests: int) -> dict[str, list[float]]:
    """Alternate the two cases `requests` times each (after a warm-up); the seconds each took."""
    clients = {name: app.test_client() for name in CASES}
    tokens = {name: _form_token(client) for name, client in clients.items()}
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for round_number in range(requests + 5):
        order = list(CASES) if round_number % 2 == 0 else list(reversed(CASES))
        for name in order:
            elapsed = _timed_post(clients[name], tokens[name], CASES[name])
            if round_number >= 5:
                times[name].append(elapsed)
    return times


def main() -> None:
    """Run both cases and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", module="aiosmtpd")  # the loopback server's own notes on AUTH
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as folder, smtp_server() as (mailbox, port):
        app = create_app(
            {
                "INSTANCE_PATH": Path(folder),
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/kb.sqlite3",
                "SEARCH_INDEX_DIR": f"{folder}/search_index",
                "SECRET_KEY": "benchmark",
                "LOGIN_LIMIT_PER_ADDRESS": "1000000 per minute",
                "FREEZE_STARTUP_OBJECTS": False,
                **mail_settings(port),
            }
        )
        with app.app_context():
            member = User(email=CASES["known address"], display_name="Member", password_hash=hash_password("x" * 20))
            db.session.add(member)
            db.session.commit()
        times = measure(app, args.requests)
        print(f"{args.requests} requests per case, alternated; {len(mailbox.messages)} reset mails delivered")
        print("| case | median | p90 |")
        print("|---|---|---|")
        medians = {}
        for name, values in times.items():
            values.sort()
            medians[name] = statistics.median(values)
            p90 = values[int(len(values) * 0.9) - 1]
            print(f"| {name} | {medians[name] * 1000:.1f} ms | {p90 * 1000:.1f} ms |")
        ratio = medians["known address"] / medians["unknown address"]
        print(f"known / unknown, medians: {ratio:.2f}")


if __name__ == "__main__":
    main()
