"""Front matter edits keep every other key's order, quoting and comments."""

from __future__ import annotations

from api.markdown.frontmatter import load_front_matter, render_front_matter

RAW = """---
layout: single   # the theme's layout
title: "Zarr Community"
permalink: /community/
sidebar:
  title: 'Content'
  nav: sidebar
tags: [zarr, community]
---
"""


def test_unchanged_values_give_the_same_text() -> None:
    values = {
        "layout": "single",
        "title": "Zarr Community",
        "permalink": "/community/",
        "sidebar": {"title": "Content", "nav": "sidebar"},
        "tags": ["zarr", "community"],
    }
    assert render_front_matter(values, previous_raw=RAW) == RAW


def test_one_changed_key_changes_one_line() -> None:
    values = {
        "layout": "single",
        "title": "Zarr Community!",
        "permalink": "/community/",
        "sidebar": {"title": "Content", "nav": "sidebar"},
        "tags": ["zarr", "community"],
    }
    text = render_front_matter(values, previous_raw=RAW)
    old, new = RAW.splitlines(), text.splitlines()
    assert len(old) == len(new)
    changed = [(a, b) for a, b in zip(old, new, strict=True) if a != b]
    assert changed == [('title: "Zarr Community"', 'title: "Zarr Community!"')]


def test_added_and_removed_keys_keep_the_rest() -> None:
    values = {
        "layout": "single",
        "title": "Zarr Community",
        "permalink": "/community/",
        "sidebar": {"title": "Content", "nav": "sidebar"},
        "published": False,
    }
    text = render_front_matter(values, previous_raw=RAW)
    assert "tags" not in text
    assert "layout: single   # the theme's layout" in text
    assert "  title: 'Content'" in text
    assert text.rstrip().endswith("published: false\n---")
    assert dict(load_front_matter(text)) == values


def test_crlf_front_matter_stays_crlf() -> None:
    raw = RAW.replace("\n", "\r\n")
    values = dict(load_front_matter(raw))
    values["title"] = "New"
    text = render_front_matter(values, previous_raw=raw)
    assert "\n" not in text.replace("\r\n", "")
    assert "title: New" in text or 'title: "New"' in text


def test_new_front_matter_from_values() -> None:
    text = render_front_matter({"title": "Office Hours", "permalink": "/office-hours/"})
    assert text == "---\ntitle: Office Hours\npermalink: /office-hours/\n---\n"
