"""gunicorn settings for serving kb in production: `gunicorn --config gunicorn.conf.py` (or `make serve`).

Every setting can be changed from the environment without editing this file:

| variable           | default                          | what                                        |
|--------------------|----------------------------------|---------------------------------------------|
| `KB_BIND`          | `127.0.0.1:8000`                 | address (or `unix:/path`) to listen on      |
| `WEB_CONCURRENCY`  | 2 x CPUs + 1                     | worker processes                            |
| `KB_THREADS`       | `1`                              | threads per worker (more than 1: gthread)   |
| `KB_TIMEOUT`       | `30`                             | seconds a request may take before its worker is replaced |
| `KB_LOG_LEVEL`     | `info`                           | level of kb's and gunicorn's logs           |
| `KB_ACCESS_LOG`    | `1`                              | `0` leaves out the one line per request     |
| `KB_PROXY_HOPS`    | `0`                              | proxies in front whose `X-Forwarded-For` is believed |
| `RATELIMIT_STORAGE_URI` | `database` here (`kb.config.PRODUCTION_DEFAULTS`) | rate-limit counters (`kb.ratelimits`) |
| `OPENBLAS_NUM_THREADS` | `1`                              | threads of numpy's matrix products in each worker |

gunicorn refuses to start when `DOCUMENT_EXTRACT_SECONDS` (default 20) does not end at least
5 seconds before `KB_TIMEOUT`: an upload waits for its document's text to be read, and a
worker still waiting at the timeout is killed.

Logs are JSON lines with the request id (`kb.logs`). The app is loaded once in the
master before the workers are forked, so migrations run once per host and the workers
share its memory; each worker then opens its own database connections. With
`SEARCH_MEANING` on, the app's start (`kb.wsgi.production_app`) also loads the embedding
model there (`kb.search.meaning.model.preload`), so every worker shares one copy of it
instead of loading its own (docs/performance.md, "Search by meaning").
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent
# Search by meaning multiplies a matrix in each worker. The workers already use every core, so
# numpy's own threads would only compete with them (docs/performance.md, "Search by meaning").
# Set before numpy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# gunicorn reads this file before it imports the app, from whatever folder it was started in.
sys.path.insert(0, str(PROJECT_ROOT))

from kb.config import document_extract_seconds, extraction_outlasts_timeout  # noqa: E402
from kb.logs import logging_config  # noqa: E402


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # Not Linux.
        return os.cpu_count() or 1


wsgi_app = "kb.wsgi:production_app()"
chdir = str(PROJECT_ROOT)
bind = [os.environ.get("KB_BIND") or "127.0.0.1:8000"]
# Sync workers: kb's requests spend their time in Python and the database, not waiting on slow clients
# (a proxy in front buffers those), so processes, not threads, use every CPU.
workers = _int("WEB_CONCURRENCY", 2 * _cpu_count() + 1)
threads = _int("KB_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("KB_TIMEOUT", 30)
_too_slow = extraction_outlasts_timeout(document_extract_seconds(os.environ), timeout)
if _too_slow:
    # SystemExit passes gunicorn's reading of this file: the message alone, on standard error, and status 1.
    raise SystemExit(f"kb cannot start: {_too_slow}")
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests (spread so they do not all restart together),
# which bounds the memory any slow leak can take.
max_requests = 5000
max_requests_jitter = 500
preload_app = True
# The runtime control socket's default path is shared by every gunicorn of the same user.
control_socket_disable = True

loglevel = os.environ.get("KB_LOG_LEVEL") or "info"
# Everything, request lines included, goes to standard error as JSON through `logconfig_dict`.
errorlog = "-"
logconfig_dict = logging_config(loglevel.upper(), access=os.environ.get("KB_ACCESS_LOG", "1") != "0")
# Let the proxy on this host say which requests came over HTTPS.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS") or "127.0.0.1,::1"


def post_fork(server: Any, worker: Any) -> None:
    """In a new worker: drop the database connections inherited from the master, without closing them for it.

    Two processes writing on one connection corrupt each other's conversation with the
    database; `close=False` leaves the master's sockets alone.
    """
    from kb.extensions import db

    app = server.app.callable
    if app is None:
        return
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
