"""Every payload of the corpus imported as section bodies through ``seed``, in its own database.

Seeding ~10,000 sections takes a while, so it happens once per test run and the route and
browser tests share the result; the database is separate from the per-test one (which every
test empties): an SQLite file or a PostgreSQL schema of its own, dropped at the end.

The Jekyll files, each with front matter:

* ``alone-NNN.md``: ``BATCH`` payloads, one ``## Payload N`` section each with the payload alone
  as its body. A payload may swallow the sections after it (an HTML block or comment it never
  closes runs to the end of the file, for kramdown as for our importer), so
* ``isolated-NNNNN.md`` holds nothing but one payload (as the intro, with nothing after it to
  swallow), for each payload whose section did not come back from its batch: the swallower
  and the payloads it swallowed;
* ``wrapped-NNN.md``: the payloads inside ordinary Markdown, ``GROUP`` per section: as list
  items, as link texts and as table cells; payload N in the wrapper N mod 3, or in all three
  with ``PAYLOAD_WRAPPERS=all`` (three times the seeding, for a deeper local run).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from api import create_app
from api.extensions import db
from tests.conftest import _postgres_schema
from tests.html_safety import naughty_strings, xss_payloads

BATCH = 25
GROUP = 25
# The importer keeps a body without the whitespace that ends it (that is layout, kept for export).
BODY_TRAILING_WHITESPACE = " \t\r\n\f\v"
LINK_URL = "https://example.org/"


def imported_body(text: str) -> str:
    """A section body as the importer stores it: the text without its trailing whitespace."""
    return text.rstrip(BODY_TRAILING_WHITESPACE)


@dataclass
class CorpusPage:
    """One seeded Jekyll file and what each of its sections should hold."""

    slug: str
    source: bytes
    kind: str  # "alone", "isolated" or "wrapped"
    expected: dict[str | None, str]  # section title (None: the intro) -> body
    numbers: dict[str | None, int]  # section title -> payload number ("alone", "isolated")


@dataclass
class PayloadCorpus:
    app: Flask
    payloads: list[str]
    pages: list[CorpusPage] = field(default_factory=list)
    _sections: list[dict[str, Any]] | None = None

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def of_kind(self, kind: str) -> list[CorpusPage]:
        return [page for page in self.pages if page.kind == kind]

    def sections(self) -> list[dict[str, Any]]:
        """Every section, read once through ``GET /sections`` (200 per answer)."""
        if self._sections is None:
            self._sections = read_all_sections(self.client())
        return self._sections

    def sections_by_page(self) -> dict[str, list[dict[str, Any]]]:
        pages: dict[str, list[dict[str, Any]]] = {}
        for section in self.sections():
            pages.setdefault(section["page"], []).append(section)
        return pages


def read_all_sections(client: FlaskClient) -> list[dict[str, Any]]:
    """Follow ``next`` through ``GET /sections?limit=200``."""
    found: list[dict[str, Any]] = []
    url: str | None = "/sections?limit=200"
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        answer = response.get_json()
        found += answer["data"]
        url = answer["next"]
    return found


def corpus_payloads() -> list[str]:
    """Every XSS payload and every naughty string, each once."""
    return list(dict.fromkeys([*xss_payloads(), *naughty_strings()]))


def _front_matter(title: str) -> str:
    return f"---\ntitle: {title}\n---\n"


def alone_page(slug: str, numbered: list[tuple[int, str]]) -> CorpusPage:
    """A file with one section per payload, the payload as the whole body."""
    first, last = numbered[0][0], numbered[-1][0]
    parts = [_front_matter(f"Payloads {first} to {last}")]
    expected, numbers = {}, {}
    for number, payload in numbered:
        title = f"Payload {number}"
        parts.append(f"## {title}\n\n{payload}\n\n")
        expected[title] = imported_body(payload)
        numbers[title] = number
    return CorpusPage(slug, "".join(parts).encode(), "alone", expected, numbers)


def isolated_page(number: int, payload: str) -> CorpusPage:
    """A file whose only content is the payload: the intro, with nothing after it to swallow."""
    source = _front_matter(f"Payload {number}") + f"{payload}\n"
    expected = {None: imported_body(payload)}
    return CorpusPage(
        f"isolated-{number:05d}", source.encode(), "isolated", expected, {None: number}
    )


WRAPPERS = ("list items", "link texts", "table cells")


def wrapped_body(wrapper: str, numbered: list[tuple[int, str]]) -> str:
    """Payloads inside ordinary Markdown: list items, link texts or the cells of a table."""
    if wrapper == "list items":
        return "\n".join(f"- {payload}" for _, payload in numbered)
    if wrapper == "link texts":
        return "\n\n".join(f"[{payload}]({LINK_URL}{n})" for n, payload in numbered)
    rows = "\n".join(f"| {n} | {payload} |" for n, payload in numbered)
    return f"| Number | Payload |\n| --- | --- |\n{rows}"


def wrapped_pages(numbered: list[tuple[int, str]], every_wrapper: bool) -> list[CorpusPage]:
    """Pages of wrapped payloads: payload N in wrapper N mod 3 (or in all three)."""
    by_wrapper = {
        wrapper: [(n, p) for n, p in numbered if every_wrapper or n % len(WRAPPERS) == index]
        for index, wrapper in enumerate(WRAPPERS)
    }
    groups = max(-(-len(items) // GROUP) for items in by_wrapper.values())
    pages = []
    for k in range(groups):
        parts = [_front_matter(f"Wrapped payloads, part {k}")]
        expected = {}
        for wrapper, items in by_wrapper.items():
            group = items[k * GROUP : (k + 1) * GROUP]
            if not group:
                continue
            title = f"Payloads {group[0][0]} to {group[-1][0]} in {wrapper}"
            body = wrapped_body(wrapper, group)
            parts.append(f"## {title}\n\n{body}\n\n")
            expected[title] = imported_body(body)
        pages.append(
            CorpusPage(f"wrapped-{k:03d}", "".join(parts).encode(), "wrapped", expected, {})
        )
    return pages


def seed_folder(app: Flask, folder: Path, pages: list[CorpusPage]) -> None:
    """Write the pages as Jekyll files and import them with the ``seed`` command."""
    folder.mkdir()
    for page in pages:
        (folder / f"{page.slug}.md").write_bytes(page.source)
    result = app.test_cli_runner().invoke(args=["seed", str(folder)])
    assert result.exit_code == 0, (result.output[-2000:], result.exception)


def failures(page: CorpusPage, bodies: dict[tuple[str, str | None], str]) -> list[int]:
    """Numbers of the payloads whose section is missing or holds something else, in order."""
    return [
        page.numbers[title]
        for title, body in page.expected.items()
        if bodies.get((page.slug, title)) != body
    ]


def build_corpus(app: Flask, folder: Path, *, every_wrapper: bool) -> PayloadCorpus:
    """Seed every payload in batches, then alone each one its batch did not give back."""
    payloads = corpus_payloads()
    corpus = PayloadCorpus(app, payloads)
    numbered = list(enumerate(payloads))
    chunks = [numbered[i : i + BATCH] for i in range(0, len(numbered), BATCH)]
    corpus.pages += [alone_page(f"alone-{n:03d}", chunk) for n, chunk in enumerate(chunks)]
    corpus.pages += wrapped_pages(numbered, every_wrapper)
    seed_folder(app, folder / "batches", corpus.pages)
    bodies = {(s["page"], s["title"]): s["body"] for s in corpus.sections()}
    isolated = [
        isolated_page(number, payloads[number])
        for page in corpus.of_kind("alone")
        for number in failures(page, bodies)
    ]
    if isolated:
        seed_folder(app, folder / "isolated", isolated)
        corpus.pages += isolated
        corpus._sections = None
    return corpus


def _database_settings(tmp: Path) -> Iterator[dict[str, Any]]:
    url = os.environ.get("TEST_DATABASE_URL", "sqlite")
    if url.startswith("postgres"):
        yield from _postgres_schema(url)
    else:
        yield {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'payloads.sqlite3'}"}


@contextmanager
def _seeded_corpus(tmp: Path) -> Iterator[PayloadCorpus]:
    with ExitStack() as stack:
        settings = stack.enter_context(contextmanager(_database_settings)(tmp))
        app = create_app(
            {"TESTING": True, "SECRET_KEY": "test-secret", "RATELIMIT_ENABLED": False, **settings}
        )
        app.instance_path = str(tmp / "instance")
        with app.app_context():
            upgrade()
            db.engine.dispose()
        stack.callback(_dispose, app)
        every_wrapper = os.environ.get("PAYLOAD_WRAPPERS", "") == "all"
        yield build_corpus(app, tmp, every_wrapper=every_wrapper)


def _dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


_SHARED: dict[str, Any] = {"users": 0}


@contextmanager
def shared_payload_corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PayloadCorpus]:
    """The seeded corpus, built by its first user and dropped when its last one is done.

    Each test module that needs it defines a session fixture entering this, so the corpus is
    built once per test run however many modules use it.
    """
    if not _SHARED["users"]:
        stack = ExitStack()
        _SHARED["corpus"] = stack.enter_context(
            _seeded_corpus(tmp_path_factory.mktemp("payload-corpus"))
        )
        _SHARED["stack"] = stack
    _SHARED["users"] += 1
    try:
        yield _SHARED["corpus"]
    finally:
        _SHARED["users"] -= 1
        if not _SHARED["users"]:
            _SHARED.pop("corpus")
            _SHARED.pop("stack").close()
