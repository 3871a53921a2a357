"""Render section bodies (kramdown-flavoured Markdown from zarr.dev) to sanitized HTML.

zarr.dev is built by Jekyll with kramdown (GFM input); we render with Python-Markdown plus the
extensions in ``MARKDOWN_EXTENSIONS`` and a small ``KramdownExtension`` that closes the gaps that
matter on real pages: block attribute lists on the line after a block (``{: .notice}``), lists
that interrupt a paragraph, ``~~strike~~``, GFM heading ids, kramdown's footnote classes and the
``{::comment}``/``{::options}``/``{::nomarkdown}`` extension lines (dropped).

Liquid is handled at render time only; the stored Markdown is never changed:

* ``{{ site.url }}``, ``{{ site.baseurl }}`` and ``{{ site.NAME }}`` for every NAME in
  ``RenderSettings.site_variables`` resolve, as do string literals; the filters
  ``relative_url`` and ``absolute_url`` work as in Jekyll. Any other output (``{{ page.x }}``,
  unknown variables or filters) is removed.
* ``{% raw %}…{% endraw %}`` gives its content literally (then rendered as Markdown).
* ``{% highlight LANG %}…{% endhighlight %}`` becomes a fenced code block in LANG.
* ``{% comment %}…{% endcomment %}`` is removed with its content; every other tag
  (``{% include %}``, ``{% if %}``, ``{% for %}``, …) is removed, keeping the text between tags.

The HTML is then sanitized with nh3 (ammonia) against ``ALLOWED_TAGS`` / ``ALLOWED_ATTRIBUTES``:
no scripts, styles, forms, objects, SVG/MathML or event handlers; ``style`` attributes are
dropped; URLs must be relative or use ``ALLOWED_URL_SCHEMES`` (no ``data:`` anywhere);
``<iframe>`` survives only with an ``https`` ``src`` on ``RenderSettings.embed_hosts`` and is
removed entirely otherwise; ``<font>`` keeps only a valid ``size``; links with
``target="_blank"`` (the only target kept) get ``rel="noopener noreferrer"``, other links keep
their own ``rel``. ``id`` and ``class`` are kept as written so anchors and the site's CSS
classes (``.btn``, ``.notice``) work.

Known differences from kramdown: nested lists need four spaces of indentation (Python-Markdown),
a block attribute list after a code block or raw HTML block is dropped, Markdown inside
``markdown="1"`` HTML blocks skips the attribute-list and list-break fixes, footnotes must be
defined in the same section, and heading ids are de-duplicated within one body only (where
kramdown would repeat an id, e.g. ``Blog``, ``Blog``, ``Blog 1``, we count on to ``blog-1-1``).
"""

from __future__ import annotations

import html
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

import markdown
import nh3
from markdown.blockprocessors import BlockProcessor, ParagraphProcessor
from markdown.extensions import Extension
from markdown.inlinepatterns import SimpleTagInlineProcessor
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import ETX, HTML_PLACEHOLDER_RE, STX, Registry

from api.markdown.entities import shorten_references

# Python-Markdown counterparts of what kramdown does on zarr.dev; shared by import and export.
MARKDOWN_EXTENSIONS: tuple[str, ...] = (
    "abbr",
    "attr_list",
    "def_list",
    "fenced_code",
    "footnotes",
    "md_in_html",
    "sane_lists",
    "smarty",
    "tables",
)
MARKDOWN_EXTENSION_CONFIGS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "smarty": MappingProxyType({"smart_angled_quotes": True}),
        # kramdown writes alignment as style, which we drop; align survives sanitizing.
        "tables": MappingProxyType({"use_align_attribute": True}),
    }
)

ALLOWED_URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})

_INLINE_TAGS = {
    "a", "abbr", "b", "br", "cite", "code", "del", "dfn", "em", "font", "i", "img", "ins",
    "kbd", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var",
}  # fmt: skip
ALLOWED_TAGS: frozenset[str] = frozenset(
    _INLINE_TAGS
    | {"p", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "blockquote", "pre", "div", "center"}
    | {"ul", "ol", "li", "dl", "dt", "dd", "details", "summary", "figure", "figcaption"}
    | {"table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "th", "td"}
    | {"iframe"}
)
INLINE_TAGS: frozenset[str] = frozenset(_INLINE_TAGS)  # what a section title may contain

_CELL = frozenset({"align", "colspan", "rowspan", "valign"})
ALLOWED_ATTRIBUTES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "*": frozenset({"id", "class", "title", "lang", "dir"}),
        "a": frozenset({"href", "target", "rel", "hreflang"}),
        "img": frozenset({"src", "alt", "width", "height", "loading"}),
        "iframe": frozenset(
            {"src", "width", "height", "allow", "allowfullscreen", "frameborder", "loading"}
            | {"referrerpolicy", "scrolling"}
        ),
        "font": frozenset({"size"}),
        "ol": frozenset({"start", "reversed", "type"}),
        "li": frozenset({"value"}),
        "td": _CELL,
        "th": _CELL | {"scope"},
        "col": frozenset({"align", "span", "width"}),
        "colgroup": frozenset({"align", "span", "width"}),
        "table": frozenset({"align"}),
        "p": frozenset({"align"}),
        "div": frozenset({"align"}),
        "details": frozenset({"open"}),
        "time": frozenset({"datetime"}),
        "del": frozenset({"datetime"}),
        "ins": frozenset({"datetime"}),
    }
)
# Removed together with their content; everything else not allowed keeps its text.
_CLEAN_CONTENT_TAGS = frozenset(
    {"script", "style", "template", "noscript", "noembed", "noframes", "xmp", "object"}
    | {"embed", "applet", "svg", "math", "select", "textarea"}
)

_DEFAULT_EMBED_HOSTS = frozenset(
    {"www.youtube.com", "www.youtube-nocookie.com", "calendar.google.com", "player.vimeo.com"}
)


@dataclass(frozen=True)
class RenderSettings:
    """Site values for Liquid and the hosts allowed to be embedded."""

    site_url: str = "https://zarr.dev"
    baseurl: str = ""
    site_variables: Mapping[str, str] = field(default_factory=dict)
    embed_hosts: frozenset[str] = _DEFAULT_EMBED_HOSTS


DEFAULT_SETTINGS = RenderSettings()


def render_body(
    body: str, *, references: str = "", settings: RenderSettings = DEFAULT_SETTINGS
) -> str:
    """Render one section body (without its heading) to sanitized HTML."""
    md = new_markdown()
    refs = _reference_definitions(references, settings)
    md.references.update(refs)
    html_out = md.convert(apply_liquid(_clean_source(body), settings))
    return sanitize_html(html_out, settings).strip()


def render_title(title: str, settings: RenderSettings = DEFAULT_SETTINGS) -> str:
    """Render a heading's Markdown as sanitized inline HTML."""
    md = new_markdown(inline=True)
    text = " ".join(apply_liquid(_clean_source(title), settings).split())
    text = _HEADING_IAL_RE.sub("", text)
    rendered = md.convert(text)
    match = re.fullmatch(r"<p[^>]*>(.*)</p>", rendered, re.S)
    return _sanitize(match.group(1) if match else rendered, settings, inline=True)


def section_html(
    *,
    slug: str,
    title: str | None,
    body_html: str,
    settings: RenderSettings = DEFAULT_SETTINGS,
) -> str:
    """Wrap a rendered body as ``<section>`` with its ``<h2>`` (none for the intro)."""
    heading_html = None if title is None else render_title(title, settings)
    return wrap_section(slug=slug, heading_html=heading_html, body_html=body_html)


def wrap_section(*, slug: str, heading_html: str | None, body_html: str) -> str:
    """The contract's ``<section>`` fragment from HTML rendered earlier (no rendering here)."""
    slug_attr = html.escape(slug, quote=True)
    heading = "" if heading_html is None else f'<h2 id="{slug_attr}">{heading_html}</h2>'
    return f'<section data-section="{slug_attr}">{heading}{body_html}</section>'


def sanitize_html(html: str, settings: RenderSettings = DEFAULT_SETTINGS) -> str:
    """Reduce HTML to the allow-lists, keeping iframes only for allowed embed hosts."""
    return _sanitize(html, settings, inline=False)


def heading_id(text: str) -> str:
    """Turn a heading's plain text into its id as kramdown's GFM parser does (maybe empty)."""
    kept = "".join(ch for ch in text.lower() if ch in "- \t" or _is_word_char(ch))
    return kept.replace(" ", "-").replace("\t", "-")


def new_markdown(*, inline: bool = False) -> markdown.Markdown:
    """Build a fresh Markdown converter with the site's extensions (inline: spans only)."""
    configs = {name: dict(conf) for name, conf in MARKDOWN_EXTENSION_CONFIGS.items()}
    md = markdown.Markdown(
        extensions=[*MARKDOWN_EXTENSIONS, KramdownExtension()],
        extension_configs=configs,
        output_format="html",
    )
    # kramdown treats <font> at the start of a line as an HTML block, not as paragraph text.
    md.block_level_elements.append("font")
    if inline:
        paragraphs_only: Registry[BlockProcessor] = Registry()
        paragraphs_only.register(ParagraphProcessor(md.parser), "paragraph", 10)
        md.parser.blockprocessors = paragraphs_only
        for name in ("html_block", "fenced_code_block", "kramdown_blocks"):
            md.preprocessors.deregister(name, strict=False)
    return md


# --- Liquid -------------------------------------------------------------------------------

_RAW_RE = re.compile(r"{%-?\s*raw\s*-?%}(.*?){%-?\s*endraw\s*-?%}", re.S)
_COMMENT_RE = re.compile(r"{%-?\s*comment\s*-?%}.*?{%-?\s*endcomment\s*-?%}", re.S)
_HIGHLIGHT_RE = re.compile(
    r"{%-?\s*highlight(?:\s+([^\s%}]*))?[^%]*?-?%}[ \t]*\n?(.*?)\n?[ \t]*"
    r"{%-?\s*endhighlight\s*-?%}",
    re.S,
)
_OUTPUT_RE = re.compile(r"{{-?(.*?)-?}}", re.S)
_TAG_RE = re.compile(r"{%.*?%}", re.S)
_LANG_RE = re.compile(r"[\w+#.-]+")
_LITERAL_RE = re.compile(r"""^(?:"([^"]*)"|'([^']*)')$""")
_BACKTICK_FENCE_RE = re.compile(r"^[ \t]*(`{3,})", re.M)


def apply_liquid(text: str, settings: RenderSettings = DEFAULT_SETTINGS) -> str:
    """Resolve or remove Liquid in Markdown source as described in the module docstring."""
    raws: list[str] = []
    token = f"zliquidraw{secrets.token_hex(6)}n"

    def keep_raw(match: re.Match[str]) -> str:
        raws.append(match.group(1))
        return f"{token}{len(raws) - 1}z"

    text = _RAW_RE.sub(keep_raw, text)
    text = _COMMENT_RE.sub("", text)
    text = _OUTPUT_RE.sub(lambda m: _liquid_output(m.group(1), settings), text)
    text = _HIGHLIGHT_RE.sub(_highlight_to_fence, text)
    text = _TAG_RE.sub("", text)
    return re.sub(rf"{token}(\d+)z", lambda m: raws[int(m.group(1))], text)


def _liquid_output(expression: str, settings: RenderSettings) -> str:
    value, *filters = (part.strip() for part in expression.split("|"))
    literal = _LITERAL_RE.match(value)
    if literal:
        result = literal.group(1) if literal.group(1) is not None else literal.group(2)
    elif value == "site.url":
        result = settings.site_url
    elif value == "site.baseurl":
        result = settings.baseurl
    elif value.startswith("site.") and value[5:] in settings.site_variables:
        result = str(settings.site_variables[value[5:]])
    else:
        return ""
    for name in filters:
        if name == "relative_url":
            result = _relative_url(result, settings)
        elif name == "absolute_url":
            result = _absolute_url(result, settings)
        else:
            return ""
    return result


def _relative_url(path: str, settings: RenderSettings) -> str:
    # Jekyll: an absolute URL stays; otherwise baseurl and path, each with a leading slash.
    if urlsplit(path).scheme:
        return path
    return "".join(_leading_slash(part) for part in (settings.baseurl.rstrip("/"), path))


def _absolute_url(path: str, settings: RenderSettings) -> str:
    if urlsplit(path).scheme:
        return path
    return settings.site_url + _relative_url(path, settings)


def _leading_slash(part: str) -> str:
    return part if not part or part.startswith("/") else "/" + part


def _highlight_to_fence(match: re.Match[str]) -> str:
    lang = match.group(1) or ""
    lang = lang if _LANG_RE.fullmatch(lang) else ""
    code = match.group(2)
    longest = max((len(m.group(1)) for m in _BACKTICK_FENCE_RE.finditer(code)), default=2)
    fence = "`" * max(3, longest + 1)
    return f"\n{fence}{lang}\n{code}\n{fence}\n"


# --- Markdown source ----------------------------------------------------------------------

_HEADING_IAL_RE = re.compile(r"[ \t]+\{:?[ \t]*[#.][^}]*\}$")  # "Title {#id}": the id is the slug
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_REFERENCE_LINE_RE = re.compile(r"^ {0,3}\[([^\]]+)\]:[ \t]*\S", re.M)


def _clean_source(text: str) -> str:
    # STX/ETX are Python-Markdown's placeholder delimiters; other controls are invisible anyway.
    # Python-Markdown decodes references with html.unescape, which fails on very long numbers.
    text = shorten_references(text)
    return _CONTROL_RE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _reference_definitions(
    references: str, settings: RenderSettings
) -> dict[str, tuple[str, str | None]]:
    if not _REFERENCE_LINE_RE.search(references):
        return {}
    lines = [m.group(0) for m in re.finditer(r"^ {0,3}\[[^\]]+\]:.*$", references, re.M)]
    parser = markdown.Markdown()
    parser.convert(apply_liquid(_clean_source("\n".join(lines)), settings))
    # "[^x]: ..." is a footnote in kramdown, never a link target.
    return {name: ref for name, ref in parser.references.items() if not name.startswith("^")}


# --- kramdown compatibility ---------------------------------------------------------------

# Indented attribute lists stay in their block, where attr_list already finds them.
_IAL_LINE_RE = re.compile(r"^\{:(?![:/])([^}\n]*)\}[ \t]*$")
# kramdown extensions: a comment block renders as an HTML comment (which we strip anyway),
# options and nomarkdown markers have nothing to show.
_COMMENT_START_RE = re.compile(r"^\{::comment\}[ \t]*$")
_COMMENT_END_RE = re.compile(r"^\{:/(?:comment)?\}[ \t]*$")
_EXTENSION_LINE_RE = re.compile(
    r"^(?:\{::options\b[^}]*/\}|\{::comment\s*/\}|\{:/?:?nomarkdown\})\s*$"
)
_FOOTNOTE_CLASSES = {  # Python-Markdown's names -> kramdown's, which the site's CSS styles
    "footnote": "footnotes",
    "footnote-ref": "footnote",
    "footnote-backref": "reversefootnote",
}
_ALD_RE = re.compile(r"^[\w-]+:")  # {:name: attrs} defines a reusable list; nothing to render
_LIST_START_RE = re.compile(r"^ {0,3}(?:[*+-]|\d{1,9}\.)[ \t]+\S")
_NOT_PARAGRAPH_RE = re.compile(r"^(?: {4}|\t| {0,3}(?:[>|#<]|[*+-][ \t]|\d{1,9}\.[ \t]))")


class KramdownExtension(Extension):
    """Python-Markdown additions that make the output agree with kramdown (GFM input)."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown's API)
        """Register the preprocessor, the strikethrough pattern and the tree fix-ups."""
        marker = f"zkramdownial{secrets.token_hex(6)}n"
        attribute_lists: list[tuple[str, str]] = []
        # After fenced code (25) and raw HTML (20) are stashed, so their lines are left alone.
        md.preprocessors.register(
            _KramdownBlocks(md, marker, attribute_lists), "kramdown_blocks", 15
        )
        md.inlinePatterns.register(
            SimpleTagInlineProcessor(r"(~~)(?![\s~])(.+?)(?<![\s~])~~", "del"), "gfm_del", 65
        )
        # After smarty (6), so headings contain the dashes and quotes kramdown sees.
        md.treeprocessors.register(_KramdownTree(md, marker, attribute_lists), "kramdown_tree", 4)


class _KramdownBlocks(Preprocessor):
    """Let lists interrupt paragraphs and turn block attribute lines into marker paragraphs."""

    def __init__(
        self, md: markdown.Markdown, marker: str, attribute_lists: list[tuple[str, str]]
    ) -> None:
        super().__init__(md)
        self.marker = marker
        self.attribute_lists = attribute_lists

    def run(self, lines: list[str]) -> list[str]:
        """Return the lines with blank lines and markers inserted."""
        out: list[str] = []
        in_paragraph = False
        previous = ""
        previous_was_ial = False
        direction = "next"
        blank_run = 0
        last_text = ""
        in_comment = False
        for line in lines:
            if in_comment or _COMMENT_START_RE.match(line):
                in_comment = not (in_comment and _COMMENT_END_RE.match(line))
                continue
            if _EXTENSION_LINE_RE.match(line):
                continue
            ial = _IAL_LINE_RE.match(line)
            if ial:
                if not previous_was_ial:
                    # A stashed code or HTML block is followed by one added blank line.
                    after_stash = blank_run == 1 and HTML_PLACEHOLDER_RE.fullmatch(last_text)
                    direction = "prev" if previous.strip() or after_stash else "next"
                if not _ALD_RE.match(ial.group(1).strip()):
                    self.attribute_lists.append((direction, ial.group(1)))
                    out += ["", f"{self.marker}{len(self.attribute_lists) - 1}z", ""]
                previous, previous_was_ial, in_paragraph = line, True, False
                blank_run, last_text = 0, line.strip()
                continue
            if not line.strip():
                in_paragraph = False
            elif not previous.strip() or previous_was_ial:
                in_paragraph = not _NOT_PARAGRAPH_RE.match(line)
            elif in_paragraph and _LIST_START_RE.match(line):
                out.append("")
                in_paragraph = False
            out.append(line)
            previous, previous_was_ial = line, False
            blank_run = 0 if line.strip() else blank_run + 1
            last_text = line.strip() or last_text
        return out


class _KramdownTree(Treeprocessor):
    """Apply block attribute lists, kramdown footnote classes and GFM heading ids."""

    def __init__(
        self, md: markdown.Markdown, marker: str, attribute_lists: list[tuple[str, str]]
    ) -> None:
        super().__init__(md)
        self.marker_re = re.compile(rf"{marker}(\d+)z")
        self.attribute_lists = attribute_lists

    def run(self, root: Element) -> None:
        """Fix the tree in place."""
        self._apply_attribute_lists(root)
        self._footnote_classes(root)
        self._heading_ids(root)

    def _apply_attribute_lists(self, root: Element) -> None:
        if not self.attribute_lists:
            return
        attr_list = self.md.treeprocessors["attr_list"]
        for parent in list(root.iter()):
            children = list(parent)
            markers = [self._marker_index(child) for child in children]
            for i, index in enumerate(markers):
                if index is None:
                    continue
                direction, attrs = self.attribute_lists[index]
                step = -1 if direction == "prev" else 1
                j = i + step
                while 0 <= j < len(children) and markers[j] is not None:
                    j += step
                # A stashed code or HTML block stands in a placeholder <p> that must stay bare.
                if 0 <= j < len(children) and not self._is_placeholder(children[j]):
                    attr_list.assign_attrs(children[j], attrs)
            for child, index in zip(children, markers, strict=True):
                if index is not None:
                    parent.remove(child)

    def _marker_index(self, element: Element) -> int | None:
        if element.tag != "p" or len(element) or not element.text:
            return None
        match = self.marker_re.fullmatch(element.text.strip())
        return int(match.group(1)) if match else None

    @staticmethod
    def _is_placeholder(element: Element) -> bool:
        return element.tag == "p" and bool(
            HTML_PLACEHOLDER_RE.fullmatch((element.text or "").strip())
        )

    def _footnote_classes(self, root: Element) -> None:
        for element in root.iter():
            css = element.get("class")
            if css in _FOOTNOTE_CLASSES:
                element.set("class", _FOOTNOTE_CLASSES[css])
                if css == "footnote" and len(element) and element[0].tag == "hr":
                    element.remove(element[0])

    def _heading_ids(self, root: Element) -> None:
        used: set[str] = set()
        headings = [el for el in root.iter() if el.tag in ("h1", "h2", "h3", "h4", "h5", "h6")]
        for element in headings:
            if element.get("id"):
                used.add(element.get("id", ""))
        counters: dict[str, int] = {}
        for element in headings:
            if element.get("id"):
                continue
            base = heading_id(self._plain_text(element))
            if not base:
                continue
            count = counters.get(base, -1)
            while True:
                count += 1
                slug = base if count == 0 else f"{base}-{count}"
                if slug not in used:
                    break
            counters[base] = count
            used.add(slug)
            element.set("id", slug)

    def _plain_text(self, element: Element) -> str:
        def stashed(match: re.Match[str]) -> str:
            raw = str(self.md.htmlStash.rawHtmlBlocks[int(match.group(1))])
            return html.unescape(re.sub(r"<[^>]*>", "", raw))

        text = HTML_PLACEHOLDER_RE.sub(stashed, "".join(element.itertext()))
        # Backslash escapes are stored as STX + code point + ETX until the unescape step.
        text = re.sub(f"{STX}([0-9]+){ETX}", lambda m: chr(int(m.group(1))), text)
        return html.unescape(text)


def _is_word_char(ch: str) -> bool:
    # Ruby's \p{Word}: letters, marks, decimal and letter numbers, connector punctuation.
    return unicodedata.category(ch)[0] in "LM" or unicodedata.category(ch) in ("Nd", "Nl", "Pc")


# --- Sanitizing ---------------------------------------------------------------------------

_FONT_SIZE_RE = re.compile(r"[+-]?[1-7]")
_URL_NOISE_RE = re.compile(r"[\x00-\x20\x7f]+")
_ATTRS = r'((?: [^\s"\'>/=]+="[^"]*")*)'  # ammonia always writes attributes as name="value"
_IFRAME_RE = re.compile(rf"<iframe{_ATTRS}>.*?</iframe>", re.S)
_A_START_RE = re.compile(rf"<a{_ATTRS}>")
_ATTR_RE = re.compile(r' ([^\s"\'>/=]+)="([^"]*)"')


def _sanitize(text: str, settings: RenderSettings, *, inline: bool) -> str:
    cleaned = _cleaner(frozenset(settings.embed_hosts), inline).clean(text)
    if "<iframe" in cleaned:
        cleaned = _IFRAME_RE.sub(_keep_or_drop_iframe, cleaned)
    if 'target="_blank"' in cleaned:
        cleaned = _A_START_RE.sub(_add_noopener, cleaned)
    return cleaned


@cache
def _cleaner(embed_hosts: frozenset[str], inline: bool) -> nh3.Cleaner:
    tags = INLINE_TAGS if inline else ALLOWED_TAGS

    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        if attribute in ("href", "src") and _looks_unsafe(value):
            return None
        if tag == "iframe" and attribute == "src":
            return value if _is_allowed_embed(value, embed_hosts) else None
        if tag == "font" and attribute == "size":
            return value.strip() if _FONT_SIZE_RE.fullmatch(value.strip()) else None
        if tag == "a" and attribute == "target":
            return "_blank" if value.strip().lower() == "_blank" else None
        return value

    return nh3.Cleaner(
        tags=set(tags),
        clean_content_tags=set(_CLEAN_CONTENT_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items() if tag in tags}
        | {"*": set(ALLOWED_ATTRIBUTES["*"])},
        attribute_filter=attribute_filter,
        strip_comments=True,
        link_rel=None,
        url_schemes=set(ALLOWED_URL_SCHEMES),
    )


def _looks_unsafe(url: str) -> bool:
    # ammonia reads "jav ascript:" as a harmless relative URL; refuse it anyway, as a reader
    # who strips spaces and decodes entities once more would see a script URL.
    compact = _URL_NOISE_RE.sub("", html.unescape(url)).lower()
    return compact.startswith(("javascript:", "vbscript:", "data:"))


def _is_allowed_embed(url: str, embed_hosts: frozenset[str]) -> bool:
    # Browsers read a backslash as "/" and drop tabs and newlines inside URLs; urlsplit may not.
    if any(ch.isspace() or ch == "\\" or ord(ch) < 0x20 for ch in url):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme.lower() == "https"
        and "@" not in parts.netloc
        and port in (None, 443)
        and (parts.hostname or "") in embed_hosts
    )


def _keep_or_drop_iframe(match: re.Match[str]) -> str:
    attrs = match.group(1)
    # The filter removed src from iframes we do not embed; those go entirely. Their fallback
    # content is raw text that browsers never show, so kept iframes are emptied too.
    keep = any(name == "src" for name, _ in _ATTR_RE.findall(attrs))
    return f"<iframe{attrs}></iframe>" if keep else ""


def _add_noopener(match: re.Match[str]) -> str:
    attrs = dict(_ATTR_RE.findall(match.group(1)))
    if attrs.get("target") != "_blank":
        return match.group(0)
    rel = attrs.get("rel", "").split()
    attrs["rel"] = " ".join(rel + [v for v in ("noopener", "noreferrer") if v not in rel])
    return "<a" + "".join(f' {name}="{value}"' for name, value in attrs.items()) + ">"
