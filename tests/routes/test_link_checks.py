"""`links check` records what it finds on the links, and GET /links?broken= shows it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tests.factories import auth, etag_of, make_token
from tests.local_http import LocalServer, Route, link_target_server


@pytest.fixture
def site() -> Iterator[LocalServer]:
    with link_target_server() as server:
        yield server


@pytest.fixture
def page(seeded: Flask, client: FlaskClient, site: LocalServer) -> dict[str, Any]:
    """A page whose links all point at the local site (plus some that are never checked)."""
    admin = make_token(seeded, "root", "admin")
    assert (
        client.post(
            "/pages", json={"slug": "checks", "title": "Checks"}, headers=auth(admin)
        ).status_code
        == 201
    )
    body = (
        f"- [fine]({site.url('/ok')}) and [fine again]({site.url('/ok')})\n"
        f"- [moved]({site.url('/moved')})\n"
        f"- [missing]({site.url('/missing')})\n"
        f"- [broken]({site.url('/broken')})\n"
        f"- [slow]({site.url('/slow')})\n"
        "- [calls](/community-calls) and [mail](mailto:someone@example.org)\n"
    )
    created = client.post(
        "/pages/checks/sections", json={"title": "Links", "body": body}, headers=auth(admin)
    )
    assert created.status_code == 201, created.get_json()
    return {"admin": admin, "section": created.get_json()}


def run_check(runner: FlaskCliRunner, *extra: str) -> Any:
    result = runner.invoke(
        args=[
            "links",
            "check",
            "--page",
            "checks",
            "--timeout",
            "0.5",
            "--per-host-delay",
            "0",
            *extra,
        ]
    )
    return result


def links_by_label(client: FlaskClient, query: str = "?page=checks") -> dict[str, Any]:
    response = client.get("/links" + query)
    assert response.status_code == 200, response.get_json()
    return {link["label"]: link for link in response.get_json()["data"]}


def test_check_records_status_redirect_and_error(
    client: FlaskClient, runner: FlaskCliRunner, page: dict[str, Any], site: LocalServer
) -> None:
    before = links_by_label(client)
    assert all(link["checked_at"] is None for link in before.values())
    assert all(link["check_status"] is None for link in before.values())

    result = run_check(runner)
    assert result.exit_code == 0, result.output
    assert "5 URLs checked: 2 ok, 3 broken; 6 links updated" in result.output
    assert f"BROKEN   {site.url('/missing')}  (HTTP 404)" in result.output
    assert f"REDIRECT {site.url('/moved')} -> {site.url('/ok')}" in result.output
    assert len(site.requests_to("/ok", "HEAD")) == 2  # once itself, once after /moved

    links = links_by_label(client)
    assert links["fine"]["check_status"] == 200 and links["fine again"]["check_status"] == 200
    assert links["fine"]["check_error"] is None and links["fine"]["redirect_to"] is None
    assert links["moved"]["check_status"] == 200
    assert links["moved"]["redirect_to"] == site.url("/ok")
    assert links["missing"]["check_status"] == 404
    assert links["broken"]["check_status"] == 500
    assert links["slow"]["check_status"] is None
    assert links["slow"]["check_error"] == "timed out after 0.5 s"
    for label in ("calls", "mail"):  # site-relative and mailto: are not checked
        assert links[label]["checked_at"] is None and links[label]["check_status"] is None
    assert links["fine"]["checked_at"] is not None

    broken = links_by_label(client, "?page=checks&broken=true")
    assert set(broken) == {"missing", "broken", "slow"}
    fine = links_by_label(client, "?page=checks&broken=false")
    assert set(fine) == {"fine", "fine again", "moved"}
    section = client.get(f"/sections/{page['section']['id']}").get_json()
    assert [link["check_status"] for link in section["links"]][:5] == [200, 200, 200, 404, 500]


def test_strict_fails_when_a_link_is_broken(
    runner: FlaskCliRunner, page: dict[str, Any], site: LocalServer
) -> None:
    result = run_check(runner, "--strict", "--host", "127.0.0.1")
    assert result.exit_code == 1
    assert "3 broken" in result.output


def test_host_filter_and_bad_options(
    runner: FlaskCliRunner, page: dict[str, Any], site: LocalServer
) -> None:
    nothing = run_check(runner, "--host", "example.invalid")
    assert nothing.exit_code == 0, nothing.output
    assert "0 URLs checked" in nothing.output
    assert site.received == []
    for option, value in [("--concurrency", "0"), ("--timeout", "-1"), ("--per-host-delay", "x")]:
        wrong = runner.invoke(args=["links", "check", option, value])
        assert wrong.exit_code == 2
        assert option in wrong.output


def test_a_check_changes_the_etags_of_what_shows_it(
    client: FlaskClient, runner: FlaskCliRunner, page: dict[str, Any], site: LocalServer
) -> None:
    section_url = f"/sections/{page['section']['id']}"
    link_url = f"/links/{page['section']['links'][0]['id']}"
    urls = [section_url, link_url, "/links?page=checks", "/pages/checks", "/sections?page=checks"]
    before = {url: etag_of(client, url) for url in urls}
    html_before = etag_of(client, section_url + ".html")
    assert run_check(runner).exit_code == 0
    for url in urls:
        response = client.get(url, headers={"If-None-Match": before[url]})
        assert response.status_code == 200, url
        assert response.headers["ETag"] != before[url], url
    assert etag_of(client, section_url + ".html") == html_before  # the HTML shows no checks


def test_changing_a_url_forgets_its_old_check(
    client: FlaskClient, runner: FlaskCliRunner, page: dict[str, Any], site: LocalServer
) -> None:
    assert run_check(runner).exit_code == 0
    missing = links_by_label(client)["missing"]
    url = f"/links/{missing['id']}"
    changed = client.patch(
        url,
        json={"url": site.url("/ok")},
        headers=auth(page["admin"], **{"If-Match": etag_of(client, url)}),
    )
    assert changed.status_code == 200, changed.get_json()
    after = changed.get_json()
    assert after["url"] == site.url("/ok")
    assert after["check_status"] is None and after["checked_at"] is None
    assert links_by_label(client)["fine"]["check_status"] == 200  # the others keep theirs


def test_broken_filter_is_validated(client: FlaskClient) -> None:
    response = client.get("/links?broken=maybe")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert "broken" in response.get_json()["errors"]


def test_site_relative_links_are_checked_on_a_base_url(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, site: LocalServer, tmp_path: Any
) -> None:
    """A local `jekyll serve` (here: a local server) answers for the site's own pages."""
    site.routes["/community/"] = Route(200)
    (tmp_path / "home.md").write_text(
        "---\ntitle: Home\n---\n"
        "- [community](/community/) and [again]({{ site.baseurl }}/community/)\n"
        "- [gone]({{ site.url }}/gone/) and [top](#top) and [page](other.html)\n"
    )
    assert runner.invoke(args=["seed", str(tmp_path)]).exit_code == 0
    base = ["links", "check", "--page", "home", "--timeout", "0.5", "--per-host-delay", "0"]

    without = runner.invoke(args=base)
    assert without.exit_code == 0, without.output
    assert "5 site-relative or non-http links skipped" in without.output
    assert not site.received

    result = runner.invoke(args=[*base, "--base-url", site.base_url + "/"])
    assert result.exit_code == 0, result.output
    assert "checking 2 URLs of 3 links" in result.output
    assert f"BROKEN   {site.url('/gone/')}  (HTTP 404)" in result.output
    assert len(site.requests_to("/community/")) == 1  # both links share one request
    links = links_by_label(client, "?page=home")
    assert links["community"]["check_status"] == links["again"]["check_status"] == 200
    assert links["gone"]["check_status"] == 404
    assert links["gone"]["url"] == "{{ site.url }}/gone/"  # the Markdown is not touched
    assert links["top"]["checked_at"] is None and links["page"]["checked_at"] is None
    broken = client.get("/links?broken=true&page=home").get_json()["data"]
    assert [link["label"] for link in broken] == ["gone"]

    bad = runner.invoke(args=[*base, "--base-url", "ftp://example.org"])
    assert bad.exit_code == 2 and "absolute http://" in bad.output
