"""Character references the way a browser reads them, whatever a body holds.

Regressions: ``[&#0;](url)`` gave a link label holding a NUL, which PostgreSQL refuses (seeding
or saving such a body was a 500), ``&#xD800;`` a lone surrogate no database can store, and a
reference of thousands of digits made ``int`` (and so ``html.unescape``) raise: a 500 on import,
on rendering and on every write of such a body.
"""

from __future__ import annotations

import pytest

from api.markdown.entities import shorten_references, unescape
from api.markdown.importer import find_links, parse_page
from api.markdown.render import render_body, render_title

HUGE = "&#" + "9" * 5000 + ";"


@pytest.mark.parametrize(
    ("body", "label"),
    [
        ("[&#0;](https://x.example/)", "\ufffd"),
        ("[&#x0;](https://x.example/)", "\ufffd"),
        ("[&#xD800;](https://x.example/)", "\ufffd"),
        ("[&#x110000;](https://x.example/)", "\ufffd"),
        ('<a href="https://x.example/">&#00;</a>', "\ufffd"),
        ("[&#0000106;&#x41;](https://x.example/)", "jA"),
        (f"[a{HUGE}b](https://x.example/)", "a\ufffdb"),
    ],
)
def test_link_labels_decode_references_as_browsers_do(body: str, label: str) -> None:
    [link] = find_links(body, {})
    assert link.label == label
    assert "\x00" not in link.context and link.context.encode("utf-8")


@pytest.mark.parametrize(
    "body",
    [
        HUGE,
        f"[x](https://x.example/{HUGE})",
        f'<a href="{HUGE}">x</a>',
        f'<img src="x.png" alt="{HUGE}">',
        f'<div markdown="1" title="{HUGE}">x</div>',
        f"### {HUGE}",
    ],
)
def test_very_long_references_neither_crash_import_nor_rendering(body: str) -> None:
    parse_page(f"---\n---\n## Title\n\n{body}\n")
    find_links(body, {})
    assert "\ufffd" in render_body(body) + render_title(body)


def test_unescape_and_shorten_keep_the_meaning() -> None:
    assert unescape("&#" + "0" * 4500 + "65;") == "A"
    assert unescape(HUGE) == "\ufffd"
    assert unescape("&amp;&#60;&#x3C;&#128;") == "&<<€"
    assert shorten_references("&#0000106 and &#60;") == "&#0000106 and &#60;"  # left alone
