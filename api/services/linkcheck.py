"""Check the links of the sections: does each URL still answer, and where does it lead?

Each distinct absolute ``http``/``https`` URL is requested once, however many links share it.
Site-relative links (``/community-calls``, ``{{ site.baseurl }}/…``) are checked on a base URL
when one is given (the live site, or a local ``jekyll serve``), with Liquid resolved as the site
would; otherwise they are skipped, like page-relative links, fragments, ``mailto:`` and other
schemes, and keep no check result. Requests are polite: at most one in flight per host, ``per_host_delay`` seconds
between two requests to the same host, a User-Agent naming the project, ``HEAD`` first and
``GET`` only when the server refuses ``HEAD`` (405 or 501). Redirects are followed (at most
``MAX_REDIRECTS``), each hop under the same politeness, and the final URL is recorded.

A link is *broken* when its check ended in an error (DNS, connection, time-out, TLS, redirect
loop) or an HTTP status of 400 or more.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from api.markdown.render import DEFAULT_SETTINGS, RenderSettings, apply_liquid
from api.models import Link, Page, Section

MAX_REDIRECTS = 10
REDIRECTS = frozenset({301, 302, 303, 307, 308})
HEAD_REFUSED = frozenset({405, 501})
MAX_ERROR_LENGTH = 500
USER_AGENT = "zarr-content-api-linkcheck/0.1 (+https://github.com/zarr-developers)"


@dataclass(frozen=True)
class CheckResult:
    url: str
    status: int | None
    error: str | None = None
    redirect_to: str | None = None

    @property
    def broken(self) -> bool:
        return self.error is not None or (self.status is not None and self.status >= 400)


@dataclass
class LinkCheckReport:
    results: list[CheckResult] = field(default_factory=list)
    links_updated: int = 0
    skipped: int = 0  # links not checked: site-relative, mailto:, ...

    @property
    def broken(self) -> list[CheckResult]:
        return [result for result in self.results if result.broken]

    @property
    def redirected(self) -> list[CheckResult]:
        return [r for r in self.results if r.redirect_to is not None and not r.broken]


def checkable(url: str) -> bool:
    """Absolute http(s) URLs with a host are checked; everything else is skipped."""
    try:
        parts = urlsplit(url)
        return parts.scheme in {"http", "https"} and bool(parts.hostname)
    except ValueError:
        return False


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def broken_condition() -> ColumnElement[bool]:
    """SQL for "the last check failed": an error, or a status of 400 or more."""
    return or_(Link.check_error.is_not(None), Link.check_status >= 400)


def ok_condition() -> ColumnElement[bool]:
    """SQL for "checked and fine" (2xx/3xx after redirects, no error)."""
    return and_(Link.checked_at.is_not(None), Link.check_error.is_(None), Link.check_status < 400)


def check_url_of(url: str, base_url: str | None, settings: RenderSettings) -> str | None:
    """The absolute URL a link is checked at, or None when it is not checked.

    A site-relative link (after Liquid, with ``{{ site.url }}`` as ``base_url``) is checked on
    ``base_url``; without one, only absolute http(s) URLs are.
    """
    if checkable(url):
        return url
    if base_url is None:
        return None
    base = base_url.rstrip("/")
    resolved = apply_liquid(url, replace(settings, site_url=base)) if "{" in url else url
    if checkable(resolved):
        return resolved
    if resolved.startswith("/") and not resolved.startswith("//"):
        return base + resolved
    return None


def links_to_check(
    session: Session,
    *,
    pages: Sequence[str] = (),
    hosts: Sequence[str] = (),
    base_url: str | None = None,
    settings: RenderSettings = DEFAULT_SETTINGS,
) -> tuple[dict[str, list[tuple[int, str]]], int]:
    """(id, URL as written) of the links of live sections (drafts included) by the URL to
    check, and how many links were skipped.

    ``base_url``: where site-relative links are checked (see ``check_url_of``).
    """
    query = (
        select(Link.id, Link.url)
        .join(Link.section)
        .join(Section.page)
        .where(Section.deleted_at.is_(None))
        .order_by(Link.id)
    )
    if pages:
        query = query.where(Page.slug.in_(list(pages)))
    if hosts:
        query = query.where(Link.host.in_([host.lower() for host in hosts]))
    targets: dict[str, list[tuple[int, str]]] = defaultdict(list)
    skipped = 0
    for link_id, url in session.execute(query):
        target = check_url_of(url, base_url, settings)
        if target is not None:
            targets[target].append((link_id, url))
        else:
            skipped += 1
    return dict(targets), skipped


class HostGate:
    """At most one request in flight per host, and ``delay`` seconds between two of them."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._next: dict[str, float] = {}

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(host, threading.Lock())
        with lock:
            wait = self._next.get(host, 0.0) - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                yield
            finally:
                self._next[host] = time.monotonic() + self.delay


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # we follow redirects ourselves, one polite hop at a time


class Checker:
    """Checks URLs; one instance is shared by the worker threads of a run."""

    def __init__(
        self,
        *,
        timeout: float,
        per_host_delay: float,
        user_agent: str = USER_AGENT,
        max_redirects: int = MAX_REDIRECTS,
    ) -> None:
        self.timeout = timeout
        self.gate = HostGate(per_host_delay)
        self.user_agent = user_agent
        self.max_redirects = max_redirects
        self._opener = urllib.request.build_opener(_NoRedirects)

    def _request(self, method: str, url: str) -> tuple[int, str | None]:
        """Status and Location of one request, without following redirects."""
        request = urllib.request.Request(
            url, method=method, headers={"User-Agent": self.user_agent, "Accept": "*/*"}
        )
        with self.gate.slot(host_of(url)):
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    return response.status, None
            except urllib.error.HTTPError as error:
                with error:
                    return error.code, error.headers.get("Location")

    def _fetch(self, url: str) -> tuple[int, str | None]:
        status, location = self._request("HEAD", url)
        if status in HEAD_REFUSED:
            status, location = self._request("GET", url)
        return status, location

    def check(self, url: str) -> CheckResult:
        """Follow ``url`` to its final answer; network trouble becomes ``error``."""
        current, seen = url, {url}
        try:
            for _ in range(self.max_redirects + 1):
                status, location = self._fetch(current)
                if status not in REDIRECTS or not location:
                    return CheckResult(url, status, None, current if current != url else None)
                target = urljoin(current, location.strip())
                if not checkable(target):
                    return CheckResult(url, status, f"redirects to {target[:200]!r}", target)
                if target in seen:
                    return CheckResult(url, status, "redirect loop", target)
                seen.add(target)
                current = target
            return CheckResult(url, None, f"more than {self.max_redirects} redirects", current)
        except Exception as error:  # every failure is a finding, never a crash of the run
            return CheckResult(url, None, describe_error(error, self.timeout), _moved(url, current))


def _moved(url: str, current: str) -> str | None:
    return current if current != url else None


def describe_error(error: BaseException, timeout: float) -> str:
    """A short human text for a failed request."""
    reason: Any = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, TimeoutError):
        text = f"timed out after {timeout:g} s"
    elif isinstance(reason, socket.gaierror):
        text = f"host not found ({reason.strerror or reason})"
    elif isinstance(reason, ssl.SSLError):
        text = f"TLS error: {reason.reason or reason}"
    elif isinstance(reason, ConnectionRefusedError):
        text = "connection refused"
    elif isinstance(reason, OSError):
        text = f"connection failed: {reason.strerror or reason}"
    else:
        text = f"{type(reason).__name__}: {reason}"
    return text[:MAX_ERROR_LENGTH]


def check_urls(
    urls: Iterable[str],
    *,
    concurrency: int,
    timeout: float,
    per_host_delay: float,
    user_agent: str = USER_AGENT,
    progress: Callable[[CheckResult], None] | None = None,
) -> list[CheckResult]:
    """Check each URL once: hosts in parallel, each host's URLs one after the other."""
    checker = Checker(timeout=timeout, per_host_delay=per_host_delay, user_agent=user_agent)
    by_host: dict[str, list[str]] = defaultdict(list)
    for url in dict.fromkeys(urls):
        by_host[host_of(url)].append(url)

    def run_host(host_urls: list[str]) -> list[CheckResult]:
        results = []
        for url in host_urls:
            result = checker.check(url)
            if progress is not None:
                progress(result)
            results.append(result)
        return results

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        per_host = list(pool.map(run_host, by_host.values()))
    return [result for results in per_host for result in results]


def store_results(
    session: Session,
    targets: Mapping[str, list[tuple[int, str]]],
    results: Iterable[CheckResult],
    *,
    now: datetime,
) -> int:
    """Write each result on the links checked at its URL; returns how many links were updated.

    A link whose URL changed since it was read keeps its state: the result is of the old URL.
    """
    updated = 0
    for result in results:
        by_written_url: dict[str, list[int]] = defaultdict(list)
        for link_id, written in targets.get(result.url, []):
            by_written_url[written].append(link_id)
        for written, ids in by_written_url.items():
            updated += _store(session, ids, written, result, now)
    return updated


def _store(session: Session, ids: list[int], url: str, result: CheckResult, now: datetime) -> int:
    updated = 0
    for start in range(0, len(ids), 500):
        outcome = session.execute(
            update(Link)
            .where(Link.id.in_(ids[start : start + 500]), Link.url == url)
            .values(
                check_status=result.status,
                check_error=result.error,
                redirect_to=result.redirect_to,
                checked_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        updated += outcome.rowcount or 0
    return updated


def checks_stamp(links: Iterable[Link]) -> str | None:
    """When any of these links was last checked: part of the validators of JSON that shows
    check results, so a new check changes their ETag without changing any version."""
    stamps = [link.checked_at for link in links if link.checked_at is not None]
    return max(stamps).isoformat() if stamps else None
