"""Production settings for gunicorn: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Environment: PORT or BIND (default 127.0.0.1:8000), WEB_CONCURRENCY (processes),
GUNICORN_THREADS (threads per process), GUNICORN_TIMEOUT (seconds), GUNICORN_MAX_REQUESTS
(requests before a worker is replaced; 0: never), FORWARDED_ALLOW_IPS (read by gunicorn
itself). Command-line flags still win over this file, e.g. ``--bind 0.0.0.0:8080``.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import Any

# Loopback unless told otherwise: the service is meant to sit behind a reverse proxy, and
# platforms that set PORT (Heroku, Render, Cloud Run) expect us to listen on every interface.
if "BIND" in os.environ:
    bind = os.environ["BIND"]
elif "PORT" in os.environ:
    bind = f"0.0.0.0:{os.environ['PORT']}"
else:
    bind = "127.0.0.1:8000"

# Rendering and serialising are CPU-bound, so processes, not threads, use more cores. The cap
# keeps memory bounded on big hosts and keeps every worker's database pool (5 + 5 overflow,
# see api/config.py) under PostgreSQL's default max_connections of 100.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * (os.cpu_count() or 1) + 1, 8)))

# Threads overlap the waits on the database and on slow clients. Keep threads at or below the
# pool size (5) so a thread never queues for a connection.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))

# Under gthread, idle keep-alive connections wait in a poller without holding a thread, so a
# few seconds of reuse is cheap and spares clients and proxies a TCP handshake per request.
keepalive = 5

# A worker whose main loop stops reporting for this long is hung (a slow request does not
# count under gthread) and is replaced; on SIGTERM, in-flight requests get graceful_timeout
# to finish, so a deploy does not cut off a write.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30

# Recycle each worker after a number of requests: copy-on-write pages shared with the master
# get copied as Python touches them, and any slow leak is bounded too. Each worker's memory
# is bounded anyway (RESPONSE_CACHE_MB), and a new worker starts with an empty answer cache
# and cold query caches, so this is a safety net, not a routine: at 10,000 a busy worker
# was replaced every few seconds. The jitter keeps the workers from restarting together.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 100_000))
max_requests_jitter = max_requests // 10

# Load the app once in the master: a configuration error stops start-up once with one clear
# line instead of crash-looping every worker, and forked workers share the imported code.
preload_app = True

# The heartbeat file on tmpfs: on a disk-backed /tmp (Docker's overlay) a slow fsync can make
# gunicorn think a busy worker is hung.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# Logs go to stdout/stderr for the process manager. The access log names the client, request
# line, status, size and duration; never request headers, so Authorization secrets (and the
# basic-auth user that %(u)s would decode) stay out of the logs. Tokens never travel in URLs.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'

# Processes are managed with signals by the process manager; the runtime control socket is
# off, so two instances under one user do not contend for its default path.
control_socket_disable = True

# Behind a reverse proxy on another host, set FORWARDED_ALLOW_IPS to its address (gunicorn
# reads it) so X-Forwarded-Proto is trusted and the absolute `next` URLs say https. Only the
# proxy's address: trusting every client would let anyone claim any scheme.


def pre_fork(server: Any, worker: Any) -> None:
    """Move what the master imported out of the collector's reach before forking.

    The collector in a worker would otherwise walk, and so write to, every object inherited
    from the master, copying page after shared page into the worker (CPython's advice for
    pre-fork servers, see gc.freeze).
    """
    gc.freeze()


def post_fork(server: Any, worker: Any) -> None:
    """Drop database connections inherited from the master; forked processes must not share."""
    wsgi = sys.modules.get("wsgi")
    if wsgi is None:  # not preloaded, or another app: nothing was opened before the fork
        return
    from api.extensions import db

    with wsgi.app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
