"""Headless Chromium shows our HTML for sections holding every XSS payload: no script runs.

The payload corpus (``tests.payload_corpus``: every payload seeded alone, in its batch and in a
file of its own where it swallowed what followed, and inside list items, link texts and table
cells) is served by the app on loopback. A host page, served from loopback too with a
permissive Content-Security-Policy (so that our sanitizer is what is tested, not the browser's
CSP), embeds every batch page's ``/pages/<slug>.html`` as the page's HTML, the way a site
would, and the ``html`` of each payload's section of its own.

Before any fragment, the host page wraps ``alert``, ``prompt``, ``confirm`` and ``print`` so a
call logs a console marker with its arguments (the corpus's identifiable payloads carry a
number of their own, ``alert(9535)``) and requests a tracking URL, then shows the dialog.
Every request is routed: loopback ones are answered, any other is aborted (nothing leaves the
machine) and recorded. After the load and a short settle, with the mouse swept over the page
and focus moved, there must be no dialog, no marker, no page error, no popup, no WebSocket, no
request to the tracking URL, and no request elsewhere than for an ``<img>`` or embedded
``<iframe>`` URL present in the served HTML.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.html_safety import elements, parse
from tests.local_http import serve_app
from tests.payload_corpus import PayloadCorpus, shared_payload_corpus

pytestmark = pytest.mark.slow

MARKER = "XSS-MARKER"
TRACK = "/track"
PERMISSIVE_CSP = (
    "default-src * data: blob: 'unsafe-inline' 'unsafe-eval'; "
    "script-src * data: blob: 'unsafe-inline' 'unsafe-eval'"
)
PRELUDE = f"""<script>
(function () {{
  function mark(name, args) {{
    var text = Array.prototype.map.call(args, String).join(",");
    console.log("{MARKER} " + name + "(" + text + ")");
    new Image().src = "{TRACK}?" + encodeURIComponent(name + "(" + text + ")");
  }}
  ["alert", "prompt", "confirm", "print"].forEach(function (name) {{
    var original = window[name];
    window[name] = function () {{ mark(name, arguments); return original.apply(window, arguments); }};
  }});
}})();
</script>"""
LOOPBACK = {"127.0.0.1", "localhost", "[::1]"}


@pytest.fixture(scope="session")
def payload_corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PayloadCorpus]:
    with shared_payload_corpus(tmp_path_factory) as corpus:
        yield corpus


class HostServer:
    """Serves the host page at ``/``; records every other path asked for (answered 204)."""

    def __init__(self, page: bytes) -> None:
        self.asked: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's API)
                if self.path == "/":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Security-Policy", PERMISSIVE_CSP)
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                    return
                server.asked.append(self.path)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def fetch_fragments(base_url: str, slugs: list[str]) -> list[str]:
    """Each page's HTML fragment, over one kept-alive HTTP connection to the served app."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    fragments = []
    try:
        for slug in slugs:
            connection.request("GET", f"/pages/{slug}.html")
            response = connection.getresponse()
            body = response.read()
            assert response.status == 200, (slug, response.status)
            assert response.getheader("Content-Type") == "text/html; charset=utf-8"
            fragments.append(body.decode("utf-8"))
    finally:
        connection.close()
    return fragments


def host_page(fragments: list[str]) -> bytes:
    body = "\n".join(f"<article>{fragment}</article>" for fragment in fragments)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host</title>'
        f"{PRELUDE}</head><body>\n{body}\n</body></html>"
    ).encode()


def loadable_urls(fragments: list[str], hosts: set[str]) -> list[str]:
    """The image and embed URLs on these hosts that the served HTML itself asks for."""
    return [
        attrs["src"]
        for fragment in fragments
        if any(host in fragment for host in hosts)
        for tag, attrs in elements(parse(fragment))
        if tag in ("img", "iframe") and "src" in attrs
    ]


class Observed:
    """Everything a script could have done that the browser let us see."""

    def __init__(self) -> None:
        self.dialogs: list[str] = []
        self.markers: list[str] = []
        self.errors: list[str] = []
        self.popups: list[str] = []
        self.websockets: list[str] = []
        self.external: list[tuple[str, str, bool]] = []  # url, resource type, main frame?

    def watch(self, context: Any, page: Any) -> None:
        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        def route(route: Any) -> None:
            request = route.request
            if urlsplit(request.url).hostname in LOOPBACK:
                route.continue_()
                return
            is_main = request.frame == page.main_frame if request.is_navigation_request() else False
            self.external.append((request.url, request.resource_type, is_main))
            route.abort()

        page.on("dialog", on_dialog)
        page.on("console", lambda m: self.markers.append(m.text) if MARKER in m.text else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("websocket", lambda ws: self.websockets.append(ws.url))
        context.on("page", lambda popup: self.popups.append(popup.url))
        context.route("**/*", route)


def test_no_payload_runs_script_in_a_real_browser(
    browser: Any, payload_corpus: PayloadCorpus
) -> None:
    # Every payload stands in a batch page, a swallowed one inside the body that swallowed it;
    # the payloads seeded again alone come from their sections' html, one request per page.
    slugs = [page.slug for page in payload_corpus.pages if page.kind != "isolated"]
    with serve_app(payload_corpus.app) as base_url:
        fragments = fetch_fragments(base_url, slugs)
    alone = {page.slug for page in payload_corpus.of_kind("isolated")}
    for section in payload_corpus.sections():
        if section["page"] in alone:
            fragments.append(
                f'<section data-section="{section["slug"]}">{section["html"]}</section>'
            )
    assert len(fragments) == len(payload_corpus.pages) > 1000
    host = HostServer(host_page(fragments))
    context = browser.new_context(java_script_enabled=True, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        seen = Observed()
        seen.watch(context, page)
        page.goto(host.url, wait_until="load")
        for y in range(0, 900, 60):  # hover and focus handlers, had any survived
            page.mouse.move(640, y)
        for _ in range(5):
            page.keyboard.press("Tab")
        page.wait_for_timeout(500)

        # The page really is ours, whole, and its own script did run.
        assert page.url == host.url
        assert page.evaluate("document.querySelectorAll('article').length") == len(fragments)
        assert page.evaluate("String(window.alert).includes('mark')")
        hosts = {urlsplit(url).hostname or "" for url, _, _ in seen.external}
        allowed = set(
            page.evaluate(
                "urls => urls.map(u => { try { return new URL(u, document.baseURI).href }"
                " catch (e) { return null } })",
                loadable_urls(fragments, hosts),
            )
        )
    finally:
        context.close()
        host.stop()

    assert seen.dialogs == [], seen.dialogs[:10]
    assert seen.markers == [], seen.markers[:10]
    assert seen.errors == [], seen.errors[:10]
    assert seen.popups == [] and seen.websockets == []
    assert [path for path in host.asked if path.startswith(TRACK)] == []
    unexpected = [
        (url, kind)
        for url, kind, main in seen.external
        if main or kind not in ("image", "document") or url not in allowed
    ]
    assert unexpected == [], unexpected[:10]


def test_the_watch_sees_a_script_that_runs(browser: Any) -> None:
    """The same host page and watch, with one fragment that is not sanitized: all of it shows."""
    fragments = [
        '<section><img src="x" onerror="alert(1)"></section>',
        "<section><script>confirm(2); new Image().src = 'https://tracker.example/p';</script>"
        "<script>throw new Error('ran')</script></section>",
    ]
    host = HostServer(host_page(fragments))
    context = browser.new_context()
    try:
        page = context.new_page()
        seen = Observed()
        seen.watch(context, page)
        page.goto(host.url, wait_until="load")
        page.wait_for_timeout(300)
    finally:
        context.close()
        host.stop()
    assert sorted(seen.dialogs) == ["alert: 1", "confirm: 2"]
    assert sorted(seen.markers) == [f"{MARKER} alert(1)", f"{MARKER} confirm(2)"]
    assert seen.errors and "ran" in seen.errors[0]
    assert ("https://tracker.example/p", "image", False) in seen.external
    assert any(path.startswith(TRACK) for path in host.asked)
