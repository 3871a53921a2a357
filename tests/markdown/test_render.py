"""Tests for api.markdown.render: fidelity to zarr.dev, Liquid, and sanitizing real payloads.

Golden files live in tests/markdown/golden/; regenerate them after an intended change with
``UPDATE_GOLDEN=1 pytest tests/markdown/test_render.py`` and review the diff.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from api.markdown.render import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    MARKDOWN_EXTENSIONS,
    RenderSettings,
    apply_liquid,
    heading_id,
    render_body,
    render_title,
    sanitize_html,
    section_html,
)
from tests.environment import unavailable
from tests.html_safety import elements, is_unsafe, parse, payload_files, payloads_in, problems
from tests.paths import SEED, SITE

GOLDEN = Path(__file__).parent / "golden"

# --- helpers ------------------------------------------------------------------------------


def split_page(text: str) -> list[tuple[str | None, str]]:
    """Split a Jekyll page into (heading, body) pairs; the intro has heading None."""
    text = text.replace("\r\n", "\n")
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        text = text[text.index("\n", end + 1) + 1 :] if end != -1 else text
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    fence: str | None = None
    for line in text.split("\n"):
        opener = re.match(r"^ {0,3}(`{3,}|~{3,})", line)
        if fence is None and opener:
            fence = opener.group(1)
        elif fence is not None and line.strip().startswith(fence):
            fence = None
        elif fence is None and line.startswith("## "):
            sections.append((line[3:].strip().rstrip("#").strip(), []))
            continue
        sections[-1][1].append(line)
    return [(title, "\n".join(lines).strip("\n")) for title, lines in sections]


def reference_lines(text: str) -> str:
    """Every reference definition line of a page."""
    return "\n".join(re.findall(r"^ {0,3}\[[^\]^][^\]]*\]:[ \t]*\S.*$", text, re.M))


def plain(fragment: str) -> str:
    """Text content of an HTML fragment."""
    return html.unescape(re.sub(r"<[^>]*>", "", fragment))


def render_page(path: Path) -> str:
    """Render a page the way the API serves it: one <section> per heading."""
    text = path.read_text(encoding="utf-8")
    references = reference_lines(text)
    parts = []
    for title, body in split_page(text):
        slug = "intro" if title is None else heading_id(plain(render_title(title)))
        body_html = render_body(body, references=references)
        parts.append(section_html(slug=slug, title=title, body_html=body_html))
    return "\n".join(parts) + "\n"


def corpus_pages() -> list[Path]:
    return sorted(p for p in SITE.rglob("*.md") if p.name != "NOTICE.md")


# --- golden pages -------------------------------------------------------------------------

GOLDEN_PAGES = {
    "community": SEED / "community.md",
    "implementations": SITE / "implementations" / "index.md",  # table, reference links, badges
    "office_hours": SITE / "office_hours" / "index.md",  # raw HTML, iframe, script, onclick
}


@pytest.mark.parametrize("name", sorted(GOLDEN_PAGES))
def test_golden_page(name: str) -> None:
    rendered = render_page(GOLDEN_PAGES[name])
    golden = GOLDEN / f"{name}.html"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(rendered, encoding="utf-8")
    assert golden.exists(), f"{golden} missing; run with UPDATE_GOLDEN=1 to create it"
    assert rendered == golden.read_text(encoding="utf-8")


# --- every corpus page --------------------------------------------------------------------

_INLINE_URL_RE = re.compile(r"\]\(\s*<?([^)\s>]+)")
_AUTOLINK_RE = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_HREF_RE = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
_DEFINITION_RE = re.compile(r"^ {0,3}\[([^\]]+)\]:[ \t]*<?(\S+?)>?(?:[ \t].*)?$", re.M)


def source_urls(text: str) -> set[str]:
    """Link and image URLs written in a page's Markdown or raw HTML."""
    urls = set(_INLINE_URL_RE.findall(text)) | set(_AUTOLINK_RE.findall(text))
    urls |= {html.unescape(a or b) for a, b in _HREF_RE.findall(text)}
    for name, url in _DEFINITION_RE.findall(text):
        if re.search(rf"\[{re.escape(name)}\](?!:)", text, re.I):
            urls.add(url)
    return urls


def table_cells(text: str) -> list[str]:
    """Plain text of every pipe-table cell outside code."""
    cells = []
    for line in text.split("\n"):
        if not line.lstrip().startswith("|") or re.fullmatch(r"[\s|:-]+", line):
            continue
        for cell in line.strip().strip("|").split("|"):
            cell = re.sub(r"!\[[^\]]*\](?:\[[^\]]*\]|\([^)]*\))", "", cell)
            cell = re.sub(r"\[([^\]]+)\](?:\[[^\]]*\]|\([^)]*\))?", r"\1", cell)
            cell = " ".join(cell.replace("`", "").split())
            if cell:
                cells.append(cell)
    return cells


@pytest.mark.parametrize("path", corpus_pages(), ids=lambda p: str(p.relative_to(SITE)))
def test_corpus_page_renders_without_noise_or_loss(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    rendered = render_page(path)
    assert "{{" not in rendered and "{%" not in rendered
    found = {
        value
        for _, attrs in elements(parse(rendered))
        for name, value in attrs.items()
        if name in ("href", "src")
    }
    missing = {url for url in source_urls(text) if not is_unsafe(url)} - found
    assert not missing, f"{path.name}: link URLs lost: {sorted(missing)}"
    rendered_text = " ".join(plain(rendered).split())
    lost = [cell for cell in table_cells(text) if cell not in rendered_text]
    assert not lost, f"{path.name}: table cells lost: {lost}"


def test_corpus_helpers_find_something() -> None:
    sample = "| [a](https://a.example) | ![][b] |\n|---|---|\n\n[b]: https://b.example\n"
    assert source_urls(sample) == {"https://a.example", "https://b.example"}
    assert table_cells(sample) == ["a"]


# --- security with real payloads ----------------------------------------------------------


@pytest.mark.parametrize("path", payload_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_payloads_render_safely(path: Path) -> None:
    failures = []
    payloads = payloads_in(path)
    assert payloads
    for payload in payloads:
        body_html = render_body(payload)
        wrapped = section_html(slug=payload, title=payload, body_html=body_html)
        issues = problems(wrapped)
        if issues:
            failures.append(f"{payload!r} -> {issues}")
    assert not failures, f"{len(failures)} unsafe renderings, e.g.:\n" + "\n".join(failures[:10])


def test_problem_detector_catches_the_basics() -> None:
    assert problems("<script>alert(1)</script>") == ["<script>"]
    assert problems('<a href=" jav&#x09;ascript:alert(1)">x</a>')
    assert problems('<img src="x" onerror="alert(1)">') == ["<img onerror=...>"]
    assert problems('<iframe src="https://evil.example/"></iframe>')
    assert problems("<svg><a xlink:href='javascript:alert(1)'>x</a></svg>")
    assert not problems('<iframe src="https://www.youtube.com/embed/x"></iframe>')


# --- sanitizing, embeds, links ------------------------------------------------------------


def test_youtube_iframe_kept_with_allowed_attributes_only() -> None:
    body = (
        '<iframe width="640" height="480" src="https://www.youtube.com/embed/abc" '
        'frameborder="0" allowfullscreen onload="alert(1)" style="border:0" '
        'srcdoc="<script>alert(1)</script>">fallback</iframe>'
    )
    rendered = render_body(body)
    [(tag, attrs)] = list(elements(parse(rendered)))
    assert tag == "iframe"
    assert attrs == {
        "width": "640",
        "height": "480",
        "src": "https://www.youtube.com/embed/abc",
        "frameborder": "0",
        "allowfullscreen": "",
    }
    assert set(attrs) <= ALLOWED_ATTRIBUTES["iframe"] | ALLOWED_ATTRIBUTES["*"]


@pytest.mark.parametrize(
    "src",
    [
        "https://evil.example/embed",
        "http://www.youtube.com/embed/abc",
        "https://www.youtube.com.evil.example/embed",
        "https://evil.example\\@www.youtube.com/",
        "https://user@www.youtube.com/embed",
        "javascript:alert(1)",
        "//www.youtube.com/embed/abc",
        "/relative",
        "",
    ],
)
def test_iframe_elsewhere_removed_entirely(src: str) -> None:
    rendered = render_body(f'Before\n\n<iframe src="{src}">fallback text</iframe>\n\nAfter')
    assert "iframe" not in rendered
    assert "fallback" not in rendered
    assert "Before" in rendered and "After" in rendered


def test_embed_hosts_come_from_settings() -> None:
    body = '<iframe src="https://player.example/v/1"></iframe>'
    assert "iframe" not in render_body(body)
    allowed = RenderSettings(embed_hosts=frozenset({"player.example"}))
    assert '<iframe src="https://player.example/v/1"></iframe>' in render_body(
        body, settings=allowed
    )


def test_target_blank_links_get_noopener_and_others_keep_their_rel() -> None:
    rendered = render_body(
        '<a href="https://a.example" target="_blank">a</a> '
        '<a href="https://b.example" rel="me">b</a> '
        '<a href="https://c.example" target="_blank" rel="author">c</a> '
        '<a href="https://d.example" target="_top">d</a> '
        "[e](https://e.example){: target=_blank}"
    )
    links = {attrs["href"]: attrs for tag, attrs in elements(parse(rendered)) if tag == "a"}
    assert links["https://a.example"]["rel"] == "noopener noreferrer"
    assert links["https://b.example"] == {"href": "https://b.example", "rel": "me"}
    assert links["https://c.example"]["rel"] == "author noopener noreferrer"
    assert links["https://d.example"] == {"href": "https://d.example"}
    assert links["https://e.example"]["rel"] == "noopener noreferrer"


@pytest.mark.parametrize(
    "body",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        "<x@y.example> ![i](data:image/png;base64,iVBORw0KGgo=)",
        '<img src="x" onerror="alert(1)">',
        '<p style="color:red" onclick="alert(1)">x</p>',
        '<form action="https://evil.example"><input name="q"><button>Go</button></form>',
        '<object data="x.swf"></object><embed src="x.swf">',
        "<svg><script>alert(1)</script></svg><math><mi>x</mi></math>",
        '<base href="https://evil.example/"><meta http-equiv="refresh"><link rel="x">',
    ],
)
def test_dangerous_markup_is_neutralized(body: str) -> None:
    rendered = render_body(body)
    assert problems(rendered) == []
    assert "alert" not in "".join(v for _, a in elements(parse(rendered)) for v in a.values())


def test_allowed_markup_survives() -> None:
    body = (
        "| Left | Right |\n|:-----|------:|\n| `a` | [b](https://b.example) |\n\n"
        "![badge](https://img.shields.io/badge/x-y-green) ![logo](../logos/x.svg)\n\n"
        "```python\nprint('<b>')\n```\n\n"
        "<details><summary>More</summary>\n\nHidden *text*\n</details>\n\n"
        '<div class="video" markdown="1">*md* inside</div>\n\n'
        '<figure><img src="/a.png" alt="A"><figcaption>Cap</figcaption></figure>\n\n'
        '<span id="anchor"></span><font size="4" color="red">Big</font> H<sub>2</sub>O '
        'x<sup>2</sup> <kbd>Ctrl</kbd> <abbr title="Hypertext">HT</abbr> ~~old~~\n\n'
        "Term\n: Definition\n\n---\n\n> quote"
    )
    rendered = render_body(body)
    tags = {tag for tag, _ in elements(parse(rendered))}
    assert {"table", "thead", "tbody", "th", "td", "code", "a", "img", "pre"} <= tags
    assert {"details", "summary", "div", "figure", "figcaption", "span", "font"} <= tags
    assert {"sub", "sup", "kbd", "abbr", "del", "dl", "dt", "dd", "hr", "blockquote"} <= tags
    assert tags <= ALLOWED_TAGS
    assert '<th align="left">Left</th>' in rendered
    assert '<td align="right"><a href="https://b.example">b</a></td>' in rendered
    assert '<img alt="badge" src="https://img.shields.io/badge/x-y-green">' in rendered
    assert "<code class=\"language-python\">print('&lt;b&gt;')" in rendered
    assert '<div class="video">\n<p><em>md</em> inside</p>\n</div>' in rendered
    assert '<span id="anchor"></span><font size="4">Big</font>' in rendered


def test_markdown_inside_html_only_with_markdown_attribute() -> None:
    assert render_body("<div>\n*raw*\n</div>") == "<div>\n*raw*\n</div>"
    assert "<em>md</em>" in render_body('<div markdown="1">\n*md*\n</div>')


def test_script_embed_and_onclick_from_the_site_are_dropped() -> None:
    body = (
        '<button type="button" class="btn" onclick="window.open(\'https://x.example\');">'
        "Join here</button>\n\n"
        '<script async src="//speakerdeck.com/assets/embed.js"></script>'
    )
    assert render_body(body) == "<p>Join here</p>"


def test_font_size_must_be_valid() -> None:
    assert render_body('<font size="+2">a</font>') == '<font size="+2">a</font>'
    assert render_body('<font size="expression(alert(1))">a</font>') == "<font>a</font>"


def test_sanitize_html_is_idempotent_on_rendered_pages() -> None:
    once = render_body("Hi <a href='https://x.example' target=_blank>x</a> <iframe></iframe>")
    assert sanitize_html(once) == once


# --- kramdown fidelity --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("Community meetings", "community-meetings"),
        ("Join the community", "join-the-community"),
        ("192 abc 192", "192-abc-192"),
        ('With "smart" quotes', "with-smart-quotes"),
        ("before \tafter", "before--after"),
        ("Zarr's v3 -- spec", "zarrs-v3--spec"),
        ("öúß & Co.", "öúß--co"),
        ("`code` and *em* [link](https://x.example)", "code-and-em-link"),
        ("<span>Raw</span> &amp; entity", "raw--entity"),
        ("snake_case 3.0", "snake_case-30"),
        ("!!!", None),
    ],
)
def test_heading_ids_follow_kramdown_gfm(heading: str, expected: str | None) -> None:
    rendered = render_body(f"### {heading}")
    match = re.match(r'<h3(?: id="([^"]*)")?>', rendered)
    assert match, rendered
    assert match.group(1) == expected


def test_heading_ids_duplicates_and_explicit_ids() -> None:
    rendered = render_body("# Blog\n\n### Blog\n\n#### Blog\n\n### Blog 1\n\n### Other {#mine}")
    ids = re.findall(r' id="([^"]*)"', rendered)
    # kramdown would give "blog-1" twice; ids within a body stay unique instead.
    assert ids == ["blog", "blog-1", "blog-2", "blog-1-1", "mine"]


def test_heading_id_function() -> None:
    assert heading_id("Community meetings") == "community-meetings"
    assert heading_id("  Trim? No ") == "--trim-no-"
    assert heading_id("“Quoted” – dash") == "quoted--dash"


def test_block_attribute_lists_like_kramdown() -> None:
    body = (
        "Note this.\n{: .notice}\n\n{: .notice--info}\nNext one.\n\n"
        "- a\n- b\n{: .list}\n\n### Title\n{: .big}\n\n```\ncode\n```\n{: .ignored}\n\nAfter."
    )
    rendered = render_body(body)
    assert '<p class="notice">Note this.</p>' in rendered
    assert '<p class="notice--info">Next one.</p>' in rendered
    assert '<ul class="list">' in rendered
    assert '<h3 class="big" id="title">Title</h3>' in rendered
    assert "<p>After.</p>" in rendered
    assert "{:" not in rendered and "ignored" not in rendered


def test_indented_attribute_list_stays_in_its_list_item() -> None:
    assert render_body("- a\n  {: .in}\n- b") == '<ul>\n<li class="in">a</li>\n<li>b</li>\n</ul>'


def test_kramdown_extension_lines() -> None:
    body = '{::comment}\nhidden\n{:/comment}\n{::options auto_ids="false" /}\nshown'
    assert render_body(body) == "<p>shown</p>"
    assert "{::comment}" in render_body("```\n{::comment}\n```")


def test_span_attribute_list_on_link() -> None:
    rendered = render_body("[Join here](https://x.example){: .btn .btn--primary}")
    assert rendered == '<p><a class="btn btn--primary" href="https://x.example">Join here</a></p>'


def test_lists_interrupt_paragraphs_like_gfm() -> None:
    rendered = render_body("If you are looking to:\n- one\n- two\n\nText\n1. first")
    assert rendered == (
        "<p>If you are looking to:</p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
        "<p>Text</p>\n<ol>\n<li>first</li>\n</ol>"
    )


def test_smart_quotes_and_typography() -> None:
    rendered = render_body("It's \"quoted\" -- and --- more... <<x>> `don't`")
    assert rendered == "<p>It’s “quoted” – and — more… «x» <code>don't</code></p>"


def test_footnotes_use_kramdown_classes() -> None:
    rendered = render_body("Text[^1].\n\n[^1]: The note.")
    assert '<sup id="fnref:1"><a class="footnote" href="#fn:1">1</a></sup>' in rendered
    assert '<div class="footnotes">' in rendered and "<hr>" not in rendered
    assert 'class="reversefootnote" href="#fnref:1"' in rendered


def test_crlf_and_missing_final_newline() -> None:
    assert render_body("a\r\nb\r\n\r\n- c") == render_body("a\nb\n\n- c")
    assert render_body("last line") == "<p>last line</p>"


def test_emoji_left_as_is() -> None:
    assert render_body("Hi :tada: 🌏") == "<p>Hi :tada: 🌏</p>"


def test_empty_body() -> None:
    assert render_body("") == ""
    assert render_body("  \n\n") == ""


# --- references from elsewhere in the page ------------------------------------------------


def test_references_from_other_sections_resolve_without_output() -> None:
    references = "[GDAL]: https://gdal.org/\n[badge]: https://img.shields.io/x\n[^1]: a note"
    rendered = render_body("[GDAL] and ![][badge] and [^1]", references=references)
    assert rendered == (
        '<p><a href="https://gdal.org/">GDAL</a> and '
        '<img alt="" src="https://img.shields.io/x"> and [^1]</p>'
    )


def test_own_definitions_win_over_references() -> None:
    rendered = render_body(
        "[x]\n\n[x]: https://own.example", references="[x]: https://other.example"
    )
    assert rendered == '<p><a href="https://own.example">x</a></p>'


def test_references_alone_render_nothing() -> None:
    assert render_body("", references="[a]: https://a.example") == ""
    assert render_body("Text", references="[a]: https://a.example\n<script>x</script>") == (
        "<p>Text</p>"
    )


# --- Liquid -------------------------------------------------------------------------------

SETTINGS = RenderSettings(
    site_url="https://zarr.dev", baseurl="/site", site_variables={"title": "Zarr"}
)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ site.url }}", "https://zarr.dev"),
        ("{{site.baseurl}}/x", "/site/x"),
        ("{{- site.title -}}", "Zarr"),
        ('{{ "/about/" | relative_url }}', "/site/about/"),
        ("{{ '/about/' | absolute_url }}", "https://zarr.dev/site/about/"),
        ('{{ "https://x.example/" | relative_url }}', "https://x.example/"),
        ("{{ site.missing }}", ""),
        ("{{ page.title }}", ""),
        ("{{ site.title | upcase }}", ""),
        ("{% include footer.html %}", ""),
        ("{% if x %}kept{% endif %}", "kept"),
        ("{% comment %}gone{% endcomment %}", ""),
        ("{% raw %}{{ site.url }} {% tag %}{% endraw %}", "{{ site.url }} {% tag %}"),
    ],
)
def test_liquid(source: str, expected: str) -> None:
    assert apply_liquid(source, SETTINGS) == expected


def test_liquid_in_links_and_highlight_blocks() -> None:
    body = (
        "[About]({{ site.baseurl }}/about/) [Home]({{ '/' | absolute_url }})\n\n"
        "{% highlight python linenos %}\nx = '{{ site.title }}'\n```\n{% endhighlight %}"
    )
    rendered = render_body(body, settings=SETTINGS)
    assert '<a href="/site/about/">About</a>' in rendered
    assert '<a href="https://zarr.dev/site/">Home</a>' in rendered
    assert "<pre><code class=\"language-python\">x = 'Zarr'\n```\n</code></pre>" in rendered


def test_liquid_does_not_change_the_source() -> None:
    body = "{{ site.url }} {% include x %}"
    render_body(body)
    assert body == "{{ site.url }} {% include x %}"


# --- section_html -------------------------------------------------------------------------


def test_section_html_with_title() -> None:
    html_out = section_html(slug="zarr-python", title="`zarr-python` *usage*", body_html="<p>x</p>")
    assert html_out == (
        '<section data-section="zarr-python"><h2 id="zarr-python">'
        "<code>zarr-python</code> <em>usage</em></h2><p>x</p></section>"
    )


def test_section_html_title_drops_heading_attribute_list() -> None:
    assert section_html(slug="x", title="Title {#x}", body_html="") == (
        '<section data-section="x"><h2 id="x">Title</h2></section>'
    )


def test_section_html_intro_has_no_heading() -> None:
    assert section_html(slug="intro", title=None, body_html="<p>x</p>") == (
        '<section data-section="intro"><p>x</p></section>'
    )


def test_section_html_escapes_slug_and_sanitizes_title() -> None:
    html_out = section_html(
        slug='"><script>x</script>',
        title="- 1. <script>alert(1)</script><div>block</div> [a](javascript:x)",
        body_html="",
    )
    assert problems(html_out) == []
    assert 'data-section="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in html_out
    assert "<h2" in html_out and "<div" not in html_out and "<li" not in html_out
    assert "- 1. " in plain(html_out) and "block" in plain(html_out)


def test_extension_list_is_one_constant() -> None:
    assert "tables" in MARKDOWN_EXTENSIONS and "footnotes" in MARKDOWN_EXTENSIONS


# --- differential check against the real renderer (when installed) ------------------------

KRAMDOWN = (
    'require "kramdown"; require "kramdown-parser-gfm"; '
    'puts Kramdown::Document.new(STDIN.read, input: "GFM", hard_wrap: false, '
    "syntax_highlighter: nil).to_html"
)


def kramdown_html(source: str) -> str | None:
    """What kramdown (GFM) makes of source, or None when it is not installed."""
    if not shutil.which("ruby"):
        return None
    done = subprocess.run(
        ["ruby", "-e", KRAMDOWN], input=source, capture_output=True, text=True, check=False
    )
    return done.stdout if done.returncode == 0 else None


def shape(fragment: str) -> list[str]:
    """Elements, attributes and whitespace-collapsed text in document order."""
    out = []
    for element in parse(fragment).iter():
        if element.tag != "DOCUMENT_FRAGMENT":
            out.append(f"<{element.tag} {sorted(element.attrib.items())}>")
        for text in (element.text, element.tail):
            if text and text.strip():
                out.append(" ".join(text.split()))
    return out


@pytest.mark.parametrize("path", corpus_pages(), ids=lambda p: str(p.relative_to(SITE)))
def test_corpus_page_matches_kramdown(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    source = apply_liquid(split_page_source(text))
    expected = kramdown_html(source)
    if expected is None:
        unavailable("ruby with kramdown and kramdown-parser-gfm is not installed")
    assert shape(render_body(source)) == shape(sanitize_html(expected))


def split_page_source(text: str) -> str:
    """A page's Markdown without its front matter."""
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        return text[text.index("\n", end + 1) + 1 :]
    return text
