"""Anonymous reads answered from each process's memory while the content is unchanged.

An answer is kept under the *content generation*: one value that database triggers change
with every committed change of pages, sections or links (migration 0004), whichever process,
host or command made it. A read first reads that value (one single-row query on a pooled
connection); when the answer kept for the same URL, host and ``Accept`` was made under the
same value, it is answered from memory, a ``304`` for a matching ``If-None-Match`` or
``If-Modified-Since``, without running the view, its queries or its serialization. So several
processes behind one database stay correct without sharing or invalidating anything.

After a write the generation differs and the view runs; it still answers a revalidation of
unchanged content with a ``304`` from the cheap state of its sections (``revalidated_get`` in
``routes.common``). Entries nobody asks for any more fall out of a bounded LRU
(``RESPONSE_CACHE_MB`` per process, 0 turns it off). Token holders are never answered from
memory: they may see drafts, and their answers are private.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, Response, current_app, g, request

from api.database import content_generation
from api.extensions import db
from api.http import cache_headers, not_modified

log = logging.getLogger(__name__)
EXTENSION = "response_cache"

# The anonymous reads whose answers depend on nothing but the URL, the Accept header and the
# rows of pages, sections and links (health checks, the editor page and the OpenAPI document
# are not among them).
ANSWERED_FROM_MEMORY = frozenset(
    {
        "sections.SectionList",
        "sections.SectionItem",
        "sections.section_as_html",
        "pages.PageList",
        "pages.PageItem",
        "pages.page_as_html",
        "pages.page_as_markdown",
        "links.LinkList",
        "links.LinkItem",
    }
)


@dataclass(frozen=True)
class CachedBody:
    body: bytes
    content_type: str


@dataclass(frozen=True)
class CachedAnswer:
    """A 200 answer, or only its validators (when the view answered a revalidation with a
    304), and the content generation it was made under."""

    generation: int
    body: CachedBody | None
    etag: str
    last_modified: datetime | None
    headers: dict[str, str]  # validators and Cache-Control of an anonymous answer


class ResponseCache:
    """Answers by key, least recently used out first, at most ``max_bytes`` of bodies in all."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[Hashable, CachedAnswer] = OrderedDict()
        self._lock = threading.Lock()  # gthread workers answer several requests at once

    def get(self, key: Hashable) -> CachedAnswer | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: Hashable, entry: CachedAnswer) -> None:
        size = _size(entry)
        # One answer may take an eighth of the room: a few huge lists never evict the rest.
        if size > self.max_bytes // 8:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.size -= _size(old)
            self._entries[key] = entry
            self.size += size
            while self.size > self.max_bytes and self._entries:
                _, evicted = self._entries.popitem(last=False)
                self.size -= _size(evicted)

    def __len__(self) -> int:
        return len(self._entries)


def _size(entry: CachedAnswer) -> int:
    return len(entry.body.body) if entry.body is not None else 0


def response_cache() -> ResponseCache:
    """The current app's cache (every app, and so every test, has its own)."""
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]


def _answer_key() -> tuple[str, ...] | None:
    """Who may be answered from memory, and under which key: anonymous GETs of plain reads.

    The key holds everything an answer depends on besides the content: the scheme and host
    (absolute ``next`` URLs), path and query, and ``Accept`` (HTML or JSON), read straight
    from the WSGI environ, as cheaply as it comes.
    """
    if request.method not in ("GET", "HEAD") or request.endpoint not in ANSWERED_FROM_MEMORY:
        return None
    environ = request.environ
    if "HTTP_AUTHORIZATION" in environ:  # token holders see drafts; answers are private
        return None
    return (
        environ["wsgi.url_scheme"],
        environ.get("HTTP_HOST", ""),
        environ.get("SCRIPT_NAME", ""),
        environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
        environ.get("HTTP_ACCEPT", ""),
    )


def answer_from_memory() -> Response | None:
    """Before the view: the kept answer when the content has not changed since it was made."""
    key = _answer_key()
    if key is None:
        return None
    try:
        generation = content_generation(db.engine)
    except Exception:  # the view meets the same problem and answers it properly (503)
        log.debug("content generation unreadable; answering without the cache", exc_info=True)
        return None
    if generation is None:
        return None
    entry = response_cache().get(key)
    if entry is not None and entry.generation == generation:
        if not_modified(entry.etag, entry.last_modified):
            return Response(status=304, headers=entry.headers)
        if entry.body is not None:
            return Response(
                entry.body.body, content_type=entry.body.content_type, headers=entry.headers
            )
    g.answer_key, g.answer_generation = key, generation  # read before the view: see keep_answer
    return None


def keep_answer(response: Response) -> Response:
    """After the view: keep a 200 answer under the generation read before the view ran.

    Were the content changed while the view ran, the kept generation is already out of date,
    so the answer is never reused: an answer can only be older than its key, never newer.
    """
    key = g.pop("answer_key", None)
    generation = g.pop("answer_generation", None)
    etag = response.headers.get("ETag")
    if key is None or etag is None or response.is_streamed:
        return response
    if response.status_code == 200:
        body: CachedBody | None = CachedBody(response.get_data(), response.content_type or "")
    elif response.status_code == 304:  # validators only: enough for the next revalidations
        body = None
    else:
        return response
    modified = response.last_modified
    headers = cache_headers(etag, modified)
    response_cache().put(key, CachedAnswer(generation, body, etag, modified, headers))
    return response


def init_response_cache(app: Flask) -> None:
    """Give the app its cache, sized by RESPONSE_CACHE_MB, and its hooks (unless 0)."""
    megabytes = int(app.config.get("RESPONSE_CACHE_MB", 8))
    app.extensions[EXTENSION] = ResponseCache(megabytes * 1024 * 1024)
    if megabytes > 0:
        # First of all hooks: an answer from memory skips the others (the rate limiter's
        # bookkeeping among them; reads are never limited).
        app.before_request_funcs.setdefault(None, []).insert(0, answer_from_memory)
        app.after_request(keep_answer)
