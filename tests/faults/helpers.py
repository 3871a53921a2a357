"""The real service in a subprocess, a TCP proxy that can cut a connection, and small clients.

Everything listens on 127.0.0.1 with ports the OS picks; nothing leaves the machine.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tests.hardening.helpers import assert_problem
from tests.local_http import poll
from tests.paths import PROJECT

HOST = "127.0.0.1"


# -- talking to the service ------------------------------------------------------------------


@dataclass
class Answer:
    """One HTTP exchange as a client saw it; ``status`` 0 means the connection failed."""

    method: str
    path: str
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes
    started: float
    ended: float
    error: str = ""

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def describe(self) -> str:
        text = self.error or self.body[:300].decode("utf-8", "replace")
        return f"{self.method} {self.path} -> {self.status}: {text}"


def call(
    port: int,
    method: str,
    path: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: Any = None,
    timeout: float = 30,
) -> Answer:
    """Send one request on a fresh connection; a socket error gives an Answer with status 0."""
    payload = None if body is None else json.dumps(body).encode()
    sent = dict(headers or {})
    if payload is not None:
        sent["Content-Type"] = "application/json"
    started = time.monotonic()
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(method, path, body=payload, headers=sent)
        response = connection.getresponse()
        data = response.read()
        received = {name.lower(): value for name, value in response.getheaders()}
        return Answer(method, path, response.status, received, data, started, time.monotonic())
    except (OSError, http.client.HTTPException) as error:
        return Answer(method, path, 0, {}, b"", started, time.monotonic(), error=repr(error))
    finally:
        connection.close()


def bearer(secret: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", **headers}


def link_of(body: str) -> str:
    """The URL of the one inline link in a test edit's body."""
    found = re.search(r"\]\((\S+)\)", body)
    assert found, body
    return found.group(1)


def assert_unavailable(answer: Answer) -> None:
    """A 503 the way the contract says: problem+json with Retry-After, no internals."""
    assert answer.status == 503, answer.describe()
    assert_problem(503, answer.content_type, answer.body, what=answer.describe())
    assert "Retry-After" in {name.title() for name in answer.headers}, answer.headers
    assert b"Traceback" not in answer.body and b"psycopg" not in answer.body, answer.describe()


# -- the service under gunicorn --------------------------------------------------------------


def service_env(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a production-like service: no test flags, a real secret."""
    dropped = {"FLASK_DEBUG", "FLASK_TESTING", "BIND", "PORT", "WEB_CONCURRENCY", "DATABASE_URL"}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_urlsafe(32),
        PYTHONUNBUFFERED="1",
        **settings,
    )
    return env


def subprocess_database_url(database: Mapping[str, Any], *, port: int | None = None) -> str:
    """``DATABASE_URL`` for a service using this test session's database (and schema).

    ``port`` replaces the PostgreSQL port, to go through a proxy.
    """
    url = str(database["SQLALCHEMY_DATABASE_URI"])
    if not url.startswith("postgresql"):
        return url
    parts = urlsplit(url)
    netloc = parts.netloc
    if port is not None:
        netloc = re.sub(r":\d+$", "", netloc) + f":{port}"
    query = "&".join(
        q for q in (parts.query, f"options=-csearch_path%3D{database['TEST_SCHEMA']}") if q
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def postgres_address(database: Mapping[str, Any]) -> tuple[str, int]:
    parts = urlsplit(str(database["SQLALCHEMY_DATABASE_URI"]))
    return parts.hostname or HOST, parts.port or 5432


class Service:
    """``gunicorn -c gunicorn.conf.py wsgi:app`` in its own process group, on a free port."""

    def __init__(self, env: dict[str, str], log_path: Path, *, workers: int = 2) -> None:
        self.env = {**env, "WEB_CONCURRENCY": str(workers)}
        self.workers = workers
        self.log_path = log_path
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> Service:
        command = [sys.executable, "-m", "gunicorn", "-c", str(PROJECT / "gunicorn.conf.py")]
        command += ["--bind", f"{HOST}:0", "wsgi:app"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=PROJECT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # one killpg stops the master and its workers
            )
        listening = re.compile(rf"Listening at: http://{re.escape(HOST)}:(\d+)")

        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited at start-up:\n{self.log_tail()}")
            if not self.port:
                found = listening.search(self.log())
                self.port = int(found.group(1)) if found else 0
            return bool(self.port) and len(self.worker_pids()) == self.workers

        try:
            poll(ready, timeout=timeout, interval=0.1)
        except AssertionError:
            self.stop()
            raise
        return self

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def worker_pids(self) -> set[int]:
        """The live worker processes: the master's children."""
        if self.process is None:
            return set()
        master = self.process.pid
        try:
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        except OSError:
            return set()
        return {int(pid) for pid in children}

    def call(self, method: str, path: str, **kwargs: Any) -> Answer:
        return call(self.port, method, path, **kwargs)

    def stop(self) -> None:
        if self.process is None:
            return
        for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        with suppress(ProcessLookupError):  # a worker that outlived its master
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process = None


@contextmanager
def running_service(env: dict[str, str], log_path: Path, *, workers: int = 2) -> Iterator[Service]:
    service = Service(env, log_path, workers=workers).start()
    try:
        yield service
    finally:
        service.stop()


def process_with_socket(pids: set[int], local_port: int) -> int | None:
    """Which of ``pids`` owns the TCP socket whose local port is ``local_port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[1].endswith(f":{local_port:04X}"):
                    inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        with suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with suppress(OSError):
                    if os.readlink(fd) in inodes:
                        return pid
    return None


# -- a proxy between the service and a server, to cut and restore --------------------------


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to ``target``; ``cut`` makes the server vanish.

    A cut closes every forwarded connection (both sides see the peer hang up, as when the
    server restarts) and stops listening, so new connections are refused; ``restore`` listens
    again on the same port.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.port = 0
        self.connections = 0  # forwarded so far, to show the service really went through us

    def start(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed by cut()
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # cut while we were connecting
                    client.close()
                    upstream.close()
                    return
                self._sockets.update((client, upstream))
                self.connections += 1
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self._close(source, sink)

    def _close(self, *sockets: socket.socket) -> None:
        with self._lock:
            for sock in sockets:
                self._sockets.discard(sock)
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the pump blocked in recv
            sock.close()

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            live = list(self._sockets)
        if listener is not None:
            with suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        self._close(*live)

    def restore(self) -> None:
        self.start()

    def stop(self) -> None:
        self.cut()


@contextmanager
def proxy_to(target: tuple[str, int]) -> Iterator[TcpProxy]:
    proxy = TcpProxy(target).start()
    try:
        yield proxy
    finally:
        proxy.stop()


def closed_port() -> int:
    """A loopback port nothing listens on (the OS gave it to us, and we let it go)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])
