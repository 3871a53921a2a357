"""Every text field, query parameter and header fed with naughty strings and XSS payloads.

For each string the answer is either a clear 4xx (problem+json with type, title, status and a
detail, and nothing changed) or a 2xx after which the value reads back byte for byte through
GET; never a 5xx; and every HTML answer holds nothing executable (``tests.html_safety``).

The strings: every line of ``blns.txt``, the XSS lists ``xss_payloads_quick.txt``,
``XSS_Polyglots.txt`` and ``BRUTELOGIC-XSS-JS.txt`` (every other XSS payload goes through the
import path in ``tests/routes/test_payloads.py``), and ``EXTRA`` edge cases. Fields whose write
endpoints share one validator are driven through them in turn: even-numbered strings create
(``POST``), odd-numbered ones change (``PATCH``); front matter values and keys go in one write
(bisected when refused); link URLs and labels take turns too (odd and even); page titles,
checked like section titles, take every third string and the edge cases; slugs, query
parameters and headers take every string.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from api.markdown.importer import parse_page
from tests.factories import auth, make_token
from tests.hardening.helpers import assert_problem
from tests.html_safety import naughty_strings, payloads_in, problems
from tests.paths import XSS

LONG_REFERENCE = "&#" + "9" * 5000 + ";"
EXTRA = [
    "",
    "\x00",
    "nul\x00inside",
    "\ud800 lone surrogate",
    "\n",
    "two\nlines",
    "crlf\r\nline",
    "trailing newline\n",
    " padded ",
    "\u3000ideographic space\u3000",
    "&#0;",
    "[&#0;](https://x.example/)",
    "&#xD800;",
    LONG_REFERENCE,
    "x" * 5000,
    "## heading",
    "```",
    "<div>",
    "<!--",
    "{% raw %}",
    "{{ site.url }}",
    "abc\n",
    "ok-slug",
    "*",
    'W/"x"',
    "https://" + "a" * 300 + ".example/",
    "[x][" + "r" * 600 + "]\n\n[" + "r" * 600 + "]: https://x.example/",
    "a|b",
]
XSS_LISTS = ["xss_payloads_quick.txt", "XSS_Polyglots.txt", "BRUTELOGIC-XSS-JS.txt"]
STRINGS = list(
    dict.fromkeys(
        [
            *naughty_strings(),
            *(p for name in XSS_LISTS for p in payloads_in(XSS / "payloadsallthethings" / name)),
            *EXTRA,
        ]
    )
)
LINK = "https://example.org/"
# Page titles go through the same check as section titles, which take every string; the page
# adds the front matter's title and its YAML (whose values take every string in one write).
PAGE_TITLES_EVERY = 3


def sendable(text: str) -> bool:
    """Can the text travel in a URL or header at all (as UTF-8, on one line)?"""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def on_the_wire(text: str) -> str:
    """A header value as a client puts it on the wire: UTF-8 bytes, read back as latin-1."""
    return text.encode("utf-8").decode("latin-1")


def refused(response: TestResponse, what: str) -> bool:
    """False for a 2xx; True for a clear 4xx; fails on anything else."""
    status = response.status_code
    text = response.get_data(as_text=True)
    assert status < 500, f"{what}: {status} {text[:300]}"
    if status < 300:
        return False
    assert 400 <= status < 500, f"{what}: {status}"
    assert_problem(status, response.content_type, text, what=what)
    return True


def safe_html(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.mimetype == "text/html"
    issues = problems(response.get_data(as_text=True))
    assert not issues, (url, issues)


class Writer:
    """Writes with an admin token."""

    def __init__(self, app: Flask) -> None:
        self.client = app.test_client()
        self.headers = auth(make_token(app, "fuzzer", "admin"))

    def post(self, url: str, payload: dict[str, Any]) -> TestResponse:
        return self.client.post(url, json=payload, headers=self.headers)

    def get(self, url: str) -> TestResponse:
        response = self.client.get(url, headers=self.headers)
        assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
        return response

    def page(self, slug: str, title: str) -> None:
        assert self.post("/pages", {"slug": slug, "title": title}).status_code == 201

    def section(self, page: str, title: str, body: str) -> int:
        response = self.post(f"/pages/{page}/sections", {"title": title, "body": body})
        assert response.status_code == 201, response.get_json()
        return int(response.get_json()["id"])

    def every(self, path: str) -> list[dict[str, Any]]:
        """Every item of a list, following ``next``."""
        items: list[dict[str, Any]] = []
        url: str | None = f"{path}?limit=200"
        while url:
            answer = self.get(url).get_json()
            items += answer["data"]
            url = answer["next"]
        return items


class Tracked:
    """One resource changed string after string: its state and ETag as last read by GET."""

    def __init__(self, writer: Writer, url: str) -> None:
        self.writer, self.url = writer, url
        self.read()

    def read(self) -> dict[str, Any]:
        response = self.writer.get(self.url)
        self.state, self.etag = response.get_json(), response.headers["ETag"]
        return self.state

    def patch(self, payload: dict[str, Any], what: str) -> bool:
        """Send a change; True when taken (then read back), False when refused.

        A refusal must change nothing: the ETag sent next would then be stale, and a 412 fails
        the test; ``unchanged`` checks the state itself at the end.
        """
        headers = {**self.writer.headers, "If-Match": self.etag}
        response = self.writer.client.patch(self.url, json=payload, headers=headers)
        assert response.status_code != 412, f"{what}: an earlier refused write changed it"
        if refused(response, what):
            return False
        self.read()
        return True

    def unchanged(self) -> None:
        """Nothing changed since the last read (the last write taken)."""
        before = self.state
        assert self.read() == before


@pytest.fixture
def writer(app: Flask) -> Writer:
    return Writer(app)


def numbered(*, parity: int | None = None, every: int = 1) -> Iterator[tuple[int, str]]:
    """The strings with their numbers: all, the even or odd ones, or each ``every``-th pair
    (and every ``EXTRA`` edge case)."""
    for number, text in enumerate(STRINGS):
        if parity is not None and number % 2 != parity:
            continue
        if number // 2 % every == 0 or text in EXTRA:
            yield number, text


def test_the_strings_include_what_breaks_databases_and_markdown() -> None:
    assert len(STRINGS) > 550
    assert "\x00" in STRINGS and LONG_REFERENCE in STRINGS and "```" in STRINGS
    assert any("<script" in text.lower() for text in STRINGS)


# --- pages ------------------------------------------------------------------------------------


def test_page_titles_and_front_matter_values(writer: Writer) -> None:
    created: dict[str, dict[str, Any]] = {}
    for number, text in numbered(parity=0, every=PAGE_TITLES_EVERY):  # POST /pages
        slug = f"n-{number}"
        what = f"POST /pages title/front matter {text!r}"[:200]
        tries = [
            {"title": text, "front_matter": {"description": text}},
            {"title": f"Page {number}", "front_matter": {"description": text}},
            {"title": text},
        ]
        for fields in tries:
            if not refused(writer.post("/pages", {"slug": slug, **fields}), what):
                created[slug] = fields
                break
    pages = {page["slug"]: page for page in writer.every("/pages")}
    for slug, fields in created.items():
        page = pages[slug]
        assert page["title"] == page["front_matter"]["title"] == fields["title"], slug
        description = fields.get("front_matter", {}).get("description")
        assert page["front_matter"].get("description") == description, slug
    writer.page("target", "Target")
    target = Tracked(writer, "/pages/target")
    for _, text in numbered(parity=1, every=PAGE_TITLES_EVERY):  # PATCH /pages/<slug>
        what = f"PATCH /pages title {text!r}"[:200]
        if target.patch({"title": text}, what):
            assert target.state["title"] == target.state["front_matter"]["title"] == text, what
    target.unchanged()


def test_page_slugs(writer: Writer) -> None:
    for _, text in numbered():
        what = f"POST /pages slug {text!r}"[:200]
        if not refused(writer.post("/pages", {"slug": text, "title": "Slug"}), what):
            assert writer.get(f"/pages/{quote(text, safe='')}").get_json()["slug"] == text, what


def settle(send: Callable[[dict[str, Any]], TestResponse], items: list[tuple[str, Any]]) -> int:
    """Send the items as one front matter; when refused, halve until each refusal is alone.

    Returns how many items were refused one by one (each a clear 4xx).
    """
    response = send(dict(items))
    if not refused(response, f"front matter {items[:3]!r}..."[:200]):
        return 0
    if len(items) == 1:
        return 1
    middle = len(items) // 2
    return settle(send, items[:middle]) + settle(send, items[middle:])


@pytest.mark.parametrize("where", ["values", "keys"])
def test_front_matter_reads_back_and_exports_as_it_was_stored(writer: Writer, where: str) -> None:
    writer.page("fm", "Front matter")
    page = Tracked(writer, "/pages/fm")
    accepted: list[dict[str, Any]] = []

    def send(front_matter: dict[str, Any]) -> TestResponse:
        headers = {**writer.headers, "If-Match": page.etag}
        response = writer.client.patch(
            page.url, json={"front_matter": front_matter}, headers=headers
        )
        assert response.status_code != 412, "a refused write changed the page"
        if response.status_code == 200:
            assert page.read()["front_matter"] == front_matter
            markdown = writer.get("/pages/fm.md").get_data(as_text=True)
            assert parse_page(markdown).front_matter == front_matter, "export changes it"
            accepted.append(front_matter)
        return response

    if where == "values":
        items = [(f"k{number}", text) for number, text in numbered()]
    else:
        items = [(text, number) for number, text in numbered()]
    refusals = settle(send, items)
    assert refusals < len(items) // 10 and accepted


# --- sections ---------------------------------------------------------------------------------


def check_section(
    writer: Writer, section: dict[str, Any], expected: dict[str, str], what: str, *, alone: bool
) -> None:
    """The values read back, and safe HTML: the html field, and the fragment when ``alone``
    (its heading shows the title; the others are seen in their page's fragment)."""
    for name, value in expected.items():
        assert section[name] == value, (what, name, section[name])
    assert not problems(section["html"]), (what, problems(section["html"]))
    if alone:
        safe_html(writer.client, f"/sections/{section['id']}.html")


def test_section_titles_and_bodies(writer: Writer) -> None:
    pages = [f"s-{n}" for n in range(len(STRINGS) // 10 + 1)]
    for slug in pages:
        writer.page(slug, f"Sections {slug}")
    created: dict[int, dict[str, str]] = {}
    for number, text in numbered(parity=0):  # POST /pages/<slug>/sections
        what = f"POST section {text!r}"[:200]
        tries = [{"title": text, "body": text}, {"title": f"S {number}", "body": text}]
        tries.append({"title": text, "body": ""})
        for payload in tries:
            response = writer.post(f"/pages/{pages[number // 10]}/sections", payload)
            if not refused(response, what):
                created[response.get_json()["id"]] = payload
                if payload["title"] == text and payload["body"] == text:
                    break
    sections = {section["id"]: section for section in writer.every("/sections")}
    for section_id, payload in created.items():
        what = f"POST section {payload!r}"[:200]
        check_section(writer, sections[section_id], payload, what, alone=False)
    for slug in pages:
        safe_html(writer.client, f"/pages/{slug}.html")
    writer.page("target", "Target")
    target = Tracked(writer, f"/sections/{writer.section('target', 'Target', 'Body')}")
    for _, text in numbered(parity=1):  # PATCH /sections/<id>
        what = f"PATCH section {text!r}"[:200]
        for payload in ({"title": text, "body": text}, {"title": text}, {"body": text}):
            if target.patch(payload, what):
                check_section(writer, target.state, payload, what, alone=True)
                if len(payload) == 2:
                    break
    target.unchanged()
    safe_html(writer.client, "/pages/target.html")


def test_section_slugs(writer: Writer) -> None:
    writer.page("slugs", "Slugs")
    target = Tracked(writer, f"/sections/{writer.section('slugs', 'Target', 'Body')}")
    for _, text in numbered():
        what = f"PATCH section slug {text!r}"[:200]
        if target.patch({"slug": text}, what):
            check_section(writer, target.state, {"slug": text}, what, alone=True)
    target.unchanged()
    safe_html(writer.client, "/pages/slugs.html")


# --- links ------------------------------------------------------------------------------------


def test_link_urls_and_labels(writer: Writer) -> None:
    writer.page("links", "Links")
    section = writer.section("links", "Links", f"Read [the link]({LINK}) first.")
    [link] = writer.get(f"/sections/{section}").get_json()["links"]
    target = Tracked(writer, f"/links/{link['id']}")
    for number, text in numbered():
        field = "url" if number % 2 else "label"  # the two take turns: one write per string
        what = f"PATCH link {field} {text!r}"[:200]
        if target.patch({field: text}, what):
            assert target.state[field] == text, (what, target.state[field])
            safe_html(writer.client, f"/sections/{section}.html")
    target.unchanged()


# --- query parameters and headers -------------------------------------------------------------


@pytest.fixture
def content(writer: Writer) -> int:
    """A page with a linked section to read, filter and page through."""
    writer.page("read", "Read")
    return writer.section("read", "Reading", f"Words to find, and [a link]({LINK}).")


# Every parameter; the free-text filters of one list go in one request.
LIST_QUERIES = [
    ("/sections", ("q", "page")),
    ("/sections", ("cursor",)),
    ("/sections", ("limit",)),
    ("/pages", ("cursor",)),
    ("/links", ("host", "page")),
]


def test_query_parameters(client: FlaskClient, content: int) -> None:
    for _, text in numbered():
        if not sendable(text):
            continue
        for path, names in LIST_QUERIES:
            response = client.get(path, query_string=dict.fromkeys(names, text))
            what = f"GET {path}?{'&'.join(names)}={text!r}"[:200]
            if refused(response, what):
                continue
            answer = response.get_json()
            assert set(answer) == {"data", "next"}, what
            for item in answer["data"]:
                if "page" in names:
                    assert item["page"] == text, what
                if "host" in names:
                    assert urlsplit(item["url"]).hostname == text.lower(), what


def test_headers(writer: Writer, client: FlaskClient, content: int) -> None:
    url = f"/sections/{content}"
    before = client.get(url).get_json()
    for _, text in numbered():
        if not sendable(text) or any(c in text for c in "\r\n\x00"):
            continue  # not a header value any HTTP client can send
        value = on_the_wire(text)
        what = f"header {text!r}"[:200]
        response = client.patch(
            url, json={"body": "Changed."}, headers={**writer.headers, "If-Match": value}
        )
        assert refused(response, f"If-Match {what}"), what
        response = client.get("/sections", headers={"Authorization": value})
        if not refused(response, f"Authorization {what}"):
            assert text.strip() == "", what  # only an empty header means "no token"
        response = client.get("/sections", headers={"Authorization": f"Bearer {value}"})
        assert refused(response, f"Bearer {what}") and response.status_code == 401, what
        response = client.get(url, headers={"Accept": value, "If-None-Match": value})
        if response.status_code == 304 or refused(response, f"Accept, If-None-Match {what}"):
            continue  # "*" matches every ETag
        if response.mimetype == "text/html":
            assert not problems(response.get_data(as_text=True)), what
        else:
            assert json.loads(response.get_data()) == before, what
    assert client.get(url).get_json() == before


# --- regressions: each of these was a 500, a trimmed value or an accepted bad slug ---------


@pytest.mark.parametrize(
    ("url", "payload", "field"),
    [
        ("/pages", {"slug": "nul", "title": "a\x00b"}, "title"),
        ("/pages/reg/sections", {"title": "T", "body": "a\x00b"}, "body"),
        ("/pages", {"slug": "abc\n", "title": "T"}, "slug"),
        ("/pages/reg/sections", {"title": "T", "body": "x", "slug": "abc\n"}, "slug"),
        ("/pages/reg/sections", {"title": " padded ", "body": "x"}, "title"),
        (
            "/pages",
            {"slug": "long", "title": "T", "front_matter": {"permalink": "/" + "p" * 600}},
            "front_matter",
        ),
    ],
)
def test_refused_with_the_field_named(
    writer: Writer, url: str, payload: dict[str, Any], field: str
) -> None:
    writer.page("reg", "Regressions")
    before = writer.every("/sections")
    response = writer.post(url, payload)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert_problem(422, response.content_type, response.get_data(as_text=True))
    assert list(response.get_json()["errors"]) == [field]
    assert writer.every("/sections") == before


def test_a_link_value_markdown_cannot_hold_is_refused_not_a_500(writer: Writer) -> None:
    writer.page("reg", "Regressions")
    section = writer.section("reg", "Links", f"Read [the link]({LINK}) first.")
    target = Tracked(writer, f"/sections/{section}")
    link = Tracked(writer, f"/links/{target.state['links'][0]['id']}")
    for payload in ({"url": "a|b"}, {"url": "<x>"}, {"label": "two  spaces"}):
        response = writer.client.patch(
            link.url, json=payload, headers={**writer.headers, "If-Match": link.etag}
        )
        assert response.status_code == 422, (payload, response.get_data(as_text=True))
        assert list(response.get_json()["errors"]) == list(payload)
        assert target.read()["body"] == f"Read [the link]({LINK}) first."
        assert link.read()["url"] == LINK


def test_a_long_title_gets_a_slug_the_database_holds(writer: Writer) -> None:
    writer.page("reg", "Regressions")
    title = "Ṱ̺̺o͞ ̷i̲̬n̝̗v̟̜o̶̙kè͚̮ " * 20
    response = writer.post("/pages/reg/sections", {"title": title.strip()[:500], "body": "x"})
    assert response.status_code == 201, response.get_data(as_text=True)
    slug = response.get_json()["slug"]
    assert 150 < len(slug) <= 200
    sections = parse_page(writer.get("/pages/reg.md").get_data(as_text=True)).sections
    assert [s.slug for s in sections] == ["intro", slug]  # the export keeps it as {#id}


@pytest.mark.parametrize(
    "body",
    [
        "[&#0;](https://x.example/)",
        LONG_REFERENCE,
        "[x](https://" + "a" * 300 + ".example/)",
        "[x][" + "r" * 600 + "]\n\n[" + "r" * 600 + "]: https://x.example/",
    ],
)
def test_bodies_that_were_500s_are_stored(writer: Writer, body: str) -> None:
    writer.page("reg", "Regressions")
    section = writer.post("/pages/reg/sections", {"title": "Body", "body": body})
    assert section.status_code == 201, section.get_data(as_text=True)
    assert writer.get(f"/sections/{section.get_json()['id']}").get_json()["body"] == body


@pytest.mark.parametrize(
    "url", ["/pages/a%00", "/pages/a%00.html", "/sections?page=a%00", "/links?host=a%00"]
)
def test_nul_in_a_url_is_a_4xx(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code in (404, 422), response.get_data(as_text=True)
    assert_problem(response.status_code, response.content_type, response.get_data(as_text=True))
