"""Local HTTP servers for tests: a webhook receiver, link targets, and the app itself.

Everything listens on 127.0.0.1 with a port the OS picks; nothing reaches the internet.
"""

from __future__ import annotations

import base64
import hmac
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flask import Flask
from werkzeug.serving import make_server


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


@dataclass
class Route:
    """What a path answers: a status, optional headers, optional delay before answering."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    head_status: int | None = None  # a different status for HEAD (e.g. 405)


class LocalServer:
    """A threaded HTTP server whose answers tests program per path.

    ``statuses[path]`` may hold a list of statuses answered in turn (the last one repeats), for
    "fail, then succeed" receivers. Every request is recorded, and the most requests ever in
    flight at once is kept, to check politeness.
    """

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.statuses: dict[str, list[int]] = {}
        self.received: list[Received] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.starts: list[float] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                # Recorded on arrival: a client may read its answer before this thread resumes.
                with server._arrived:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                    server.starts.append(time.monotonic())
                    server.received.append(
                        Received(
                            self.command,
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                        )
                    )
                    server._arrived.notify_all()
                try:
                    route = server.routes.get(self.path.split("?")[0], Route(status=404))
                    status = server._status_for(self.path, route, self.command)
                    if route.delay:
                        time.sleep(route.delay)
                    payload = b"" if self.command == "HEAD" else b"ok"
                    self.send_response(status)
                    for name, value in route.headers.items():
                        self.send_header(name, value.replace("{base}", server.base_url))
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if payload:
                        self.wfile.write(payload)
                finally:
                    with server._lock:
                        server.in_flight -= 1

            do_GET = do_HEAD = do_POST = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _status_for(self, path: str, route: Route, method: str) -> int:
        queue = self.statuses.get(path.split("?")[0])
        if queue:
            with self._lock:
                return queue.pop(0) if len(queue) > 1 else queue[0]
        if method == "HEAD" and route.head_status is not None:
            return route.head_status
        return route.status

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def requests_to(self, path: str, method: str | None = None) -> list[Received]:
        with self._lock:
            return [
                r
                for r in self.received
                if r.path == path and (method is None or r.method == method)
            ]

    def wait_for(self, count: int, path: str, timeout: float = 10.0) -> list[Received]:
        """Block until ``count`` requests reached ``path`` (or time runs out)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                found = [r for r in self.received if r.path == path]
                left = deadline - time.monotonic()
                if len(found) >= count or left <= 0:
                    return found
                self._arrived.wait(left)

    def start(self) -> LocalServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def local_server() -> Iterator[LocalServer]:
    server = LocalServer().start()
    try:
        yield server
    finally:
        server.stop()


# Link targets for the link checker: every kind of answer a checked URL can give.
LINK_TARGETS = {
    "/ok": Route(200),
    "/moved": Route(301, headers={"Location": "/ok"}),
    "/chain": Route(302, headers={"Location": "{base}/moved"}),
    "/missing": Route(404),
    "/broken": Route(500),
    "/slow": Route(200, delay=1.5),
    "/no-head": Route(200, head_status=405),
    "/loop": Route(301, headers={"Location": "/loop2"}),
    "/loop2": Route(301, headers={"Location": "/loop"}),
    "/to-mail": Route(302, headers={"Location": "mailto:someone@example.org"}),
}


@contextmanager
def link_target_server() -> Iterator[LocalServer]:
    """A local server answering ``LINK_TARGETS``."""
    with local_server() as server:
        server.routes.update(LINK_TARGETS)
        yield server


@contextmanager
def serve_app(app: Flask) -> Iterator[str]:
    """Serve the app with werkzeug in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def expected_signature(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    """The Standard Webhooks v1 signature, computed independently of the app's code."""
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret[len("whsec_") :])
    assert len(key) == 32
    mac = hmac.new(key, message_id.encode() + b"." + timestamp.encode() + b"." + body, "sha256")
    return "v1," + base64.b64encode(mac.digest()).decode()


def verify_delivery(secret: str, request: Received, *, tolerance: int = 300) -> None:
    """Check a delivery the way a receiver must: headers, timestamp window, signature."""
    headers = {name.lower(): value for name, value in request.headers.items()}
    message_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    assert headers["content-type"] == "application/json"
    assert timestamp.isdigit() and abs(time.time() - int(timestamp)) <= tolerance
    wanted = expected_signature(secret, message_id, timestamp, request.body)
    offered = headers["webhook-signature"].split(" ")
    assert any(hmac.compare_digest(wanted, sig) for sig in offered), (wanted, offered)


def poll(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Call ``check`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
