"""The editor page in headless Chromium: sign in, edit with a live preview, save, 412, restore."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import auth, etag_of, make_token, section_by_slug

pytestmark = pytest.mark.slow
SCREENSHOT = os.environ.get("EDITOR_SCREENSHOT")  # e.g. docs/editor.png, to refresh the README's


def expect(page: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(page)


def sign_in(tab: Any, live_url: str, secret: str) -> None:
    tab.goto(live_url + "/editor")
    assert "token" not in tab.url
    tab.get_by_label("API token").fill(secret)
    tab.get_by_role("button", name="Sign in").click()
    expect(tab.get_by_role("button", name="Zarr Community")).to_be_visible()
    assert tab.evaluate("sessionStorage.getItem('zarr-editor-token')") == secret
    assert secret not in tab.url


def open_section(tab: Any, page_title: str, section_title: str) -> None:
    tab.get_by_role("button", name=page_title).click()
    tab.get_by_role("button", name=section_title).click()
    expect(tab.get_by_role("heading", name=section_title, level=2)).to_be_visible()


def test_edit_preview_save_conflict_and_restore(
    seeded: Flask, client: FlaskClient, live_url: str, tab: Any, tmp_path: Path
) -> None:
    secret = make_token(seeded, "alice", "editor")
    other = make_token(seeded, "bob", "editor")
    original = section_by_slug(client, "community-meetings")

    sign_in(tab, live_url, secret)
    open_section(tab, "Zarr Community", "Community meetings")
    body = tab.get_by_label("Markdown")
    expect(body).to_have_value(original["body"])
    preview = tab.get_by_role("region", name="Preview")
    expect(preview.locator("a")).to_have_text("https://zarr.dev/community-calls")

    # Live preview of the sanitized HTML while typing.
    body.fill(original["body"] + "\n\nMeetings are **weekly** now.<script>bad()</script>")
    expect(preview.locator("strong")).to_have_text("weekly")
    expect(tab.get_by_text("Preview updated")).to_be_visible()
    assert preview.locator("script").count() == 0
    expect(tab.get_by_text("Unsaved changes")).to_be_visible()

    # Save with If-Match; the API shows the change.
    tab.get_by_role("button", name="Save").click()
    expect(tab.get_by_role("status")).to_have_text(
        f"Saved — now version {original['version'] + 1}."
    )
    saved = section_by_slug(client, "community-meetings")
    assert saved["version"] == original["version"] + 1
    assert saved["body"].endswith("Meetings are **weekly** now.<script>bad()</script>")
    assert "<strong>weekly</strong>" in saved["html"] and "<script" not in saved["html"]
    assert client.get(f"/sections/{saved['id']}/revisions", headers=auth(secret)).get_json()[
        "data"
    ][0]["created_by"] == ("alice")

    # Someone else changes the section behind the editor's back: saving again answers 412.
    url = f"/sections/{saved['id']}"
    theirs = client.patch(
        url,
        json={"body": "Bob's version of the meetings."},
        headers=auth(other, **{"If-Match": etag_of(client, url)}),
    )
    assert theirs.status_code == 200
    body.fill("My second change.")
    tab.get_by_role("button", name="Save").click()
    alert = tab.get_by_role("alert").filter(has_text="Someone else changed this section")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("Reload to see their version")
    assert section_by_slug(client, "community-meetings")["body"] == "Bob's version of the meetings."
    tab.get_by_role("button", name="Reload").click()
    expect(body).to_have_value("Bob's version of the meetings.")
    expect(tab.get_by_label("Copy what you need back into the editor")).to_have_value(
        "My second change."
    )

    # Revisions: restore the seeded text as a new revision.
    tab.get_by_role("button", name="Revisions").click()
    first = tab.get_by_role("button", name="Restore revision 1")
    expect(first).to_be_visible()
    expect(
        tab.get_by_role("button", name=f"Revision {original['version'] + 2} is current")
    ).to_be_disabled()
    first.click()
    expect(tab.get_by_role("status")).to_contain_text("Restored revision 1 as version")
    expect(body).to_have_value(original["body"])
    restored = section_by_slug(client, "community-meetings")
    assert restored["body"] == original["body"]
    assert restored["version"] == original["version"] + 3

    # The picture in the README: an edit in progress, its preview, the revisions.
    body.fill(original["body"] + "\n\nFrom March, meetings are **weekly** (see the calendar).")
    expect(preview.locator("strong")).to_have_text("weekly")
    tab.set_viewport_size({"width": 1280, "height": 1010})
    tab.evaluate("window.scrollTo(0, 0)")
    tab.screenshot(path=SCREENSHOT or str(tmp_path / "editor.png"))


def test_a_wrong_token_is_refused_and_signing_out_forgets_it(
    seeded: Flask, live_url: str, tab: Any
) -> None:
    tab.goto(live_url + "/editor")
    tab.get_by_label("API token").fill("zca_not-a-real-token")
    tab.get_by_role("button", name="Sign in").click()
    expect(tab.get_by_role("alert").filter(has_text="not accepted")).to_be_visible()
    assert tab.evaluate("sessionStorage.getItem('zarr-editor-token')") is None

    secret = make_token(seeded, "carol", "editor")
    sign_in(tab, live_url, secret)
    tab.reload()  # the token survives a reload of the tab...
    expect(tab.get_by_role("button", name="Zarr Community")).to_be_visible()
    tab.get_by_role("button", name="Sign out").click()
    expect(tab.get_by_label("API token")).to_be_focused()
    assert tab.evaluate("sessionStorage.getItem('zarr-editor-token')") is None
