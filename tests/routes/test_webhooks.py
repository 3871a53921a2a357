"""Webhooks as an admin and a receiver meet them: registering, signed deliveries, retries."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from api.dispatch import dispatcher_of
from api.extensions import db
from api.models import WebhookDelivery, WebhookEvent
from api.models.base import utcnow
from api.services import editing
from api.services.content import render_settings_from
from api.services.webhooks import DeliverySettings, DispatchReport, deliver_pending
from tests.factories import auth, etag_of, make_token, section_by_slug
from tests.local_http import LocalServer, Route, local_server, verify_delivery

WEBHOOK_KEYS = {
    "id",
    "url",
    "events",
    "description",
    "active",
    "disabled_at",
    "disabled_reason",
    "created_by",
    "created_at",
}
DELIVERY_KEYS = {
    "id",
    "event_id",
    "type",
    "status",
    "attempts",
    "last_response_code",
    "last_error",
    "next_attempt_at",
    "last_attempt_at",
    "delivered_at",
    "created_at",
    "occurred_at",
}


@pytest.fixture
def receiver() -> Iterator[LocalServer]:
    with local_server() as server:
        server.routes["/hook"] = Route(status=204)
        yield server


@pytest.fixture
def admin(seeded: Flask) -> str:
    return make_token(seeded, "root", "admin")


@pytest.fixture
def editor(seeded: Flask) -> str:
    return make_token(seeded, "alice", "editor")


def register(
    client: FlaskClient, secret: str, url: str, events: list[str] | None = None
) -> dict[str, Any]:
    response = client.post(
        "/webhooks",
        json={"url": url, "events": events or ["*"], "description": "test receiver"},
        headers=auth(secret),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def edit_section(
    client: FlaskClient, secret: str, body: str, slug: str = "community-meetings"
) -> dict[str, Any]:
    section = section_by_slug(client, slug)
    url = f"/sections/{section['id']}"
    response = client.patch(
        url, json={"body": body}, headers=auth(secret, **{"If-Match": etag_of(client, url)})
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def deliver(app: Flask, at: datetime | None = None) -> DispatchReport:
    with app.app_context():
        return deliver_pending(
            db.engine, DeliverySettings.from_config(app.config), clock=lambda: at or utcnow()
        )


def deliveries(client: FlaskClient, secret: str, webhook_id: int) -> list[dict[str, Any]]:
    response = client.get(f"/webhooks/{webhook_id}/deliveries", headers=auth(secret))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


# --- managing endpoints ---------------------------------------------------------------------


def test_registering_shows_the_secret_once(
    client: FlaskClient, admin: str, receiver: LocalServer
) -> None:
    response = client.post(
        "/webhooks",
        json={"url": receiver.url("/hook"), "events": ["section.updated", "page.published"]},
        headers=auth(admin),
    )
    assert response.status_code == 201
    created = response.get_json()
    assert set(created) == WEBHOOK_KEYS | {"secret"}
    assert created["secret"].startswith("whsec_")
    assert len(base64.b64decode(created["secret"][len("whsec_") :])) == 32
    assert created["events"] == ["section.updated", "page.published"]
    assert created["active"] is True and created["created_by"] == "root"
    assert response.headers["Location"].endswith(f"/webhooks/{created['id']}")
    assert response.headers["Cache-Control"] == "private, no-store"

    listed = client.get("/webhooks", headers=auth(admin)).get_json()
    assert [set(item) for item in listed["data"]] == [WEBHOOK_KEYS]
    assert listed["next"] is None
    one = client.get(f"/webhooks/{created['id']}", headers=auth(admin))
    assert one.status_code == 200 and set(one.get_json()) == WEBHOOK_KEYS
    assert created["secret"] not in one.get_data(as_text=True)
    assert created["secret"] not in client.get("/webhooks", headers=auth(admin)).get_data(
        as_text=True
    )


def test_only_admins_manage_webhooks(
    client: FlaskClient, admin: str, editor: str, receiver: LocalServer
) -> None:
    hook = register(client, admin, receiver.url("/hook"))
    body = {"url": receiver.url("/hook"), "events": ["*"]}
    for method, url in [
        ("get", "/webhooks"),
        ("post", "/webhooks"),
        ("get", f"/webhooks/{hook['id']}"),
        ("delete", f"/webhooks/{hook['id']}"),
        ("get", f"/webhooks/{hook['id']}/deliveries"),
    ]:
        kwargs: dict[str, Any] = {"json": body} if method == "post" else {}
        anonymous = getattr(client, method)(url, **kwargs)
        assert anonymous.status_code == 401, url
        assert anonymous.mimetype == "application/problem+json"
        as_editor = getattr(client, method)(url, headers=auth(editor), **kwargs)
        assert as_editor.status_code == 403, url
        assert as_editor.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.org/hook", "events": ["*"]}, "url"),
        ({"url": "not a url", "events": ["*"]}, "url"),
        ({"url": "https:///no-host", "events": ["*"]}, "url"),
        ({"url": "https://example.org/hook", "events": []}, "events"),
        ({"url": "https://example.org/hook", "events": ["section.eaten"]}, "events.0"),
        ({"url": "https://example.org/hook", "events": ["*", "page.created"]}, "events"),
        ({"url": "https://example.org/hook", "events": "section.created"}, "events"),
        ({"events": ["*"]}, "url"),
        ({"url": "https://example.org/hook", "events": ["*"], "secret": "mine"}, "secret"),
    ],
)
def test_bad_registrations_are_refused(
    client: FlaskClient, admin: str, body: dict[str, Any], field: str
) -> None:
    response = client.post("/webhooks", json=body, headers=auth(admin))
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert count(client.application, WebhookEvent) == 0


def test_malformed_json_and_wrong_media_type(client: FlaskClient, admin: str) -> None:
    malformed = client.post(
        "/webhooks", data="{", content_type="application/json", headers=auth(admin)
    )
    assert malformed.status_code == 400
    form = client.post("/webhooks", data={"url": "x"}, headers=auth(admin))
    assert form.status_code == 415
    assert client.get("/webhooks?limit=0", headers=auth(admin)).status_code == 422
    assert client.get("/webhooks?colour=red", headers=auth(admin)).status_code == 422
    assert client.get("/webhooks/999", headers=auth(admin)).status_code == 404


def test_deleting_removes_the_endpoint_and_its_log(
    client: FlaskClient, admin: str, editor: str, receiver: LocalServer
) -> None:
    hook = register(client, admin, receiver.url("/hook"))
    edit_section(client, editor, "Changed before the endpoint went away.")
    response = client.delete(f"/webhooks/{hook['id']}", headers=auth(admin))
    assert response.status_code == 204 and response.data == b""
    assert client.get(f"/webhooks/{hook['id']}", headers=auth(admin)).status_code == 404
    assert client.get(f"/webhooks/{hook['id']}/deliveries", headers=auth(admin)).status_code == 404
    assert count(client.application, WebhookDelivery) == 0
    assert deliver(client.application).attempted == 0
    assert receiver.received == []


# --- events and deliveries ------------------------------------------------------------------


def test_an_edit_is_delivered_signed_with_the_section_as_served(
    client: FlaskClient, admin: str, editor: str, receiver: LocalServer
) -> None:
    hook = register(client, admin, receiver.url("/hook"), ["section.updated"])
    client.application.config["WEBHOOKS_DISPATCH"] = "inline"
    saved = edit_section(client, editor, "Meetings are **weekly** now.")

    [request] = receiver.requests_to("/hook")
    assert request.method == "POST"
    verify_delivery(hook["secret"], request)
    assert request.headers["user-agent"].startswith("zarr-content-api")
    event = json.loads(request.body)
    assert set(event) == {"type", "timestamp", "data"}
    assert event["type"] == "section.updated"
    datetime.fromisoformat(event["timestamp"])
    served = client.get(f"/sections/{saved['id']}").get_json()
    assert event["data"] == served
    assert event["data"]["version"] == saved["version"]

    [logged] = deliveries(client, admin, hook["id"])
    assert set(logged) == DELIVERY_KEYS
    assert logged["event_id"] == request.headers["webhook-id"]
    assert logged["type"] == "section.updated"
    assert logged["status"] == "delivered" and logged["attempts"] == 1
    assert logged["last_response_code"] == 204 and logged["last_error"] is None
    assert logged["delivered_at"] is not None and logged["next_attempt_at"] is None


def test_endpoints_receive_only_the_events_they_asked_for(
    client: FlaskClient, admin: str, editor: str, receiver: LocalServer
) -> None:
    receiver.routes["/pages"] = Route(status=200)
    register(client, admin, receiver.url("/pages"), ["page.created"])
    everything = register(client, admin, receiver.url("/hook"), ["*"])
    edit_section(client, editor, "Only the catch-all endpoint hears about this.")
    assert deliver(client.application).delivered == 1
    assert receiver.requests_to("/pages") == []
    [request] = receiver.requests_to("/hook")
    verify_delivery(everything["secret"], request)


def test_every_kind_of_change_makes_its_event(
    client: FlaskClient, admin: str, editor: str, receiver: LocalServer
) -> None:
    register(client, admin, receiver.url("/hook"))
    draft = client.post(
        "/pages", json={"slug": "news", "title": "News", "status": "draft"}, headers=auth(admin)
    )
    assert draft.status_code == 201
    page_url = "/pages/news"
    published = client.patch(
        page_url,
        json={"status": "published"},
        headers=auth(admin, **{"If-Match": etag_of(client, page_url, admin)}),
    )
    assert published.status_code == 200
    created = client.post(
        "/pages/news/sections", json={"title": "First", "body": "Hello."}, headers=auth(editor)
    ).get_json()
    url = f"/sections/{created['id']}"
    client.patch(
        url,
        json={"body": "Hello again."},
        headers=auth(editor, **{"If-Match": etag_of(client, url)}),
    )
    client.delete(url, headers=auth(editor, **{"If-Match": etag_of(client, url, editor)}))
    client.post(
        f"{url}/restore", headers=auth(editor, **{"If-Match": etag_of(client, url, editor)})
    )
    client.post(
        f"{url}/revisions/1/restore",
        headers=auth(editor, **{"If-Match": etag_of(client, url, editor)}),
    )
    assert deliver(client.application).delivered == 8
    types = [json.loads(r.body)["type"] for r in receiver.requests_to("/hook")]
    # Made as a draft, the page is announced as published only when it becomes so.
    assert sorted(types) == sorted(
        [
            "page.created",
            "page.updated",
            "page.published",
            "section.created",
            "section.updated",
            "section.deleted",
            "section.restored",
            "section.updated",  # restoring a revision is an update
        ]
    )
    bodies = [json.loads(r.body) for r in receiver.requests_to("/hook")]
    page_events = [b for b in bodies if b["type"].startswith("page.")]
    assert {e["data"]["slug"] for e in page_events} == {"news"}
    assert "sections" not in page_events[0]["data"]


def test_writes_that_fail_send_nothing(
    client: FlaskClient, admin: str, editor: str, receiver: LocalServer
) -> None:
    hook = register(client, admin, receiver.url("/hook"))
    client.application.config["WEBHOOKS_DISPATCH"] = "inline"
    section = section_by_slug(client, "community-meetings")
    url = f"/sections/{section['id']}"
    stale = etag_of(client, url)
    edit_section(client, editor, "A change that does happen.")
    refused = client.patch(
        url, json={"body": "Lost update"}, headers=auth(editor, **{"If-Match": stale})
    )
    assert refused.status_code == 412
    invalid = client.patch(
        url,
        json={"body": "Text\n\n## A heading sneaks in\n"},
        headers=auth(editor, **{"If-Match": etag_of(client, url)}),
    )
    assert invalid.status_code == 422
    assert len(receiver.requests_to("/hook")) == 1
    assert len(deliveries(client, admin, hook["id"])) == 1
    assert count(client.application, WebhookEvent) == 1


def test_a_rolled_back_change_leaves_no_event(seeded: Flask, receiver: LocalServer) -> None:
    admin = make_token(seeded, "root", "admin")
    register(seeded.test_client(), admin, receiver.url("/hook"))
    with seeded.test_request_context():
        section = editing_target(seeded)
        editing.update_section(
            db.session,
            section,
            {"body": "Recorded, then rolled back."},
            by="alice",
            now=utcnow(),
            settings=render_settings_from(seeded.config),
        )
        assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 1
        db.session.rollback()
    assert count(seeded, WebhookEvent) == 0
    assert count(seeded, WebhookDelivery) == 0
    assert deliver(seeded).attempted == 0


def editing_target(app: Flask) -> Any:
    from api.models import Section

    return db.session.scalars(select(Section).where(Section.slug == "community-meetings")).one()


# --- retries and failures -------------------------------------------------------------------


def test_a_failed_delivery_is_retried_with_backoff(
    client: FlaskClient, admin: str, editor: str, receiver: LocalServer
) -> None:
    hook = register(client, admin, receiver.url("/hook"))
    receiver.statuses["/hook"] = [500, 200]
    edit_section(client, editor, "Try, try again.")

    start = utcnow()
    first = deliver(client.application, start)
    assert (first.delivered, first.retrying, first.failed) == (0, 1, 0)
    [logged] = deliveries(client, admin, hook["id"])
    assert logged["status"] == "pending" and logged["attempts"] == 1
    assert logged["last_response_code"] == 500
    assert "500" in logged["last_error"]
    due = datetime.fromisoformat(logged["next_attempt_at"])
    assert timedelta(seconds=29) <= due - start <= timedelta(seconds=31)

    assert deliver(client.application, start + timedelta(seconds=10)).attempted == 0
    second = deliver(client.application, start + timedelta(seconds=31))
    assert second.delivered == 1
    [logged] = deliveries(client, admin, hook["id"])
    assert logged["status"] == "delivered" and logged["attempts"] == 2
    assert logged["last_response_code"] == 200 and logged["last_error"] is None
    tries = receiver.requests_to("/hook")
    assert len(tries) == 2
    assert tries[0].headers["webhook-id"] == tries[1].headers["webhook-id"]
    assert tries[0].body == tries[1].body
    for attempt in tries:
        verify_delivery(hook["secret"], attempt)


def test_a_delivery_fails_for_good_after_the_last_attempt(
    client: FlaskClient, admin: str, editor: str, receiver: LocalServer
) -> None:
    client.application.config["WEBHOOK_MAX_ATTEMPTS"] = 3
    hook = register(client, admin, receiver.url("/hook"))
    receiver.statuses["/hook"] = [503]
    edit_section(client, editor, "Nobody is listening.")
    at = utcnow()
    for wait in (0, 31, 31 + 121):
        deliver(client.application, at + timedelta(seconds=wait))
    [logged] = deliveries(client, admin, hook["id"])
    assert logged["status"] == "failed" and logged["attempts"] == 3
    assert logged["next_attempt_at"] is None and logged["last_response_code"] == 503
    assert deliver(client.application, at + timedelta(days=2)).attempted == 0
    failed = client.get(f"/webhooks/{hook['id']}/deliveries?status=failed", headers=auth(admin))
    assert len(failed.get_json()["data"]) == 1


def test_network_errors_and_time_outs_are_logged(
    client: FlaskClient, admin: str, editor: str, receiver: LocalServer
) -> None:
    client.application.config["WEBHOOK_TIMEOUT"] = 1
    receiver.routes["/slow"] = Route(status=200, delay=1.6)
    with local_server() as closed:
        gone_url = closed.url("/hook")
    unreachable = register(client, admin, gone_url)
    slow = register(client, admin, receiver.url("/slow"))
    edit_section(client, editor, "Into the void.")
    assert deliver(client.application).retrying == 2
    [refused] = deliveries(client, admin, unreachable["id"])
    assert refused["last_response_code"] is None
    assert refused["last_error"].startswith("could not connect")
    [timed_out] = deliveries(client, admin, slow["id"])
    assert timed_out["last_response_code"] is None
    assert timed_out["last_error"] == "no answer within 1 s"


def test_410_gone_disables_the_endpoint(
    client: FlaskClient, admin: str, editor: str, receiver: LocalServer
) -> None:
    hook = register(client, admin, receiver.url("/hook"))
    receiver.statuses["/hook"] = [410]
    edit_section(client, editor, "First.")
    assert deliver(client.application).failed == 1
    shown = client.get(f"/webhooks/{hook['id']}", headers=auth(admin)).get_json()
    assert shown["active"] is False and "410" in shown["disabled_reason"]
    edit_section(client, editor, "Second: not queued for a disabled endpoint.")
    assert len(deliveries(client, admin, hook["id"])) == 1


def test_redirects_are_not_followed(
    client: FlaskClient, admin: str, editor: str, receiver: LocalServer
) -> None:
    receiver.routes["/moved"] = Route(status=301, headers={"Location": "{base}/hook"})
    hook = register(client, admin, receiver.url("/moved"))
    edit_section(client, editor, "Redirected?")
    assert deliver(client.application).retrying == 1
    assert receiver.requests_to("/hook") == []
    assert deliveries(client, admin, hook["id"])[0]["last_response_code"] == 301


# --- dispatching ----------------------------------------------------------------------------


def test_the_background_thread_sends_after_commit(
    client: FlaskClient, admin: str, editor: str, receiver: LocalServer
) -> None:
    hook = register(client, admin, receiver.url("/hook"))
    app = client.application
    app.config["WEBHOOKS_DISPATCH"] = "thread"
    dispatcher = dispatcher_of(app)
    try:
        edit_section(client, editor, "Sent by the worker thread.")
        [request] = receiver.wait_for(1, "/hook")
        verify_delivery(hook["secret"], request)
        assert dispatcher.running
    finally:
        dispatcher.stop()
    assert not dispatcher.running


def test_dispatch_off_waits_for_the_command(
    client: FlaskClient, runner: FlaskCliRunner, admin: str, editor: str, receiver: LocalServer
) -> None:
    register(client, admin, receiver.url("/hook"))
    assert client.application.config["WEBHOOKS_DISPATCH"] == "off"
    edit_section(client, editor, "Queued until someone runs the command.")
    edit_section(client, editor, "And again.", slug="join-the-community")
    assert receiver.received == []
    result = runner.invoke(args=["webhooks", "deliver"])
    assert result.exit_code == 0, result.output
    assert "2 delivered, 0 to retry later, 0 failed" in result.output
    assert len(receiver.requests_to("/hook")) == 2
    again = runner.invoke(args=["webhooks", "deliver"])
    assert "0 delivered" in again.output


def test_concurrent_dispatchers_send_each_delivery_once(
    client: FlaskClient, admin: str, editor: str, receiver: LocalServer
) -> None:
    receiver.routes["/hook"] = Route(status=200, delay=0.05)
    register(client, admin, receiver.url("/hook"))
    for number in range(12):
        edit_section(client, editor, f"Edit number {number}.")
    app = client.application
    app.config["WEBHOOK_TIMEOUT"] = 5
    reports: list[DispatchReport] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with app.app_context():
                settings = DeliverySettings(timeout=5, max_attempts=6, batch_size=2)
                reports.append(deliver_pending(db.engine, settings))
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(report.delivered for report in reports) == 12
    ids = [r.headers["webhook-id"] for r in receiver.requests_to("/hook")]
    assert len(ids) == 12 and len(set(ids)) == 12


def test_seeding_announces_its_changes_and_sends_them_before_the_command_ends(
    app: Flask, runner: FlaskCliRunner, receiver: LocalServer, tmp_path: Any
) -> None:
    """A re-seed after a pull is a content change like any other: the site must rebuild."""
    app.config["WEBHOOKS_DISPATCH"] = "thread"  # the default outside tests
    source = tmp_path / "news.md"
    source.write_text("---\ntitle: News\n---\nHello.\n\n## Old\n\nGone soon.\n\n## Kept\n\nSame.\n")
    assert runner.invoke(args=["seed", str(tmp_path)]).exit_code == 0
    client = app.test_client()
    register(client, make_token(app, "root", "admin"), receiver.url("/hook"))
    source.write_text("---\ntitle: News!\n---\nHello, world.\n\n## Kept\n\nSame.\n\n## New\n\nx\n")
    assert runner.invoke(args=["seed", str(tmp_path)]).exit_code == 0
    # Sent inline by the command itself: nothing is left for a thread that dies with it.
    sent = sorted(
        (event["type"], event["data"].get("slug"))
        for event in (json.loads(r.body) for r in receiver.requests_to("/hook"))
    )
    assert sent == [
        ("page.updated", "news"),
        ("section.created", "new"),
        ("section.deleted", "old"),
        ("section.updated", "intro"),
    ]
    assert not dispatcher_of(app).running
    with app.app_context():
        statuses = db.session.scalars(select(WebhookDelivery.status)).all()
    assert statuses == ["delivered"] * 4
    assert runner.invoke(args=["seed", str(tmp_path)]).exit_code == 0
    assert len(receiver.requests_to("/hook")) == 4  # an unchanged seed announces nothing
