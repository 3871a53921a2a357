"""The link checker against a local server: statuses, redirects, time-outs and politeness."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.services.linkcheck import CheckResult, check_urls, checkable
from tests.local_http import LocalServer, Route, link_target_server, local_server


@pytest.fixture
def site() -> Iterator[LocalServer]:
    with link_target_server() as server:
        yield server


def check(site: LocalServer, *paths: str, **options: float) -> dict[str, CheckResult]:
    settings = {"concurrency": 4, "timeout": 0.5, "per_host_delay": 0.0, **options}
    results = check_urls([site.url(p) for p in paths], **settings)  # type: ignore[arg-type]
    return {result.url.removeprefix(site.base_url): result for result in results}


def test_statuses_redirects_and_errors(site: LocalServer) -> None:
    results = check(
        site, "/ok", "/moved", "/chain", "/missing", "/broken", "/slow", "/no-head", "/loop"
    )
    assert results["/ok"] == CheckResult(site.url("/ok"), 200, None, None)
    assert results["/moved"] == CheckResult(site.url("/moved"), 200, None, site.url("/ok"))
    assert results["/chain"].redirect_to == site.url("/ok")
    assert results["/chain"].status == 200 and not results["/chain"].broken
    assert results["/missing"].status == 404 and results["/missing"].broken
    assert results["/broken"].status == 500 and results["/broken"].broken
    assert results["/slow"].status is None
    assert results["/slow"].error == "timed out after 0.5 s" and results["/slow"].broken
    assert results["/no-head"].status == 200 and not results["/no-head"].broken
    assert results["/loop"].error == "redirect loop" and results["/loop"].broken
    assert not any(result.broken for key, result in results.items() if key in {"/ok", "/moved"})


def test_head_first_then_get_only_when_head_is_refused(site: LocalServer) -> None:
    check(site, "/ok", "/no-head")
    assert [r.method for r in site.requests_to("/ok")] == ["HEAD"]
    assert [r.method for r in site.requests_to("/no-head")] == ["HEAD", "GET"]
    user_agent = site.requests_to("/ok")[0].headers["user-agent"]
    assert user_agent.startswith("zarr-content-api-linkcheck/")


def test_each_url_is_checked_once(site: LocalServer) -> None:
    url = site.url("/ok")
    results = check_urls([url, url, url], concurrency=4, timeout=1, per_host_delay=0)
    assert len(results) == 1
    assert len(site.requests_to("/ok")) == 1


def test_one_request_at_a_time_per_host_with_a_delay(site: LocalServer) -> None:
    site.routes["/ok"] = Route(200, delay=0.05)
    paths = [f"/ok?n={n}" for n in range(6)]
    check(site, *paths, concurrency=8, per_host_delay=0.1)
    assert site.max_in_flight == 1
    starts = sorted(site.starts)
    assert len(starts) == 6
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    assert min(gaps) >= 0.1 + 0.05 - 0.01  # the answer's time plus the delay


def test_hosts_are_checked_in_parallel(site: LocalServer) -> None:
    site.routes["/ok"] = Route(200, delay=0.3)
    with local_server() as other:
        other.routes["/ok"] = Route(200, delay=0.3)
        urls = [site.url("/ok"), other.url("/ok").replace("127.0.0.1", "localhost")]
        results = check_urls(urls, concurrency=2, timeout=2, per_host_delay=0)
        assert [result.status for result in results] == [200, 200]
        assert abs(site.starts[0] - other.starts[0]) < 0.25  # both started at about once


def test_unreachable_hosts_and_unsupported_redirects(site: LocalServer) -> None:
    with local_server() as closed:
        gone = closed.url("/ok")
    [refused] = check_urls([gone], concurrency=1, timeout=1, per_host_delay=0)
    assert refused.status is None and refused.error == "connection refused"
    results = check(site, "/to-mail")
    assert results["/to-mail"].broken and "mailto:" in (results["/to-mail"].error or "")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://zarr.dev/", True),
        ("http://127.0.0.1:8000/x", True),
        ("/community-calls", False),
        ("{{ site.baseurl }}/blog", False),
        ("#intro", False),
        ("mailto:someone@example.org", False),
        ("ftp://example.org/file", False),
        ("https://", False),
        ("http://[::1", False),
    ],
)
def test_only_absolute_http_urls_are_checked(url: str, expected: bool) -> None:
    assert checkable(url) is expected
