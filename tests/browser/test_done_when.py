"""The issue's "done when", end to end: an edit in the browser is announced by a signed webhook,
shows in GET /sections, and `links check` flags the dead link it added."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from api.dispatch import dispatcher_of
from tests.browser.test_editor_browser import expect, open_section, sign_in
from tests.factories import auth, make_token, section_by_slug
from tests.local_http import Route, local_server, verify_delivery

pytestmark = pytest.mark.slow


def test_browser_edit_sends_a_signed_webhook_and_the_dead_link_is_flagged(
    seeded: Flask, client: FlaskClient, runner: FlaskCliRunner, live_url: str, tab: Any
) -> None:
    admin = make_token(seeded, "root", "admin")
    editor = make_token(seeded, "alice", "editor")
    seeded.config["WEBHOOKS_DISPATCH"] = "thread"  # the default outside tests
    with local_server() as receiver, local_server() as site:
        receiver.routes["/hook"] = Route(status=200)
        site.routes["/missing"] = Route(status=404)
        created = client.post(
            "/webhooks",
            json={"url": receiver.url("/hook"), "events": ["section.updated"]},
            headers=auth(admin),
        )
        assert created.status_code == 201
        hook = created.get_json()
        dead = site.url("/missing")
        try:
            sign_in(tab, live_url, editor)
            open_section(tab, "Zarr Community", "Community meetings")
            body = tab.get_by_label("Markdown")
            body.fill(body.input_value() + f"\n\nOlder notes are [in the archive]({dead}).")
            preview = tab.get_by_role("region", name="Preview")
            expect(preview.get_by_role("link", name="in the archive")).to_have_attribute(
                "href", dead
            )
            tab.get_by_role("button", name="Save").click()
            expect(tab.get_by_role("status")).to_contain_text("Saved")

            [delivery] = receiver.wait_for(1, "/hook")
            verify_delivery(hook["secret"], delivery)
            event = json.loads(delivery.body)
            assert event["type"] == "section.updated"
            assert event["data"]["slug"] == "community-meetings"
            assert dead in event["data"]["body"]
        finally:
            dispatcher_of(seeded).stop()

        section = section_by_slug(client, "community-meetings")
        assert section["body"].endswith(f"Older notes are [in the archive]({dead}).")
        assert [link["url"] for link in section["links"]][-1] == dead
        logged = client.get(f"/webhooks/{hook['id']}/deliveries", headers=auth(admin))
        assert logged.get_json()["data"][0]["status"] == "delivered"

        result = runner.invoke(
            args=[
                "links",
                "check",
                "--host",
                "127.0.0.1",
                "--timeout",
                "2",
                "--per-host-delay",
                "0",
            ]
        )
        assert result.exit_code == 0, result.output
        assert f"BROKEN   {dead}  (HTTP 404)" in result.output
        broken = client.get("/links?broken=true").get_json()["data"]
        assert [(link["url"], link["check_status"]) for link in broken] == [(dead, 404)]
        assert broken[0]["label"] == "in the archive" and broken[0]["page"] == "community"
