"""How long a failed sign-in takes for an unknown email, a wrong password, and a success.

    .venv/bin/python benchmarks/login_timing.py [--attempts 40]

An attacker must not learn which emails have accounts from how long the answer takes.
Posts the real sign-in form through the test client on a throwaway database and prints
the median and p90 of each case and the ratio of the medians (1.0 is ideal). The
machines are shared, so compare ratios rather than absolute times.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask

from kb import create_app
from kb.extensions import db
from kb.users.models import User
from kb.users.passwords import hash_password

PASSWORD = "a perfectly good passphrase"


def _timed_posts(app: Flask, email: str, password: str, attempts: int) -> list[float]:
    times = []
    for _ in range(attempts):
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        start = time.perf_counter()
        response = client.post("/login", data={"csrf_token": token, "email": email, "password": password})
        times.append(time.perf_counter() - start)
        assert response.status_code in (302, 401), response.status_code
    return times


def main() -> None:
    """Run the three cases and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--attempts", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "INSTANCE_PATH": Path(folder),
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/kb.sqlite3",
                "SECRET_KEY": "benchmark",
                "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute",
                "LOGIN_FREE_FAILURES": 100000,
            }
        )
        with app.app_context():
            member = User(email="member@example.org", display_name="Member", password_hash=hash_password(PASSWORD))
            db.session.add(member)
            db.session.commit()
        cases = {
            "unknown email": ("nobody@example.org", PASSWORD),
            "wrong password": ("member@example.org", "not the passphrase"),
            "right password": ("member@example.org", PASSWORD),
        }
        medians = {}
        for name, (email, password) in cases.items():
            times = sorted(_timed_posts(app, email, password, args.attempts))
            medians[name] = statistics.median(times)
            p90 = times[int(len(times) * 0.9) - 1]
            print(f"{name:15} median {medians[name] * 1000:7.1f} ms   p90 {p90 * 1000:7.1f} ms")
        ratio = medians["unknown email"] / medians["wrong password"]
        print(f"unknown email / wrong password, medians: {ratio:.2f}")


if __name__ == "__main__":
    main()
