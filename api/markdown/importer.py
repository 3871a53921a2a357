"""Split a Jekyll Markdown file into front matter and ``## `` sections, and find links.

The split is lossless: ``front_matter_raw`` followed by every section's
``heading + lead + body + trail`` gives back the input byte for byte.

zarr.dev renders Markdown with kramdown's GFM parser (see ``MARKDOWN.md``). Headings, slugs and
links must agree with it, and links need exact source offsets so one of them can be rewritten
without touching any other byte, so this module ports the parts of kramdown 2.4 /
kramdown-parser-gfm 1.1 that decide block structure, links and heading ids, working on text that
remembers where each character came from. Where it decides something kramdown does not:

* **Sections** start at top-level ATX level-2 headings exactly where kramdown sees one: ``## ``
  at the start of a line (kramdown's GFM parser allows no indentation and needs the space), an
  optional closing ``#`` run, an optional ``{#id}``. Not headings: ``##`` inside fenced or
  indented code, HTML blocks, list items (also lazy continuation lines, as kramdown), blockquotes,
  and inside Liquid blocks. ``## Title {: #id}`` is *not* an explicit id for kramdown, so the
  attribute list stays part of the title and slug, as on the site. A block IAL line
  ``{: #id}`` right after the heading does set the id. Setext headings (``Title`` over ``---``)
  stay in the body but count for kramdown's duplicate-id counter.
* **Slugs** are kramdown's ids, made unique per page: when a kramdown id is already used by an
  earlier section (``Blog``, ``Blog``, ``Blog 1`` give ``blog``, ``blog-1``, ``blog-1`` in
  kramdown) or is ``intro`` (reserved for the intro section), ``-1``, ``-2``, ... is appended to
  it until it is unique (``blog-1-1``; a heading ``Intro`` becomes ``intro-1``). A heading whose
  id comes out empty (``## !!!``) gets ``section-N``, N being its 1-based section number (kramdown
  gives no id, or ``-1``, ``-2`` for later ones).
* **Liquid**: Jekyll renders Liquid before kramdown. ``{% highlight %}…{% endhighlight %}``,
  ``{% raw %}…{% endraw %}`` and ``{% comment %}…{% endcomment %}`` blocks are treated as opaque
  (like an HTML comment): no headings, links or text inside them. Other Liquid tags are text.
* **Links** are what kramdown turns into ``<a href>``: inline, reference (full, collapsed and
  shortcut; a missing definition means no link), autolinks and raw HTML ``<a href>`` anywhere
  kramdown parses HTML, including raw HTML blocks. Footnote markers are not links. Reference
  definitions: the *last* one of a name wins, because kramdown overwrites earlier ones; titles
  must be quoted (kramdown takes ``(title)`` as part of the URL). ``url`` is the href as written
  in Markdown; for raw HTML it is the attribute value with entities decoded. For an e-mail
  autolink ``<me@example.org>`` the url is ``mailto:me@example.org`` while ``url_span`` covers the
  address as written. Links in footnote definitions are reported where the definition stands.
* **Labels and contexts** are plain text: markup dropped, entities decoded, images give their alt
  text, whitespace collapsed. Quotes and ``--``/``...``/``<<`` are kept as written (kramdown shows
  them as typographic characters), so a label read back and written unchanged is a no-op. The
  context is the text of the innermost block around the link (paragraph, heading, list item
  paragraph, HTML block element such as ``<li>`` or ``<p>``, or a top-level HTML block), cut at
  line breaks (``<br>``, hard breaks) and at nested blocks; for a table cell it is the whole row,
  non-empty cells joined with `` | ``.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from html.entities import name2codepoint
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from api.markdown.entities import unescape
from api.models.base import MAX_SLUG

LinkKind = Literal["inline", "reference", "autolink", "html"]


@dataclass(frozen=True)
class Definition:
    """A reference definition ``[name]: url "title"`` found in a body."""

    name: str  # normalized (lower-cased, whitespace collapsed) as kramdown matches it
    url: str
    title: str | None
    url_span: tuple[int, int]  # offsets of the URL text inside the body it was found in


@dataclass(frozen=True)
class FoundLink:
    """One link of a section body, in document order."""

    kind: LinkKind
    label: str  # link text as a reader sees it (markup dropped)
    url: str  # resolved URL (reference links: from their definition)
    context: str  # plain text of the block (paragraph, list item, table cell, ...) it stands in
    label_span: tuple[int, int] | None  # offsets of the label source inside the body
    url_span: tuple[int, int] | None  # offsets of the URL inside the body; None for references
    ref: str | None = None  # normalized reference name for reference links
    source_span: tuple[int, int] | None = None  # offsets of the whole link source


@dataclass(frozen=True)
class ParsedSection:
    slug: str
    title: str | None  # None for the intro
    heading: str  # raw heading line including its line ending; "" for the intro
    lead: str  # blank lines between heading and body
    body: str  # Markdown source without heading line, leading blank lines and trailing whitespace
    trail: str  # whitespace after the body up to the next heading or the end of the file


@dataclass(frozen=True)
class ParsedPage:
    front_matter: dict[str, Any]  # every key in source order
    front_matter_raw: str  # exact text of the front matter block with both --- lines ("" if none)
    sections: list[ParsedSection] = field(default_factory=list)
    newline: str = "\n"  # "\r\n" for CRLF files


class MarkdownImportError(ValueError):
    """The Markdown file cannot be imported (e.g. its front matter is not valid YAML)."""


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------


def parse_page(text: str) -> ParsedPage:
    """Split a Jekyll Markdown file into front matter and sections.

    :raise MarkdownImportError: when the front matter is not a valid YAML mapping.
    """
    front_matter_raw, yaml_text, yaml_line = _split_front_matter(text)
    front_matter = _load_front_matter(yaml_text, yaml_line) if front_matter_raw else {}
    body = text[len(front_matter_raw) :]

    root = _parse(_Kramdown(), body)
    ids = _header_ids(root)
    starts: list[tuple[int, int, _El]] = []
    for child in root.children:
        if child.type == "header" and child.options.get("atx") and child.options["level"] == 2:
            start, end = child.options["span"]
            starts.append((start, end, child))

    sections = [_make_section("intro", None, "", body[: starts[0][0] if starts else len(body)])]
    used = {"intro"}
    for number, (start, end, header) in enumerate(starts, start=1):
        stop = starts[number][0] if number < len(starts) else len(body)
        kramdown_id, base = ids.get(id(header), ("", ""))
        slug = _unique_slug(kramdown_id if base else "", number, used)
        title = header.options["title"]
        sections.append(_make_section(slug, title, body[start:end], body[end:stop]))
    return ParsedPage(front_matter, front_matter_raw, sections, _newline_of(text))


def find_definitions(body: str) -> dict[str, Definition]:
    """Return the reference definitions of a body by normalized name (the last one wins)."""
    parser = _Kramdown()
    _parse(parser, body, spans=False)
    return dict(parser.defs)


def find_links(
    body: str, definitions: Mapping[str, Definition], *, after_heading: bool = False
) -> list[FoundLink]:
    """Return every link of a section body in document order.

    ``definitions`` are the reference definitions of the whole page (see ``api.services.content.page_definitions``).
    ``after_heading``: the body directly follows its heading line (an empty ``lead``), which
    keeps kramdown from starting a table there.
    """
    root = _parse(_Kramdown(definitions), body, after_block=not after_heading)
    return _collect_links(root)


def plain_text(markdown_fragment: str) -> str:
    """Return the text of a Markdown fragment as a reader sees it, whitespace collapsed."""
    root = _parse(_Kramdown({}), markdown_fragment)
    return _collapse(" ".join(_reader_text(child) for child in root.children))


def kramdown_slug(text: str) -> str:
    """Return the id kramdown's GFM parser derives from a heading text (before de-duplication)."""
    root = _parse(_Kramdown({}), "# " + text.replace("\n", " ").replace("\r", " ").strip())
    header = root.children[0] if root.children else None
    if header is None or header.type != "header":
        return ""
    return _gfm_id_base(header.options.get("raw_text", ""))


def rewrite_link(body: str, link: FoundLink, *, url: str | None, label: str | None) -> str:
    """Return ``body`` with the URL and/or label of one link replaced, every other byte kept.

    :raise ValueError: for a URL change of a reference link (use ``rewrite_definition``).
    """
    if url is None and label is None:
        return body
    if link.kind == "autolink":
        return _rewrite_autolink(body, link, url, label)
    edits: list[tuple[int, int, str]] = []
    if url is not None and url != link.url:
        if link.kind == "reference" or link.url_span is None:
            raise ValueError("a reference link's URL lives in its definition; rewrite that")
        if link.kind == "html":
            edits.append(_html_url_edit(body, link.url_span, url))
        else:
            edits.append(_inline_url_edit(body, link.url_span, url))
    if label is not None and label != link.label and link.label_span is not None:
        edits.append(_label_edit(body, link, label))
    return _apply_edits(body, edits)


def rewrite_definition(body: str, definition: Definition, url: str) -> str:
    """Return ``body`` with the URL of one reference definition replaced."""
    start, end = definition.url_span
    angle = start > 0 and body[start - 1] == "<" and body[end : end + 1] == ">"
    if angle:
        start, end = start - 1, end + 1
    return body[:start] + _definition_url(url, angle) + body[end:]


def _parse(parser: _Kramdown, text: str, *, after_block: bool = True, spans: bool = True) -> _El:
    """Run the parser over a body, turning runaway nesting into an import error."""
    try:
        if spans:
            return parser.parse(_prepare(text), after_block)
        parser.parse_blocks(parser.root, _prepare(text))
        return parser.root
    except _TooDeep:
        raise MarkdownImportError(f"The Markdown nests deeper than {_MAX_DEPTH} levels.") from None


# --------------------------------------------------------------------------------------------
# Front matter and sections
# --------------------------------------------------------------------------------------------

_FM_OPEN = re.compile(r"\ufeff?---[ \t]*(?:\r\n|\n|\r)")
_FM_CLOSE = re.compile(r"(?:---|\.\.\.)[ \t]*(?:\r\n|\n|\r|\Z)")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\n|\r|\Z)")


def _split_front_matter(text: str) -> tuple[str, str, int]:
    """Return the raw front matter block, its YAML text and the file line the YAML starts on."""
    opening = _FM_OPEN.match(text)
    if not opening:
        bom = "\ufeff" if text.startswith("\ufeff") else ""
        return bom, "", 0
    pos = opening.end()
    while pos < len(text):
        line = _LINE.match(text, pos)
        assert line is not None
        if _FM_CLOSE.fullmatch(line.group()):
            return text[: line.end()], text[opening.end() : pos], 2
        pos = line.end()
    return ("\ufeff" if text.startswith("\ufeff") else ""), "", 0


def _load_front_matter(yaml_text: str, first_line: int) -> dict[str, Any]:
    """Parse front matter YAML the way Jekyll (YAML 1.1) does, into JSON-ready values."""
    if not yaml_text:
        return {}
    loader = YAML(typ="safe", pure=True)
    loader.version = (1, 1)  # Jekyll's Psych reads YAML 1.1: yes/no/on/off are booleans
    try:
        data = loader.load(yaml_text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" on line {mark.line + first_line}" if mark is not None else ""
        problem = error.problem or error.context or "invalid YAML"
        raise MarkdownImportError(f"Front matter is not valid YAML{where}: {problem}") from error
    except YAMLError as error:
        raise MarkdownImportError(f"Front matter is not valid YAML: {error}") from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MarkdownImportError("Front matter must be a YAML mapping of keys to values.")
    return _jsonable(data)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {_json_key(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode("ascii")
    return value


def _json_key(key: Any) -> str:
    converted = _jsonable(key)
    if isinstance(converted, str):
        return converted
    if isinstance(converted, bool):
        return "true" if converted else "false"
    return "null" if converted is None else str(converted)


def _newline_of(text: str) -> str:
    match = re.search(r"\r\n|\n|\r", text)
    return "\r\n" if match and match.group() == "\r\n" else "\n"


_LEAD = re.compile(r"(?:[ \t\f\v]*(?:\r\n|\n|\r))*")


def _make_section(slug: str, title: str | None, heading: str, rest: str) -> ParsedSection:
    lead = _LEAD.match(rest)
    assert lead is not None
    remainder = rest[lead.end() :]
    body = remainder.rstrip(" \t\r\n\f\v")
    return ParsedSection(slug, title, heading, lead.group(), body, remainder[len(body) :])


def _unique_slug(kramdown_id: str, number: int, used: set[str]) -> str:
    # A heading id longer than a slug column holds is cut, the same way on every read.
    slug = (kramdown_id or f"section-{number}")[:MAX_SLUG]
    candidate, n = slug, 0
    while candidate in used:
        n += 1
        suffix = f"-{n}"
        candidate = slug[: MAX_SLUG - len(suffix)] + suffix
    used.add(candidate)
    return candidate


# --------------------------------------------------------------------------------------------
# Text that remembers where each character came from
# --------------------------------------------------------------------------------------------


class _Src:
    """A string plus, for each character, its offset in the body (and one end offset)."""

    __slots__ = ("text", "origin")

    def __init__(self, text: str, origin: list[int]) -> None:
        self.text = text
        self.origin = origin

    @classmethod
    def plain(cls, text: str) -> _Src:
        return cls(text, list(range(len(text) + 1)))

    @classmethod
    def synth(cls, text: str, at: int) -> _Src:
        return cls(text, [at] * (len(text) + 1))

    def slice(self, start: int, end: int | None = None) -> _Src:
        end = len(self.text) if end is None else end
        return _Src(self.text[start:end], self.origin[start : end + 1])

    def span(self, start: int, end: int) -> tuple[int, int]:
        first = self.origin[start]
        if end <= start:
            return first, first
        last = self.origin[end - 1]
        return first, (last + 1 if self.origin[end] > last else last)

    def rstrip(self, chars: str = " \t\n\v\f\r\0") -> _Src:
        return self.slice(0, len(self.text.rstrip(chars)))

    def lstrip(self, chars: str = " \t\n\v\f\r\0") -> _Src:
        return self.slice(len(self.text) - len(self.text.lstrip(chars)))

    def strip(self) -> _Src:
        return self.lstrip().rstrip()


def _concat(parts: Sequence[_Src]) -> _Src:
    parts = [p for p in parts if p.text] or list(parts[-1:])
    if not parts:
        return _Src("", [0])
    origin: list[int] = []
    for part in parts:
        origin.extend(part.origin[:-1])
    origin.append(parts[-1].origin[-1])
    return _Src("".join(p.text for p in parts), origin)


def _sub(
    src: _Src, rx: re.Pattern[str], repl: str | Callable[[re.Match[str]], str], count: int = 0
):
    """Regex-substitute in a ``_Src``; inserted text maps to where the match was."""
    parts: list[_Src] = []
    last = n = 0
    for match in rx.finditer(src.text):
        parts.append(src.slice(last, match.start()))
        new = repl(match) if callable(repl) else repl
        if new:
            parts.append(_Src.synth(new, src.origin[match.start()]))
        last = match.end()
        n += 1
        if count and n >= count:
            break
    parts.append(src.slice(last))
    return _concat(parts), n


_LIQUID_BLOCK = re.compile(r"\{%-?\s*(highlight|raw|comment)\b.*?-?%\}", re.S)
_LIQUID_END = {
    name: re.compile(r"\{%-?\s*end" + name + r"\s*-?%\}")
    for name in ("highlight", "raw", "comment")
}
# Jekyll turns {% highlight %} into a <figure> block; an unknown element behaves like that in a
# block and is invisible inside a paragraph, and its content is raw, so nothing in it counts
_LIQUID_PLACEHOLDER = "<zarr-liquid></zarr-liquid>"


def _prepare(body: str) -> _Src:
    """Normalize line endings like kramdown and stand in for Liquid blocks, keeping offsets."""
    chars: list[str] = []
    origin: list[int] = []
    pos = 1 if body.startswith("\ufeff") else 0
    for match in _LIQUID_BLOCK.finditer(body, pos):
        if match.start() < pos:
            continue
        end = _LIQUID_END[match.group(1)].search(body, match.end())
        if end is None:
            continue
        _append_normalized(body, pos, match.start(), chars, origin)
        if match.group(1) != "comment":  # Liquid drops comments altogether
            chars.append(_LIQUID_PLACEHOLDER)
            size = len(_LIQUID_PLACEHOLDER)
            origin.extend([match.start()] * (size - 1) + [end.end() - 1])
        pos = end.end()
    _append_normalized(body, pos, len(body), chars, origin)
    text = "".join(chars)
    if not text.endswith("\n"):
        text += "\n"
        origin.append(len(body))
    origin.append(len(body))
    return _Src(text, origin)


def _append_normalized(body: str, start: int, end: int, chars: list[str], origin: list[int]):
    i = start
    while i < end:
        c = body[i]
        if c == "\r":
            if i + 1 < end and body[i + 1] == "\n":
                i += 1
            c = "\n"
        chars.append(c)
        origin.append(i)
        i += 1


# --------------------------------------------------------------------------------------------
# Regular expressions ported from kramdown (Ruby's \s, \w, \d are ASCII; ^ at the scan position)
# --------------------------------------------------------------------------------------------

S = r"[ \t\n\v\f\r]"
NS = r"[^ \t\n\v\f\r]"
W = r"[A-Za-z0-9_]"
RUBY_Z = r"(?=\n?\Z)"
OPT = " {0,3}"
UNAME = r"(?:[^\W\d][-.\w]*:)?[^\W\d][-.\w]*"
ALD_ID_NAME = rf"{W}[A-Za-z0-9_-]*"
ALD_ANY = r"(?:\\\}|[^}])"

_SPAN_ELEMENTS = frozenset(
    "a abbr acronym b big bdo br button cite code del dfn em i img input ins kbd label mark "
    "option q rb rbc rp rt rtc ruby samp select small span strong sub sup tt u var".split()
)
_BLOCK_ELEMENTS = frozenset(
    "address article aside applet body blockquote caption col colgroup dd div dl dt fieldset "
    "figcaption footer form h1 h2 h3 h4 h5 h6 header hgroup hr html head iframe legend menu li "
    "main map nav ol optgroup p pre section summary table tbody td th thead tfoot tr ul".split()
)
_WITHOUT_BODY = frozenset(
    "area base br col command embed hr img input keygen link meta param source track wbr".split()
)
_MODEL_BLOCK = frozenset(
    "address applet article aside blockquote body dd details div dl fieldset figure figcaption "
    "footer form header hgroup iframe li main map menu nav noscript object section summary "
    "td".split()
)
_MODEL_SPAN = frozenset(
    "a abbr acronym b bdo big button cite caption del dfn dt em h1 h2 h3 h4 h5 h6 i ins label "
    "legend optgroup p q rb rbc rp rt rtc ruby select small span strong sub sup th tt".split()
)
_HTML_ELEMENT = _SPAN_ELEMENTS | _BLOCK_ELEMENTS | _WITHOUT_BODY | _MODEL_BLOCK | _MODEL_SPAN
_HTML_ELEMENT |= frozenset("script style math option textarea pre code kbd samp var".split())
_MARKDOWN_ATTR = {"0": "raw", "1": "default", "span": "span", "block": "block"}


def _content_model(tag: str) -> str:
    if tag in _MODEL_BLOCK:
        return "block"
    return "span" if tag in _MODEL_SPAN else "raw"


def _rx(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags | re.M)


_LAZY_SPAN = "|".join(sorted(_SPAN_ELEMENTS | {"script"}))
BLANK_LINE = rf"(?>^{S}*\n)+"
EOB_MARKER = rf"^\^{S}*?\n"
IAL_BLOCK = rf"\{{:(?!:|/)({ALD_ANY}+)\}}{S}*?\n"
IAL_BLOCK_START = rf"^{OPT}{IAL_BLOCK}"
LAZY_END_HTML_START = rf"<(?>(?!(?:{_LAZY_SPAN})\b){UNAME})"
LAZY_END_HTML_STOP = rf"</(?!(?:{_LAZY_SPAN})\b){UNAME}{S}*>"
LAZY_END = (
    rf"{BLANK_LINE}|{IAL_BLOCK_START}|{EOB_MARKER}|^{OPT}{LAZY_END_HTML_STOP}"
    rf"|^{OPT}{LAZY_END_HTML_START}|{RUBY_Z}"
)
INDENT = r"^(?:\t| {4})"
CODEBLOCK_MATCH = (
    rf"(?:(?:{BLANK_LINE})?(?:{INDENT}[ \t]*{NS}.*\n)+(?:(?!{IAL_BLOCK_START}|{EOB_MARKER}"
    rf"|^{OPT}{LAZY_END_HTML_STOP}|^{OPT}{LAZY_END_HTML_START})^[ \t]*{NS}.*\n)*)*"
)
PATTERN_TAIL = r"[\t| ].*?\n"
LIST_START_UL = rf"^({OPT}[+*-])({PATTERN_TAIL})"
LIST_START_OL = rf"^({OPT}[0-9]+\.)({PATTERN_TAIL})"
LIST_START = rf"{LIST_START_UL}|{LIST_START_OL}"
DEFINITION_LIST_START = rf"^({OPT}:)({PATTERN_TAIL})"
ATX_HEADER_START = r"^(?P<level>#{1,6})[\t ]+(?P<contents>.*)\n"
BLOCKQUOTE_START = rf"^{OPT}> ?"
FENCED_START = r"^[ ]{0,3}[~`]{3,}"
HR_START = rf"^{OPT}(\*|-|_)[ \t]*\1[ \t]*\1(\1|[ \t])*\n"
HTML_TAG = rf"<((?>{UNAME})){S}*((?>{S}+{UNAME}(?:{S}*={S}*(?:\w+|(\"|').*?\3))?)*){S}*(/)?>"
HTML_TAG_CLOSE = rf"</({UNAME}){S}*>"
TABLE_PIPE_CHECK = r"(?:\||.*?[^\\\n]\|)"
TABLE_LINE = rf"{TABLE_PIPE_CHECK}.*?\n"

_BLANK_LINE = _rx(BLANK_LINE)
_EOB_MARKER = _rx(EOB_MARKER)
_IAL_BLOCK_START = _rx(IAL_BLOCK_START)
_LAZY_END = _rx(LAZY_END)
_PARAGRAPH_END = _rx(
    rf"{LAZY_END}|{LIST_START}|{ATX_HEADER_START.replace('?P<level>', '').replace('?P<contents>', '')}"
    rf"|{DEFINITION_LIST_START}|{BLOCKQUOTE_START}|{FENCED_START}"
)
_PARAGRAPH_START = _rx(rf"^{OPT}[^ \t].*?\n")
_PARAGRAPH_MATCH = _rx(r"^.*?\n")
_ANY_LINE = _rx(r".*\n")
_INDENT = _rx(INDENT)
_CODEBLOCK_MATCH = _rx(CODEBLOCK_MATCH)
_FENCED_START = _rx(FENCED_START)
_FENCED_MATCH = _rx(
    rf"^[ ]{{0,3}}(([~`]){{3,}}){S}*?(({NS}+?)(?:\?{NS}*)?)?{S}*?\n(.*?)^[ ]{{0,3}}\1\2*{S}*?\n",
    re.S,
)
_BLOCKQUOTE_START = _rx(BLOCKQUOTE_START)
_ATX_HEADER_START = _rx(ATX_HEADER_START)
_ATX_CLOSE = re.compile(r"[\t ]#+\Z")
_NAME_START = (
    ":A-Z_a-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_NAME_CHAR = _NAME_START + r"\-.0-9\u00b7\u0300-\u036f\u203f-\u2040"
_HEADER_ID = re.compile(rf"[\t ]\{{#([{_NAME_START}][{_NAME_CHAR}]*)\}}\Z")
_HR_START = _rx(HR_START)
_LIST_START = _rx(LIST_START)
_LIST_START_UL = _rx(LIST_START_UL)
_LIST_START_OL = _rx(LIST_START_OL)
_LIST_ITEM_IAL = _rx(rf"^{S}*(?:\{{:(?!(?:{ALD_ID_NAME})?:|/)({ALD_ANY}+)\}}){S}*")
_LIST_ITEM_IAL_CHECK = _rx(rf"^(?:{S}*(?:\{{:(?!(?:{ALD_ID_NAME})?:|/)({ALD_ANY}+)\}}){S}*)?{S}*\n")
_DEFINITION_LIST_START = _rx(DEFINITION_LIST_START)
_HTML_BLOCK_START = _rx(rf"^{OPT}<({UNAME}|!--|/)")
_HTML_COMMENT = _rx(r"<!--(.*?)-->", re.S)
_HTML_INSTRUCTION = _rx(r"<\?(.*?)\?>", re.S)
_HTML_TAG = _rx(HTML_TAG, re.S)
_HTML_TAG_CLOSE = _rx(HTML_TAG_CLOSE, re.S)
_OPT_HTML_TAG = _rx(rf"^{OPT}{HTML_TAG}", re.S)
_OPT_HTML_TAG_CLOSE = _rx(rf"^{OPT}{HTML_TAG_CLOSE}", re.S)
_HTML_ATTRIBUTE = _rx(rf"{S}*({UNAME})(?:{S}*={S}*(?:(\w+)|(\"|')(.*?)\3))?", re.S)
_HTML_RAW_START = _rx(rf"(?=<({UNAME}|/|!--|\?))")
_TRAILING_WS = _rx(r"[ \t]*\n")
_SETEXT_START = _rx(rf"^{OPT}(?P<contents>[^ \t].*)\n(?P<level>[-=])[-=]*[ \t\r\f\v]*\n")
_BLOCK_MATH_START = _rx(rf"^{OPT}(\\)?\$\$(.*?)\$\$({S}*?\n)?", re.S)
_OPT_BACKSLASH = _rx(rf"^{OPT}\\")
_BLOCK_BOUNDARY = _rx(rf"{BLANK_LINE}|{EOB_MARKER}|{IAL_BLOCK_START}|{RUBY_Z}")
_TABLE_START = _rx(rf"^{OPT}(?={NS}){TABLE_LINE}")
_TABLE_LINE = _rx(TABLE_LINE)
_TABLE_SEP_LINE = _rx(r"^([+|: \t-]*?-[+|: \t-]*?)[ \t]*\n")
_TABLE_HSEP_ALIGN = _rx(r"[ \t]?(:?)-+(:?)[ \t]?")
_TABLE_FSEP_LINE = _rx(r"^[+|: \t=]*?=[+|: \t=]*?[ \t]*\n")
_TABLE_ROW_LINE = _rx(r"^(.*?)[ \t]*\n")
_TABLE_PIPE_CHECK = _rx(rf"^{TABLE_PIPE_CHECK}")
_LEADING_PIPE = _rx(rf"^{S}*\|")
_CODE_HTML_SPLIT = _rx(r"(<code.*?>.*?</code>)")
_UNESCAPED_PIPE = _rx(r"(?<!\\)\|")
_FOOTNOTE_DEFINITION_START = _rx(rf"^{OPT}\[\^({ALD_ID_NAME})\]:{S}*?(.*?\n{CODEBLOCK_MATCH})")
_LINK_DEFINITION_START = _rx(
    rf"^{OPT}\[([^\n\]]+)\]:[ \t]*(?:<(.*?)>|([^\n]*?{NS}[^\n]*?))"
    rf"(?:(?:[ \t]*?\n|[ \t]+?)[ \t]*?([\"'])(.+?)\4)?[ \t]*?\n"
)
_ABBREV_DEFINITION_START = _rx(rf"^{OPT}\*\[(.+?)\]:(.*?)\n")
_BLOCK_EXTENSIONS_START = _rx(rf"^{OPT}\{{:")
_ALD_START = _rx(rf"^{OPT}\{{:({ALD_ID_NAME}):({ALD_ANY}+)\}}{S}*?\n")
EXT_START = rf"\{{::(\w+)(?:{S}({ALD_ANY}*?)|)(/)?\}}"
_EXT_BLOCK_START = _rx(rf"^{OPT}(?:{EXT_START}|\{{:/({ALD_ID_NAME})?\}}){S}*?\n")
_EOB_START = _rx(EOB_MARKER)
_ALD_TYPE_ANY = _rx(
    rf"(?:\A|{S})(?:({ALD_ID_NAME})=(\"|')((?:\\\}}|\\\2|[^}}\2])*?)\2|({ALD_ID_NAME})"
    rf"|((?:#[A-Za-z][\w:-]*|\.[^\s.#]+)+))(?={S}|\Z)"
)
_ALD_ID_OR_CLASS = _rx(r"#([A-Za-z][\w:-]*)|\.([^\s.#]+)")

# Span level.
_EMPHASIS_START = _rx(r"(?:\*\*?|__?)")
_CODESPAN_DELIMITER = _rx(r"`+")
_ACHARS = r"[\w.-]"  # Ruby's [[:alnum:]-_.]
_AUTOLINK_START = _rx(rf"<((mailto|https?|ftps?):.+?|{_ACHARS}+?@{_ACHARS}+?)>")
_HTML_SPAN_START = _rx(rf"<({UNAME}|!--|/)")
_FOOTNOTE_MARKER_START = _rx(rf"\[\^({ALD_ID_NAME})\]")
_LINK_START = _rx(r"!?\[(?=[^^])")
_SMART_QUOTES_RE = _rx(r"[^\\]?[\"']")
_INLINE_MATH_START = _rx(r"\$\$(.*?)\$\$", re.S)
_SPAN_EXTENSIONS_START = _rx(r"\{:")
_HTML_ENTITY = _rx(r"&([A-Za-z0-9_:][\-A-Za-z0-9_.:]*);|&#([0-9]+);|&#x([0-9a-fA-F]+);")
_TYPOGRAPHIC_SYMS = [
    ("---", "mdash"),
    ("--", "ndash"),
    ("...", "hellip"),
    ("\\<<", "&lt;&lt;"),
    ("\\>>", "&gt;&gt;"),
    ("<< ", "laquo_space"),
    (" >>", "raquo_space"),
    ("<<", "laquo"),
    (">>", "raquo"),
]
_TYPOGRAPHIC_RE = _rx("|".join(re.escape(k) for k, _ in _TYPOGRAPHIC_SYMS))
_LINE_BREAK = _rx(r"(  |\\\\)(?=\n)")
_ESCAPED_CHARS_GFM = _rx(r"\\([\\.*_+`<>()\[\]{}#!:|\"'$=\-~])")
_ESCAPED_CHARS = _rx(r"\\([\\.*_+`<>()\[\]{}#!:|\"'$=-])")
_STRIKETHROUGH = _rx(rf"~~(?!{S}|~).*?[^ \t\n\v\f\r~]~~", re.S)
_EXT_SPAN_START = _rx(rf"{EXT_START}|\{{:/({ALD_ID_NAME})?\}}")
_IAL_SPAN_START = _rx(rf"\{{:({ALD_ANY}+)\}}")
_LINK_BRACKET_STOP = _rx(r"(\])|!?\[")
_LINK_PAREN_STOP = _rx(rf"(\()|(\))|{S}(?=['\"])")
_LINK_INLINE_ID = _rx(rf"{S}*?\[([^\]]+)?\]")
_LINK_INLINE_TITLE = _rx(rf"{S}*?([\"'])(.+?)\1{S}*?\)", re.S)
_ANGLE_URL = _rx(r"\(<(.*?)>")
_OPEN_PAREN = _rx(r"\(")
_CLOSE_PAREN = _rx(r"\)")

_SPAN_PARSERS: list[tuple[str, re.Pattern[str], str]] = [
    ("emphasis", _EMPHASIS_START, r"\*|_"),
    ("codespan", _CODESPAN_DELIMITER, "`"),
    ("autolink", _AUTOLINK_START, "<"),
    ("span_html", _HTML_SPAN_START, "<"),
    ("footnote_marker", _FOOTNOTE_MARKER_START, r"\["),
    ("link", _LINK_START, r"!?\["),
    ("smart_quotes", _SMART_QUOTES_RE, r"[^\\]?[\"']"),
    ("inline_math", _INLINE_MATH_START, r"\$"),
    ("span_extensions", _SPAN_EXTENSIONS_START, r"\{:"),
    ("html_entity", _HTML_ENTITY, "&"),
    ("typographic_syms", _TYPOGRAPHIC_RE, r"--|\.\.\.|(?:\\| )?(?:<<|>>)"),
    ("line_break", _LINE_BREAK, r"(?:  |\\)(?=\n)"),
    ("escaped_chars", _ESCAPED_CHARS_GFM, r"\\"),
    ("strikethrough", _STRIKETHROUGH, "~~"),
]
_SPAN_START = {name: start for name, start, _ in _SPAN_PARSERS}
_SPAN_STR = {name: s for name, _, s in _SPAN_PARSERS}
_ALL_SPANS = tuple(name for name, _, _ in _SPAN_PARSERS)

_ENTITIES = dict(name2codepoint, apos=39, vellip=8942)
_SMART_QUOTE_CHARS = {"lsquo": "\u2018", "rsquo": "\u2019", "ldquo": "\u201c", "rdquo": "\u201d"}
_TYPOGRAPHIC_CHARS = {
    "mdash": "\u2014",
    "ndash": "\u2013",
    "hellip": "\u2026",
    "laquo": "\u00ab",
    "raquo": "\u00bb",
    "laquo_space": "\u00ab\u00a0",
    "raquo_space": "\u00a0\u00bb",
}

_SQ_PUNCT = r"[!\"#$%'()*+,\-./:;<=>?@\[\\\]^_`{|}~]"
_SQ_CLOSE = r"[^ \\\t\r\n\[{(-]"
_SQ_RULES: list[tuple[re.Pattern[str], list[int | str]]] = [
    (_rx(r"(\"|')(?=[_*]{1,2}[^ \t\n\v\f\r])"), ["lquote1"]),
    (_rx(rf"(\"|')(?={_SQ_PUNCT}(?!\.\.)\B)"), ["rquote1"]),
    (_rx(rf"({S}?)\"'(?={W})"), [1, "ldquo", "lsquo"]),
    (_rx(rf"({S}?)'\"(?={W})"), [1, "lsquo", "ldquo"]),
    (_rx(rf"({S}?)'(?=[0-9][0-9]s)"), [1, "rsquo"]),
    (_rx(rf"({S})('|\")(?={W})"), [1, "lquote2"]),
    (_rx(rf"({_SQ_CLOSE})('|\")"), [1, "rquote2"]),
    (_rx(rf"(\"|')(?={S}|s(?![A-Za-z0-9_])|$)"), ["rquote1"]),
    (_rx(r"(.?)'", re.S), [1, "lsquo"]),
    (_rx(r"(.?)\"", re.S), [1, "ldquo"]),
]
_SQ_SUBSTS = {
    ("rquote1", '"'): "rdquo",
    ("rquote1", "'"): "rsquo",
    ("rquote2", '"'): "rdquo",
    ("rquote2", "'"): "rsquo",
    ("lquote1", '"'): "ldquo",
    ("lquote1", "'"): "lsquo",
    ("lquote2", '"'): "ldquo",
    ("lquote2", "'"): "lsquo",
}


@cache
def _used_re(parsers: tuple[str, ...], stop: re.Pattern[str] | None) -> re.Pattern[str]:
    starts = "|".join(_SPAN_STR[name] for name in parsers)
    if stop is None:
        return _rx(f"(?=(?:{starts}))")
    flags = ("i" if stop.flags & re.I else "") + ("s" if stop.flags & re.S else "")
    stop_part = f"(?{flags}:{stop.pattern})" if flags else f"(?:{stop.pattern})"
    return _rx(f"(?={stop_part}|(?:{starts}))")


@cache
def _closing_tag(name: str, ignore_case: bool) -> re.Pattern[str]:
    return _rx(rf"</{re.escape(name)}{S}*>", re.I if ignore_case else 0)


@cache
def _until_closing_tag(name: str) -> re.Pattern[str]:
    return _rx(rf"(?=</{re.escape(name)}{S}*>)", re.I | re.S)


@cache
def _list_patterns(indentation: int) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    quarter, rest = divmod(indentation, 4)
    content = _rx(
        rf"^(?:(?:\t| {{4}}){{{quarter}}} {{{rest}}}|(?:\t| {{4}}){{{quarter + 1}}}).*{NS}.*\n"
    )
    lazy = _rx(
        rf"(?!^ {{0,{min(indentation, 3)}}}(?:{IAL_BLOCK}|{LAZY_END_HTML_STOP}"
        rf"|{LAZY_END_HTML_START})).*{NS}.*\n"
    )
    return content, lazy, _rx(f"^ {{{indentation}}}")


@cache
def _next_item_pattern(kind: str, indentation: int) -> re.Pattern[str]:
    marker = {"ul": "[+*-]", "ol": r"[0-9]+\.", "dl": ":"}[kind]
    spaces = {1: "{0}", 2: "{0,1}", 3: "{0,2}"}.get(indentation, "{0,3}")
    return _rx(rf"^( {spaces}{marker})({PATTERN_TAIL})")


@cache
def _ext_stop(name: str, block: bool) -> re.Pattern[str]:
    # kramdown writes "\s" inside a Ruby string for the block form, which is a plain space
    stop = rf"\{{:/({re.escape(name)})?\}}"
    return _rx(rf"^{OPT}{stop} *?\n" if block else stop)


# --------------------------------------------------------------------------------------------
# A port of kramdown's parser (block and span level) building a small element tree
# --------------------------------------------------------------------------------------------


class _El:
    """One node of the parsed tree, shaped like ``Kramdown::Element``."""

    __slots__ = ("type", "value", "attr", "children", "options")

    def __init__(self, type_: str, value: Any = None, attr: dict[str, str] | None = None, **opts):
        self.type = type_
        self.value = value
        self.attr: dict[str, str] = {} if attr is None else attr
        self.children: list[_El] = []
        self.options: dict[str, Any] = opts


class _M:
    """A match whose offsets are shifted back into the scanner's string."""

    __slots__ = ("m", "off")

    def __init__(self, match: re.Match[str], offset: int) -> None:
        self.m = match
        self.off = offset

    def group(self, i: int | str = 0) -> str | None:
        return self.m.group(i)

    def start(self, i: int | str = 0) -> int:
        s = self.m.start(i)
        return s + self.off if s >= 0 else -1

    def end(self, i: int | str = 0) -> int:
        e = self.m.end(i)
        return e + self.off if e >= 0 else -1


_MAX_DEPTH = 120  # nesting levels of blocks, spans and HTML; deeper input is refused


class _TooDeep(Exception):
    """The document nests deeper than ``_MAX_DEPTH``."""


class _StopBlockParsing(Exception):
    """Thrown like kramdown's ``:stop_block_parsing`` when an HTML end tag closes a block."""


class _Scanner:
    """Ruby's StringScanner: patterns match at ``pos``, where ``^`` also matches in blocks."""

    def __init__(self, src: _Src, block: bool) -> None:
        self.src = src
        self.s = src.text
        self.pos = 0
        self.block = block
        self.last_start = 0
        self.dead_links: set[int] = set()  # "[" positions known to start no link

    def eos(self) -> bool:
        return self.pos >= len(self.s)

    def check(self, rx: re.Pattern[str]) -> _M | None:
        if self.block and self.pos and self.s[self.pos - 1] != "\n":
            found = rx.match(self.s[self.pos :])
            result = _M(found, self.pos) if found else None
        else:
            found = rx.match(self.s, self.pos)
            result = _M(found, 0) if found else None
        if result is not None:
            self.last_start = result.start()
        return result

    def scan(self, rx: re.Pattern[str]) -> _M | None:
        found = self.check(rx)
        if found is not None:
            self.pos = found.end()
        return found

    def scan_until(self, rx: re.Pattern[str]) -> _M | None:
        found = rx.search(self.s, self.pos)
        if found is None:
            return None
        self.last_start = found.start()
        self.pos = found.end()
        return _M(found, 0)

    def before(self, count: int = 1) -> str:
        """The end of Ruby's ``pre_match``: text just before the last match."""
        return self.s[max(self.last_start - count, 0) : self.last_start]

    def after_word(self) -> bool:
        """Whether the last match follows ``[[:alpha:]]-?[[:alpha:]]*`` (kramdown's ``_`` rule)."""
        i = self.last_start
        if i and self.s[i - 1].isalpha():
            return True
        return i >= 2 and self.s[i - 1] == "-" and self.s[i - 2].isalpha()

    def getch(self) -> str:
        self.pos += 1
        return self.s[self.pos - 1]


def _normalize_id(name: str) -> str:
    return _lower(re.sub(S + "+", " ", name))


def _lower(text: str) -> str:
    # per character, because Ruby's downcase knows no final-sigma rule
    return "".join(c.lower() for c in text)


class _Kramdown:
    """The block and span parsers of kramdown's GFM input, on ``_Src`` text."""

    def __init__(self, definitions: Mapping[str, Definition] | None = None) -> None:
        self.lookup = definitions  # None: resolve references with the definitions found here
        self.defs: dict[str, Definition] = {}
        self.footnotes: set[str] = set()
        self.alds: dict[str, dict[str, Any]] = {}
        self.root = _El("root")
        self.tree: _El = self.root
        self.sc = _Scanner(_Src.plain(""), True)
        self.block_ial: dict[str, Any] | None = None
        self.block_stack: list[tuple[_El, _Scanner, dict[str, Any] | None]] = []
        self.span_stack: list[tuple[_El, str]] = []
        self.text_type = "raw_text"
        self.depth = 0

    def enter(self) -> None:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise _TooDeep

    def parse(self, src: _Src, after_block: bool = True) -> _El:
        if not after_block:
            self.root.children.append(_El("heading_before"))
        self.parse_blocks(self.root, src)
        if not after_block:
            self.root.children.pop(0)
        self.update_tree(self.root)
        return self.root

    # ---- block level ------------------------------------------------------------------------

    def parse_blocks(self, el: _El, src: _Src | None = None) -> bool:
        self.enter()
        self.block_stack.append((self.tree, self.sc, self.block_ial))
        self.tree, self.block_ial = el, None
        if src is not None:
            self.sc = _Scanner(src, True)
        found = False
        try:
            while not self.sc.eos():
                for start, method in _BLOCK_PARSERS:
                    match = self.sc.check(start)
                    if match is not None and method(self, match):
                        break
                else:
                    line = self.sc.scan(_ANY_LINE)
                    if line is None:  # a final line without newline cannot occur; be safe
                        line_src = self.sc.src.slice(self.sc.pos)
                        self.sc.pos = len(self.sc.s)
                    else:
                        line_src = self.sc.src.slice(line.start(), line.end())
                    self.tree.children.append(_El("raw_text", line_src))
        except _StopBlockParsing:
            found = True
        self.tree, self.sc, self.block_ial = self.block_stack.pop()
        self.depth -= 1
        return found

    def new_block_el(self, type_: str, value: Any = None, **opts: Any) -> _El:
        el = _El(type_, value, **opts)
        if self.block_ial is not None:
            el.options["ial"] = self.block_ial
            self.block_ial = None
        return el

    def after_block_boundary(self) -> bool:
        last = self.tree.children[-1] if self.tree.children else None
        return (
            last is None
            or last.type == "blank"
            or (last.type == "eob" and last.value is None)
            or self.block_ial is not None
        )

    def before_block_boundary(self) -> bool:
        return self.sc.check(_BLOCK_BOUNDARY) is not None

    def p_blank_line(self, m: _M) -> bool:
        self.sc.pos = m.end()
        last = self.tree.children[-1] if self.tree.children else None
        if last is not None and last.type == "blank":
            last.value += m.group()
        else:
            self.tree.children.append(self.new_block_el("blank", m.group()))
        return True

    def p_codeblock(self, m: _M) -> bool:
        match = self.sc.scan(_CODEBLOCK_MATCH)
        if match is None or match.end() == match.start():
            return False
        self.tree.children.append(self.new_block_el("codeblock", match.group()))
        return True

    def p_codeblock_fenced(self, m: _M) -> bool:
        match = self.sc.scan(_FENCED_MATCH)
        if match is None:
            return False
        self.tree.children.append(self.new_block_el("codeblock", match.group(5), fenced=True))
        return True

    def p_blockquote(self, m: _M) -> bool:
        sc = self.sc
        start = sc.pos
        sc.scan(_PARAGRAPH_MATCH)
        while sc.check(_LAZY_END) is None:
            if sc.scan(_PARAGRAPH_MATCH) is None:
                break
        content, _ = _sub(sc.src.slice(start, sc.pos), _BLOCKQUOTE_START, "")
        el = self.new_block_el("blockquote")
        self.tree.children.append(el)
        self.parse_blocks(el, content)
        return True

    def header_contents(self, text: _Src) -> tuple[_Src, str | None]:
        text = text.rstrip()
        match = _HEADER_ID.search(text.text)
        if match is None:
            return text, None
        return text.slice(0, match.start()).rstrip(), match.group(1)

    def add_header(self, m: _M, level: int, text: _Src, hid: str | None, atx: bool) -> None:
        self.sc.pos = m.end()
        span = self.sc.src.span(m.start(), m.end())
        el = self.new_block_el("header", level=level, title=text.text, span=span, atx=atx)
        el.children.append(_El("raw_text", text))
        if hid is not None:
            el.attr["id"] = hid
        self.tree.children.append(el)

    def p_atx_header(self, m: _M) -> bool:
        text = self.sc.src.slice(m.start("contents"), m.end("contents"))
        text, hid = self.header_contents(text)
        closing = _ATX_CLOSE.search(text.text)
        if closing is not None:
            text = text.slice(0, closing.start()).rstrip()
        if not text.text:
            return False
        self.add_header(m, len(m.group("level") or ""), text, hid, True)
        return True

    def p_setext_header(self, m: _M) -> bool:
        if not self.after_block_boundary():
            return False
        text = self.sc.src.slice(m.start("contents"), m.end("contents"))
        text, hid = self.header_contents(text)
        if not text.text:
            return False
        self.add_header(m, 2 if m.group("level") == "-" else 1, text, hid, False)
        return True

    def p_horizontal_rule(self, m: _M) -> bool:
        self.sc.pos = m.end()
        self.tree.children.append(self.new_block_el("hr"))
        return True

    def p_block_math(self, m: _M) -> bool:
        if not self.after_block_boundary():
            return False
        if m.group(1) is not None:
            if m.group(3) is not None:
                self.sc.scan(_OPT_BACKSLASH)
            return False
        saved = self.sc.pos
        self.sc.pos = m.end()
        if self.before_block_boundary():
            self.tree.children.append(self.new_block_el("math", (m.group(2) or "").strip()))
            return True
        self.sc.pos = saved
        return False

    def p_paragraph(self, m: _M) -> bool:
        sc = self.sc
        start = sc.pos
        sc.scan(_PARAGRAPH_MATCH)
        while sc.check(_PARAGRAPH_END) is None:
            if sc.scan(_PARAGRAPH_MATCH) is None:
                break
        result = sc.src.slice(start, sc.pos).rstrip()
        last = self.tree.children[-1] if self.tree.children else None
        if last is not None and last.type == "p":
            tail = last.children[-1] if last.children else None
            if tail is not None and tail.type == "raw_text":
                joiner = "  \n" if sc.s[max(start - 3, 0) : start] == "  \n" else "\n"
                gap = sc.src.origin[max(start - 1, 0)]
                tail.value = _concat([tail.value, _Src.synth(joiner, gap), result])
            else:
                last.children.append(_El("raw_text", result))
        else:
            el = self.new_block_el("p")
            el.children.append(_El("raw_text", result.lstrip()))
            self.tree.children.append(el)
        return True

    def p_eob_marker(self, m: _M) -> bool:
        self.sc.pos = m.end()
        self.tree.children.append(self.new_block_el("eob"))
        return True

    def p_link_definition(self, m: _M) -> bool:
        raw_url = m.group(3)
        if raw_url is not None and re.search(r"[ \t]+[\"']", raw_url):
            return False
        self.sc.pos = m.end()
        group = 2 if m.group(2) is not None else 3
        name = _normalize_id(m.group(1) or "")
        span = self.sc.src.span(m.start(group), m.end(group))
        self.defs.pop(name, None)
        self.defs[name] = Definition(name, m.group(group) or "", m.group(5), span)
        self.tree.children.append(self.new_block_el("eob", "link_def"))
        return True

    def p_abbrev_definition(self, m: _M) -> bool:
        self.sc.pos = m.end()
        self.tree.children.append(self.new_block_el("eob", "abbrev_def"))
        return True

    def p_footnote_definition(self, m: _M) -> bool:
        self.sc.pos = m.end()
        content, _ = _sub(self.sc.src.slice(m.start(2), m.end(2)), _INDENT, "")
        el = _El("footnote_def")
        self.parse_blocks(el, content)
        self.footnotes.add(m.group(1) or "")
        self.tree.children.append(self.new_block_el("eob", "footnote_def", content=el))
        return True

    def p_block_extensions(self, m: _M) -> bool:
        sc = self.sc
        if (ald := sc.scan(_ALD_START)) is not None:
            _parse_attribute_list(ald.group(2) or "", self.alds.setdefault(ald.group(1) or "", {}))
            self.tree.children.append(self.new_block_el("eob", "ald"))
            return True
        if (ext := sc.check(_EXT_BLOCK_START)) is not None:
            return self.extension_start_tag(ext, "block")
        if (ial := sc.scan(_IAL_BLOCK_START)) is not None:
            last = self.tree.children[-1] if self.tree.children else None
            if (
                last is not None
                and last.type != "blank"
                and (last.type != "eob" or last.value in ("link_def", "abbrev_def", "footnote_def"))
            ):
                _parse_attribute_list(ial.group(1) or "", last.options.setdefault("ial", {}))
                if sc.check(_IAL_BLOCK_START) is None:
                    self.tree.children.append(self.new_block_el("eob", "ial"))
            else:
                if self.block_ial is None:
                    self.block_ial = {}
                _parse_attribute_list(ial.group(1) or "", self.block_ial)
            return True
        return False

    def extension_start_tag(self, m: _M, kind: str) -> bool:
        sc = self.sc
        saved = sc.pos
        sc.pos = m.end()
        stop_name = m.group(4)
        if stop_name is not None or m.group() == "{:/}" or m.group().strip() == "{:/}":
            sc.pos = saved
            if kind == "span":
                self.add_text(sc.getch())
            return False
        name = m.group(1) or ""
        body: str | None = None
        if m.group(3) is None:
            until = sc.scan_until(_ext_stop(name, kind == "block"))
            if until is None:
                sc.pos = saved
                if kind == "span":
                    self.add_text(sc.getch())
                return False
            body = sc.s[m.end() : until.start()]
        if name in ("comment", "nomarkdown"):
            if body is not None:
                self.tree.children.append(_El("comment" if name == "comment" else "raw", body))
            return True
        if name == "options":
            if kind == "block":
                self.tree.children.append(self.new_block_el("eob", "extension"))
            return True
        sc.pos = saved
        if kind == "span":
            self.add_text(sc.getch())
        return False

    def p_list(self, m: _M) -> bool:
        sc = self.sc
        if sc.check(_LIST_START_UL) is not None:
            kind, item_re = "ul", _LIST_START_UL
        else:
            kind, item_re = "ol", _LIST_START_OL
        lst = self.new_block_el(kind)
        item: _El | None = None
        chunks: list[list[_Src]] = []
        content_re = lazy_re = indent_re = None
        indentation = 0
        eob_found = nested_list_found = last_is_blank = False
        while not sc.eos():
            if last_is_blank and sc.check(_HR_START) is not None:
                break
            if sc.scan(_EOB_MARKER) is not None:
                eob_found = True
                break
            if (start := sc.scan(item_re)) is not None:
                item = _El("li")
                lst.children.append(item)
                content = sc.src.slice(start.start(2), start.end(2))
                marker = len(start.group(1) or "")
                content, indentation = _first_list_line(marker, content)
                content_re, lazy_re, indent_re = _list_patterns(indentation)
                content, _ = _sub(content, _LIST_ITEM_IAL, "", count=1)
                item_re = _next_item_pattern(kind, indentation)
                nested_list_found = _LIST_START.match(content.text) is not None
                last_is_blank = False
                chunks.append([content])
                continue
            assert content_re is not None and lazy_re is not None and indent_re is not None
            line = sc.scan(content_re)
            if line is None and not last_is_blank:
                line = sc.scan(lazy_re)
            if line is not None:
                result = sc.src.slice(line.start(), line.end())
                result, _ = _sub(result, _LEADING_TABS, lambda t: "    " * len(t.group(1)), 1)
                result, found_indent = _sub(result, indent_re, "", count=1)
                is_list = _LIST_START.match(result.text) is not None
                if not nested_list_found and found_indent and is_list:
                    chunks[-1].append(_Src("", [result.origin[0]]))
                    nested_list_found = True
                elif nested_list_found and not found_indent and is_list:
                    pad = _Src.synth(" " * (indentation + 4), result.origin[0])
                    result = _concat([pad, result])
                chunks[-1][-1] = _concat([chunks[-1][-1], result])
                last_is_blank = False
            elif (blank := sc.scan(_BLANK_LINE)) is not None:
                nested_list_found = True
                last_is_blank = True
                blank_src = sc.src.slice(blank.start(), blank.end())
                chunks[-1][-1] = _concat([chunks[-1][-1], blank_src])
            else:
                break
        self.tree.children.append(lst)
        last: _El | None = None
        saved = (self.sc, self.tree, self.block_ial)
        for li, parts in zip(lst.children, chunks, strict=True):
            temp = _El("temp")
            for part in parts:
                self.sc = _Scanner(part, True)
                self.parse_blocks(temp)
            li.children = temp.children
            if li.children:
                last = li.children.pop() if li.children[-1].type == "blank" else None
        self.sc, self.tree, self.block_ial = saved
        if last is not None and not eob_found:
            self.tree.children.append(last)
        return True

    def p_definition_list(self, m: _M) -> bool:
        children = self.tree.children
        if (
            not children
            or (len(children) == 1 and children[-1].type != "p")
            or (
                len(children) >= 2
                and children[-1].type != "p"
                and (
                    children[-1].type != "blank"
                    or children[-1].value != "\n"
                    or children[-2].type != "p"
                )
            )
        ):
            return False
        sc = self.sc
        deflist = self.new_block_el("dl")
        para = children.pop()
        first_as_para = False
        if para.type == "blank":
            para = children.pop()
            first_as_para = True
        terms: list[_Src] = []
        if para.children and para.children[0].type == "raw_text":
            text: _Src = para.children[0].value
            pos = 0
            for line in text.text.split("\n"):
                terms.append(text.slice(pos, pos + len(line)))
                pos += len(line) + 1
        for term in terms:
            dt = _El("dt")
            term, _ = _sub(term, _LIST_ITEM_IAL, "", count=1)
            dt.children.append(_El("raw_text", term))
            deflist.children.append(dt)
        items: list[tuple[_El, list[_Src]]] = []
        content_re = lazy_re = indent_re = None
        def_re = _DEFINITION_LIST_START
        last_is_blank = False
        while not sc.eos():
            if (start := sc.scan(def_re)) is not None:
                dd = _El("dd", first_as_para=first_as_para)
                content = sc.src.slice(start.start(2), start.end(2))
                content, indentation = _first_list_line(len(start.group(1) or ""), content)
                content_re, lazy_re, indent_re = _list_patterns(indentation)
                content, _ = _sub(content, _LIST_ITEM_IAL, "", count=1)
                deflist.children.append(dd)
                items.append((dd, [content]))
                def_re = _next_item_pattern("dl", indentation)
                first_as_para = last_is_blank = False
                continue
            if sc.check(_EOB_MARKER) is not None:
                break
            assert content_re is not None and lazy_re is not None and indent_re is not None
            line = sc.scan(content_re)
            if line is None and not last_is_blank:
                line = sc.scan(lazy_re)
            if line is not None:
                result = sc.src.slice(line.start(), line.end())
                result, _ = _sub(result, _LEADING_TABS, lambda t: "    " * len(t.group(1)), 1)
                result, _ = _sub(result, indent_re, "", count=1)
                items[-1][1].append(result)
                first_as_para = last_is_blank = False
            elif (blank := sc.scan(_BLANK_LINE)) is not None:
                first_as_para = last_is_blank = True
                items[-1][1].append(sc.src.slice(blank.start(), blank.end()))
            else:
                break
        last: _El | None = None
        for dd, parts in items:
            self.parse_blocks(dd, _concat(parts))
            if dd.children:
                last = dd.children.pop() if dd.children[-1].type == "blank" else None
        if children and children[-1].type == "dl":
            children[-1].children.extend(deflist.children)
        elif len(children) >= 2 and children[-1].type == "blank" and children[-2].type == "dl":
            children.pop()
            children[-1].children.extend(deflist.children)
        else:
            children.append(deflist)
        if last is not None:
            children.append(last)
        return True

    def p_table(self, m: _M) -> bool:
        if not self.after_block_boundary():
            return False
        sc = self.sc
        saved = orig = sc.pos
        line = sc.check(_TABLE_LINE)
        leading_pipe = line is not None and _LEADING_PIPE.search(line.group() or "") is not None
        sc.scan(_TABLE_SEP_LINE)
        rows: list[list[_Src]] = []
        all_rows: list[list[_Src]] = []
        containers: list[str] = []
        alignment_set = has_footer = False

        def add_container(kind: str, force: bool) -> None:
            nonlocal rows
            if not has_footer or kind != "tbody" or force:
                containers.append(kind)
                all_rows.extend(rows)
                rows = []

        while not sc.eos():
            if sc.check(_TABLE_LINE) is None:
                break
            if (sep := sc.scan(_TABLE_SEP_LINE)) is not None:
                if not rows:
                    pass
                elif not alignment_set and not has_footer:
                    add_container("thead", False)
                    alignment_set = bool(_TABLE_HSEP_ALIGN.findall(sep.group(1) or ""))
                else:
                    add_container("tbody", False)
            elif sc.scan(_TABLE_FSEP_LINE) is not None:
                if rows:
                    add_container("tbody", True)
                has_footer = True
            elif (row := sc.scan(_TABLE_ROW_LINE)) is not None:
                rows.append(self.table_cells(sc.src.slice(row.start(1), row.end(1)), leading_pipe))
            else:
                break
        if not self.before_block_boundary():
            sc.pos = saved
            return False
        if not self.table_pipes_ok(sc.src.slice(orig, max(sc.pos - 1, orig))):
            sc.pos = saved
            return False
        if rows:
            add_container("tfoot" if has_footer else "tbody", False)
        if "tbody" not in containers:
            sc.pos = saved
            return False
        table = self.new_block_el("table")
        for cells in all_rows:
            tr = _El("tr")
            for cell in cells:
                td = _El("td")
                td.children.append(_El("raw_text", cell.strip()))
                tr.children.append(td)
            table.children.append(tr)
        self.tree.children.append(table)
        return True

    def table_cells(self, row: _Src, leading_pipe: bool) -> list[_Src]:
        cells: list[list[_Src]] = []
        pos = 0
        pieces: list[tuple[_Src, bool]] = []
        for match in _CODE_HTML_SPLIT.finditer(row.text):
            pieces.append((row.slice(pos, match.start()), False))
            pieces.append((row.slice(match.start(), match.end()), True))
            pos = match.end()
        pieces.append((row.slice(pos), False))
        for piece, is_code_html in pieces:
            if is_code_html:
                (cells[-1] if cells else _start_cell(cells)).append(piece)
                continue
            for text, is_code in self.codespan_pieces(piece):
                if not text.text:
                    continue
                if is_code:
                    (cells[-1] if cells else _start_cell(cells)).append(text)
                    continue
                parts = _split_unescaped_pipes(text)
                (cells[-1] if cells else _start_cell(cells)).append(parts[0])
                cells.extend([part] for part in parts[1:])
        joined = [_concat(parts) for parts in cells]
        if leading_pipe and joined and not joined[0].text.strip(" \t\n\v\f\r\0"):
            joined.pop(0)
        if joined and not joined[-1].text.strip(" \t\n\v\f\r\0"):
            joined.pop()
        return joined

    def codespan_pieces(self, piece: _Src) -> list[tuple[_Src, bool]]:
        """Split text into plain and code-span pieces as kramdown's table parser does."""
        holder = _El("root")
        with self.span_env(piece, "raw_text"):
            self.parse_spans(holder, None, ("codespan",))
        result: list[tuple[_Src, bool]] = []
        pos = 0
        for child in holder.children:
            if child.type == "codespan":
                start, end = child.options["pos"]
                if start > pos:
                    result.append((piece.slice(pos, start), False))
                result.append((piece.slice(start, end), True))
                pos = end
        result.append((piece.slice(pos), False))
        return result

    def table_pipes_ok(self, src: _Src) -> bool:
        holder = _El("root")
        with self.span_env(src, "raw_text"):
            self.parse_spans(holder, None, ("codespan", "span_html"))
        pipe_on_line = False
        for child in holder.children:
            value = child.value.text if isinstance(child.value, _Src) else child.value
            if not value:
                continue
            lines = value.split("\n")
            while lines and lines[-1] == "":
                lines.pop()
            if child.type == "codespan":
                if len(lines) > 2 or (len(lines) == 2 and not pipe_on_line):
                    break
                if len(lines) == 2 and pipe_on_line:
                    pipe_on_line = False
            else:
                first = lines[0] if lines else None
                if len(lines) > 1 and not pipe_on_line:
                    if first is None or _TABLE_PIPE_CHECK.match(first) is None:
                        break
                last = lines[-1] if lines else None
                piped = last is not None and _TABLE_PIPE_CHECK.match(last) is not None
                pipe_on_line = (False if len(lines) > 1 else pipe_on_line) or piped
        return pipe_on_line

    # ---- HTML ---------------------------------------------------------------------------------

    def p_block_html(self, m: _M) -> bool:
        sc = self.sc
        if (comment := sc.scan(_HTML_COMMENT)) is not None:
            self.tree.children.append(_El("xml_comment", comment.group()))
            sc.scan(_TRAILING_WS)
            return True
        tag = sc.check(_OPT_HTML_TAG)
        if tag is not None and (tag.group(1) or "").lower() not in _SPAN_ELEMENTS:
            sc.pos = tag.end()
            self.html_start_tag(tag, self.kramdown_html_tag)
            return True
        close = sc.check(_OPT_HTML_TAG_CLOSE)
        if close is not None and (close.group(1) or "").lower() not in _SPAN_ELEMENTS:
            name = (close.group(1) or "").lower()
            if self.tree.type == "html_element" and self.tree.value == name:
                sc.pos = close.end()
                raise _StopBlockParsing
        return False

    def html_attributes(self, m: _M, known: bool, span: bool) -> tuple[dict, dict]:
        attrs: dict[str, str] = {}
        spans: dict[str, tuple[int, int, str]] = {}
        text = m.group(2) or ""
        base = m.start(2)
        for attr in _HTML_ATTRIBUTE.finditer(text):
            name = attr.group(1) or ""
            if known:
                name = name.lower()
            group = 2 if attr.group(2) is not None else 4 if attr.group(4) is not None else 0
            value = attr.group(group) if group else ""
            if span and value:
                value = re.sub(r"\n+", " ", value)
            attrs.pop(name, None)
            attrs[name] = value or ""
            if group:
                start, end = base + attr.start(group), base + attr.end(group)
                quote = attr.group(3) if group == 4 else ""
                spans[name] = (*self.sc.src.span(start, end), quote or "")
        return attrs, spans

    def html_start_tag(self, m: _M, handler: Callable[[_El, bool, bool], None]) -> None:
        name = m.group(1) or ""
        if name.lower() in _HTML_ELEMENT:
            name = name.lower()
        closed = m.group(4) is not None
        attrs, spans = self.html_attributes(m, name in _HTML_ELEMENT, False)
        el = _El("html_element", name, attrs, attr_spans=spans)
        el.options["label_start"] = self.sc.src.span(m.end(), m.end())[0]
        el.options["tag_start"] = self.sc.src.span(m.start(), m.start())[0]
        self.tree.children.append(el)
        if not closed and name in _WITHOUT_BODY:
            closed = True
        if name in ("script", "style"):
            self.raw_html_tag(name)
            handler(el, False, False)
        else:
            handler(el, closed, True)

    def raw_html_tag(self, name: str) -> None:
        sc = self.sc
        start = sc.pos
        until = _until_closing_tag(name).search(sc.s, sc.pos)
        el = self.tree.children[-1]
        end = until.start() if until is not None else len(sc.s)
        el.children.append(_El("raw", sc.s[start:end]))
        sc.pos = end
        if until is not None:
            sc.scan(_HTML_TAG_CLOSE)

    def kramdown_html_tag(self, el: _El, closed: bool, handle_body: bool) -> None:
        sc = self.sc
        if self.block_ial is not None:
            el.options["ial"] = self.block_ial
            self.block_ial = None
        model = "raw"  # parse_block_html is off in Jekyll's kramdown
        marker = _MARKDOWN_ATTR.get(el.attr.pop("markdown", None) or "")
        if marker:
            model = _content_model(el.value) if marker == "default" else marker
        if model == "block":
            sc.scan(_TRAILING_WS)
        el.options["content_model"] = model
        if not closed and handle_body:
            if model == "block":
                self.parse_blocks(el)
            elif model == "span":
                start = sc.pos
                until = _until_closing_tag(el.value).search(sc.s, sc.pos)
                end = until.start() if until is not None else len(sc.s)
                el.children.append(_El("raw_text", sc.src.slice(start, end)))
                sc.pos = end
                if until is not None:
                    sc.scan(_HTML_TAG_CLOSE)
            else:
                self.raw_html(el, self.kramdown_html_tag)
            if not (
                self.tree.type == "html_element" and self.tree.options.get("content_model") == "raw"
            ):
                sc.scan(_TRAILING_WS)

    def raw_html(self, el: _El, handler: Callable[[_El, bool, bool], None]) -> None:
        sc = self.sc
        outer = self.tree
        self.tree = el
        self.enter()
        done = False
        while not sc.eos() and not done:
            start = sc.pos
            found = sc.scan_until(_HTML_RAW_START)
            if found is None:
                self.add_text(sc.s[sc.pos :], el, "text")
                sc.pos = len(sc.s)
                el.options["label_end"] = sc.src.span(sc.pos, sc.pos)[0]
                break
            self.add_text(sc.s[start : sc.pos], el, "text")
            here = sc.pos
            if (comment := sc.scan(_HTML_COMMENT)) is not None:
                el.children.append(_El("xml_comment", comment.group()))
            elif sc.scan(_HTML_INSTRUCTION) is not None:
                el.children.append(_El("xml_pi"))
            elif (tag := sc.scan(_HTML_TAG)) is not None:
                self.html_start_tag(tag, handler)
            elif (close := sc.scan(_HTML_TAG_CLOSE)) is not None:
                name = close.group(1) or ""
                if el.value == (name.lower() if el.value in _HTML_ELEMENT else name):
                    el.options["label_end"] = sc.src.span(here, here)[0]
                    el.options["tag_end"] = sc.src.span(close.start(), close.end())[1]
                    done = True
                else:
                    self.add_text(close.group() or "", el, "text")
            else:
                self.add_text(sc.getch(), el, "text")
        self.tree = outer
        self.depth -= 1

    # ---- span level -------------------------------------------------------------------------

    def span_env(self, src: _Src, text_type: str) -> _SpanEnv:
        return _SpanEnv(self, src, text_type)

    def update_tree(self, element: _El) -> None:
        self.enter()
        last_blank: _El | None = None
        children: list[_El] = []
        for child in element.children:
            if child.type == "raw_text":
                last_blank = None
                with self.span_env(child.value, "text"):
                    self.tree = None  # type: ignore[assignment]
                    self.parse_spans(child)
                children.extend(child.children)
            elif child.type == "eob":
                content = child.options.get("content")
                if content is not None:
                    self.update_tree(content)
                    children.append(content)
            elif child.type == "blank":
                if last_blank is not None:
                    last_blank.value += child.value
                else:
                    last_blank = child
                    children.append(child)
            else:
                last_blank = None
                self.update_tree(child)
                if "ial" in child.options:
                    self.update_attr_with_ial(child.attr, child.options["ial"])
                if child.type == "header":
                    child.options["raw_text"] = _gfm_raw_text(child)
                children.append(child)
        element.children = children
        self.depth -= 1

    def update_attr_with_ial(self, attr: dict[str, str], ial: dict[str, Any]) -> None:
        for ref in ial.get(":refs", []):
            if ref in self.alds:
                self.update_attr_with_ial(attr, self.alds[ref])
        for key, value in ial.items():
            if key == "class":
                attr["class"] = f"{attr.get('class', '')} {value}".lstrip()
            elif not key.startswith(":"):
                attr[key] = value

    def add_text(self, text: str, tree: _El | None = None, type_: str | None = None) -> None:
        tree = self.tree if tree is None else tree
        type_ = self.text_type if type_ is None else type_
        last = tree.children[-1] if tree.children else None
        if last is not None and last.type == type_ and isinstance(last.value, str):
            last.value += text
        else:
            tree.children.append(_El(type_, text))

    def parse_spans(
        self,
        el: _El,
        stop: re.Pattern[str] | None = None,
        parsers: tuple[str, ...] | None = None,
        on_stop: Callable[[_M], bool] | None = None,
    ) -> bool:
        self.enter()
        self.span_stack.append((self.tree, self.text_type))
        self.tree = el
        names = parsers or _ALL_SPANS
        used = _used_re(names, stop)
        sc = self.sc
        stop_found = False
        while not sc.eos() and not stop_found:
            found = used.search(sc.s, sc.pos)
            if found is None:
                if stop is None:
                    self.add_text(sc.s[sc.pos :])
                    sc.pos = len(sc.s)
                break
            self.add_text(sc.s[sc.pos : found.start()])
            sc.pos = found.start()
            if stop is not None and (stop_match := sc.check(stop)) is not None:
                stop_found = on_stop(stop_match) if on_stop else True
            if stop_found:
                break
            for name in names:
                match = sc.check(_SPAN_START[name])
                if match is not None:
                    getattr(self, "s_" + name)(match)
                    break
            else:
                self.add_text(sc.getch())
        self.tree, self.text_type = self.span_stack.pop()
        self.depth -= 1
        return stop_found

    def in_stack(self, *types: str) -> bool:
        return any(tree is not None and tree.type in types for tree, _ in self.span_stack)

    def s_emphasis(self, m: _M) -> None:
        sc = self.sc
        saved = sc.pos
        result = sc.scan(_EMPHASIS_START)
        assert result is not None
        delim = result.group() or ""
        element = "strong" if len(delim) == 2 else "em"
        kind = delim[0]
        if (
            (kind == "_" and sc.after_word())
            or re.match(S, sc.s[sc.pos : sc.pos + 1])
            or self.tree.type == element
            or self.in_stack(element)
        ):
            self.add_text(delim)
            return

        def sub_parse(d: str, elem: str) -> tuple[bool, _El, re.Pattern[str]]:
            el = _El(elem)
            stop = _rx(re.escape(d))
            twice = _rx(re.escape(d * 2) + f"(?!{re.escape(d)})")
            alnum = _rx(re.escape(d) + r"[^\W_]")

            def ok(_: _M) -> bool:
                before = sc.before()
                return (
                    not re.match(S, before)
                    and (elem != "em" or sc.check(twice) is None)
                    and (kind != "_" or sc.check(alnum) is None)
                    and bool(el.children)
                )

            return self.parse_spans(el, stop, None, ok), el, stop

        found, el, stop = sub_parse(delim, element)
        if not found and element == "strong" and self.tree.type != "em":
            sc.pos = saved + 1
            found, el, stop = sub_parse(kind, "em")
        if found:
            sc.scan(stop)
            self.tree.children.append(el)
        else:
            sc.pos = saved + len(delim)
            self.add_text(delim)

    def s_codespan(self, m: _M) -> None:
        sc = self.sc
        start = sc.pos
        result = sc.scan(_CODESPAN_DELIMITER)
        assert result is not None
        delim = result.group() or ""
        simple = len(delim) == 1
        saved = sc.pos
        before = sc.before(2)
        at_start = start == 0 or (start == 1 and before == "\n")
        if simple and (at_start or before[-1:] in _WHITESPACE):
            if re.match(S, sc.s[sc.pos : sc.pos + 1]):
                self.add_text(delim)
                return
        closing = re.compile(re.escape(delim)).search(sc.s, sc.pos)
        if closing is None:
            sc.pos = saved
            self.add_text(delim)
            return
        text = sc.s[saved : closing.start()]
        sc.pos = closing.end()
        if not simple:
            text = text[1:] if text.startswith(" ") else text
            text = text[:-1] if text.endswith(" ") else text
        self.tree.children.append(_El("codespan", text, pos=(start, sc.pos)))

    def s_autolink(self, m: _M) -> None:
        sc = self.sc
        sc.pos = m.end()
        address = m.group(1) or ""
        href = address if m.group(2) is not None else f"mailto:{address}"
        span = sc.src.span(m.start(1), m.end(1))
        source = sc.src.span(m.start(), m.end())
        el = _El("a", None, {"href": href}, kind="autolink", label_span=span, url_span=span)
        el.options["source_span"] = source
        el.children.append(_El("text", re.sub(r"^mailto:", "", address)))
        self.tree.children.append(el)

    def s_span_html(self, m: _M) -> None:
        sc = self.sc
        if (comment := sc.scan(_HTML_COMMENT)) is not None:
            self.tree.children.append(_El("xml_comment", comment.group()))
            return
        if (close := sc.scan(_HTML_TAG_CLOSE)) is not None:
            self.add_text(close.group() or "")
            return
        tag = sc.scan(_HTML_TAG)
        if tag is None:
            self.add_text(sc.getch())
            return
        name = tag.group(1) or ""
        if name.lower() in _HTML_ELEMENT:
            name = name.lower()
        if name in _BLOCK_ELEMENTS:
            self.add_text(tag.group() or "")
            return
        attrs, spans = self.html_attributes(tag, name in _HTML_ELEMENT, True)
        parsing = not (
            _content_model(name) == "raw" or self.tree.options.get("content_model") == "raw"
        )
        marker = _MARKDOWN_ATTR.get(attrs.pop("markdown", None) or "")
        if marker == "span":
            parsing = True
        elif marker == "default":
            parsing = _content_model(name) != "raw"
        elif marker == "raw":
            parsing = False
        el = _El(
            "html_element",
            name,
            attrs,
            attr_spans=spans,
            content_model="span" if parsing else "raw",
            label_start=sc.src.span(tag.end(), tag.end())[0],
            tag_start=sc.src.span(tag.start(), tag.start())[0],
        )
        self.tree.children.append(el)
        stop = _closing_tag(name, name in _HTML_ELEMENT)
        if tag.group(4) is None and name not in _WITHOUT_BODY:
            if self.parse_spans(el, stop, None if parsing else ("span_html",)):
                el.options["label_end"] = sc.src.span(sc.pos, sc.pos)[0]
                closing = sc.scan(stop)
                assert closing is not None
                el.options["tag_end"] = sc.src.span(closing.start(), closing.end())[1]
            else:
                self.add_text(sc.s[sc.pos :], el)
                sc.pos = len(sc.s)
                el.options["label_end"] = sc.src.span(sc.pos, sc.pos)[0]

    def s_footnote_marker(self, m: _M) -> None:
        self.sc.pos = m.end()
        if (m.group(1) or "") in self.footnotes:
            self.tree.children.append(_El("footnote", m.group(1)))
        else:
            self.add_text(m.group() or "")

    def resolve(self, name: str) -> Definition | None:
        table = self.defs if self.lookup is None else self.lookup
        return table.get(name)

    def s_link(self, m: _M) -> None:
        sc = self.sc
        link_start = sc.pos
        result = sc.scan(_LINK_START)
        assert result is not None
        opener = result.group() or ""
        label_start = saved = sc.pos
        is_image = opener.startswith("!")
        nested = self.tree.type in ("img", "a") or self.in_stack("img", "a")
        if not is_image and (nested or link_start in sc.dead_links):
            self.add_text(opener)
            return
        el = _El("img" if is_image else "a")
        count = 1
        events: list[tuple[int, int, bool]] = []  # (position, count less images, is "]")

        def at_bracket(stop: _M) -> bool:
            nonlocal count
            closing = stop.group(1) is not None
            images = sum(1 for c in el.children if c.type == "img")
            if not closing and stop.group() == "[":
                events.append((sc.pos, count - images, False))
            count += -1 if closing else 1
            if closing:
                events.append((sc.pos, count - images, True))
            return count - images == 0

        if not self.parse_spans(el, _LINK_BRACKET_STOP, None, at_bracket):
            if not is_image:
                self.mark_dead_links(events)
            sc.pos = saved
            self.add_text(opener)
            return
        label_end = sc.pos
        alt_text = _ESCAPED_CHARS.sub(r"\1", sc.s[label_start:label_end])
        label_span = sc.src.span(label_start, label_end)
        sc.scan(_LINK_BRACKET_STOP)

        ref = sc.scan(_LINK_INLINE_ID)
        if ref is not None or sc.check(_OPEN_PAREN) is None:
            name = _normalize_id(ref.group(1) if ref is not None and ref.group(1) else alt_text)
            definition = self.resolve(name)
            if definition is None:
                sc.pos = saved
                self.add_text(opener)
                return
            self.add_link(
                el, definition.url, alt_text, "reference", label_span, None, link_start, name
            )
            return

        url_span: tuple[int, int]
        if (angle := sc.scan(_ANGLE_URL)) is not None:
            url = angle.group(1) or ""
            url_span = sc.src.span(angle.start(1), angle.end(1))
            if sc.scan(_CLOSE_PAREN) is not None:
                self.add_link(el, url, alt_text, "inline", label_span, url_span, link_start)
                return
        else:
            open_at = sc.pos
            brackets = 0
            while (stop := sc.scan_until(_LINK_PAREN_STOP)) is not None:
                if stop.group(2) is not None:
                    brackets -= 1
                    if brackets == 0:
                        break
                elif stop.group(1) is not None:
                    brackets += 1
                else:
                    break
            inner_start, inner_end = open_at + 1, max(sc.pos - 1, open_at + 1)
            raw = sc.s[inner_start:inner_end]
            lead = len(raw) - len(raw.lstrip(" \t\n\v\f\r\0"))
            url = raw.strip(" \t\n\v\f\r\0")
            url_span = sc.src.span(inner_start + lead, inner_start + lead + len(url))
            if brackets == 0:
                self.add_link(el, url, alt_text, "inline", label_span, url_span, link_start)
                return
        if sc.scan(_LINK_INLINE_TITLE) is not None:
            self.add_link(el, url, alt_text, "inline", label_span, url_span, link_start)
        else:
            sc.pos = saved
            self.add_text(opener)

    def mark_dead_links(self, events: list[tuple[int, int, bool]]) -> None:
        """After a label scan ran off the end, note which "[" inside it cannot close either.

        A "[" met at level ``v`` would close at the first later "]" that brings this scan back
        to level ``v``; without this, a paragraph of many "[" takes quadratic time.
        """
        later_levels: set[int] = set()
        for position, level, closing in reversed(events):
            if closing:
                later_levels.add(level)
            elif level not in later_levels:
                self.sc.dead_links.add(position)

    def add_link(
        self,
        el: _El,
        href: str,
        alt_text: str,
        kind: str,
        label_span: tuple[int, int],
        url_span: tuple[int, int] | None,
        link_start: int,
        ref: str | None = None,
    ) -> None:
        if el.type == "a":
            el.attr["href"] = href
            source = self.sc.src.span(link_start, self.sc.pos)
            el.options.update(
                kind=kind, label_span=label_span, url_span=url_span, ref=ref, source_span=source
            )
        else:
            el.attr.update(src=href, alt=alt_text)
            el.options["alt_span"] = label_span
            el.children.clear()
        self.tree.children.append(el)

    def s_smart_quotes(self, m: _M) -> None:
        sc = self.sc
        for rule, substs in _SQ_RULES:
            match = sc.scan(rule)
            if match is None:
                continue
            for subst in substs:
                if isinstance(subst, int):
                    self.add_text(match.group(subst) or "")
                    continue
                quote = match.group(int(subst[-1])) if subst[-1].isdigit() else None
                value = _SQ_SUBSTS.get((subst, quote or ""), subst)
                source = quote or {"ldquo": '"', "rdquo": '"'}.get(value, "'")
                self.tree.children.append(_El("smart_quote", value, source=source))
            return

    def s_inline_math(self, m: _M) -> None:
        self.sc.pos = m.end()
        self.tree.children.append(_El("math", (m.group(1) or "").strip()))

    def s_span_extensions(self, m: _M) -> None:
        sc = self.sc
        if (ext := sc.check(_EXT_SPAN_START)) is not None:
            self.extension_start_tag(ext, "span")
            return
        if (ial := sc.check(_IAL_SPAN_START)) is not None:
            last = self.tree.children[-1] if self.tree.children else None
            if last is not None and last.type != "text":
                sc.pos = ial.end()
                attrs: dict[str, Any] = {}
                _parse_attribute_list(ial.group(1) or "", attrs)
                self.update_attr_with_ial(last.attr, attrs)
                return
        self.add_text(sc.getch())

    def s_html_entity(self, m: _M) -> None:
        self.sc.pos = m.end()
        name = m.group(1)
        if name is not None:
            if name in _ENTITIES:
                char = chr(_ENTITIES[name])
            else:
                self.tree.children.append(_El("entity", "&"))
                self.add_text((m.group() or "")[1:])
                return
        else:  # as a browser reads it: &#0; is U+FFFD, never a NUL the database cannot store
            char = unescape(m.group())
        self.tree.children.append(_El("entity", char))

    def s_typographic_syms(self, m: _M) -> None:
        self.sc.pos = m.end()
        matched = m.group() or ""
        value = dict(_TYPOGRAPHIC_SYMS)[matched]
        if matched in ("\\<<", "\\>>"):
            char = "<" if matched == "\\<<" else ">"
            self.tree.children.append(_El("entity", char))
            self.tree.children.append(_El("entity", char))
        else:
            self.tree.children.append(_El("typographic_sym", value, source=matched))

    def s_line_break(self, m: _M) -> None:
        self.sc.pos = m.end()
        self.tree.children.append(_El("br"))

    def s_escaped_chars(self, m: _M) -> None:
        self.sc.pos = m.end()
        self.add_text(m.group(1) or "")

    def s_strikethrough(self, m: _M) -> None:
        sc = self.sc
        sc.pos = m.end()
        el = _El("html_element", "del", content_model="span")
        self.tree.children.append(el)
        inner = sc.src.slice(m.start() + 2, m.end() - 2)
        with self.span_env(inner, "text"):
            self.tree = None  # type: ignore[assignment]
            self.parse_spans(el)


class _SpanEnv:
    """Save the parser's scanner and span state, span-parse another text, restore."""

    def __init__(self, parser: _Kramdown, src: _Src, text_type: str) -> None:
        self.parser = parser
        self.src = src
        self.text_type = text_type

    def __enter__(self) -> None:
        p = self.parser
        self.saved = (p.sc, p.tree, p.span_stack, p.text_type)
        p.sc = _Scanner(self.src, False)
        p.span_stack = []
        p.text_type = self.text_type

    def __exit__(self, *exc: object) -> None:
        p = self.parser
        p.sc, p.tree, p.span_stack, p.text_type = self.saved


_LEADING_TABS = _rx(r"^(\t+)")


def _first_list_line(indentation: int, content: _Src) -> tuple[_Src, int]:
    """Expand leading tabs of a list item's first line and find its content indentation."""
    if _LIST_ITEM_IAL_CHECK.match(content.text):
        indentation = 4
    else:
        while re.match(r" *\t", content.text):
            spaces = len(content.text) - len(content.text.lstrip(" "))
            temp = spaces + indentation

            def expand(match: re.Match[str], temp: int = temp) -> str:
                tabs = len(match.group(2))
                return match.group(1) + " " * (4 - (temp % 4) + (tabs - 1) * 4)

            content, _ = _sub(content, _rx(r"^( *)(\t+)"), expand, count=1)
        indentation += len(content.text) - len(content.text.lstrip(" "))
    content, _ = _sub(content, _rx(rf"^{S}*"), "", count=1)
    return content, indentation


def _start_cell(cells: list[list[_Src]]) -> list[_Src]:
    cells.append([])
    return cells[-1]


def _split_unescaped_pipes(text: _Src) -> list[_Src]:
    parts: list[_Src] = []
    pos = 0
    for match in _UNESCAPED_PIPE.finditer(text.text):
        parts.append(text.slice(pos, match.start()))
        pos = match.end()
    parts.append(text.slice(pos))
    return [_sub(part, _rx(r"\\(?=\|)"), "")[0] for part in parts]


def _parse_attribute_list(text: str, opts: dict[str, Any]) -> None:
    if not text.strip() or text.strip() == ":":
        return
    for match in _ALD_TYPE_ANY.finditer(text):
        key, _, value, ref, id_or_class = match.groups()
        if ref:
            opts.setdefault(":refs", []).append(ref)
        elif id_or_class:
            for id_attr, class_attr in _ALD_ID_OR_CLASS.findall(id_or_class):
                if class_attr:
                    opts["class"] = f"{opts.get('class', '')} {class_attr}".lstrip()
                else:
                    opts["id"] = id_attr
        elif key:
            opts[key] = value


_BLOCK_PARSERS: list[tuple[re.Pattern[str], Callable[[_Kramdown, _M], bool]]] = [
    (_BLANK_LINE, _Kramdown.p_blank_line),
    (_INDENT, _Kramdown.p_codeblock),
    (_FENCED_START, _Kramdown.p_codeblock_fenced),
    (_BLOCKQUOTE_START, _Kramdown.p_blockquote),
    (_ATX_HEADER_START, _Kramdown.p_atx_header),
    (_HR_START, _Kramdown.p_horizontal_rule),
    (_LIST_START, _Kramdown.p_list),
    (_DEFINITION_LIST_START, _Kramdown.p_definition_list),
    (_HTML_BLOCK_START, _Kramdown.p_block_html),
    (_SETEXT_START, _Kramdown.p_setext_header),
    (_BLOCK_MATH_START, _Kramdown.p_block_math),
    (_TABLE_START, _Kramdown.p_table),
    (_FOOTNOTE_DEFINITION_START, _Kramdown.p_footnote_definition),
    (_LINK_DEFINITION_START, _Kramdown.p_link_definition),
    (_ABBREV_DEFINITION_START, _Kramdown.p_abbrev_definition),
    (_BLOCK_EXTENSIONS_START, _Kramdown.p_block_extensions),
    (_EOB_START, _Kramdown.p_eob_marker),
    (_PARAGRAPH_START, _Kramdown.p_paragraph),
]


# --------------------------------------------------------------------------------------------
# Heading ids (kramdown-parser-gfm)
# --------------------------------------------------------------------------------------------


def _gfm_raw_text(el: _El) -> str:
    """The header text kramdown-parser-gfm builds its id from."""
    out: list[str] = []

    def walk(node: _El) -> None:
        for child in node.children:
            if child.type in ("text", "codespan", "math", "entity"):
                out.append(child.value)
            elif child.type == "smart_quote":
                out.append(_SMART_QUOTE_CHARS[child.value])
            elif child.type == "typographic_sym":
                out.append(_TYPOGRAPHIC_CHARS[child.value])
            elif child.type != "raw":
                walk(child)

    walk(el)
    return "".join(out)


_OTHER_ALPHABETIC = ((0x24B6, 0x24E9), (0x1F130, 0x1F149), (0x1F150, 0x1F169), (0x1F170, 0x1F189))


def _is_word_char(char: str) -> bool:
    """Onigmo's ``\\p{Word}``: letters, marks, decimal digits, connector punctuation, ..."""
    category = unicodedata.category(char)
    if category[0] in "LM" or category in ("Nd", "Nl", "Pc"):
        return True
    point = ord(char)
    return point in (0x200C, 0x200D) or any(a <= point <= b for a, b in _OTHER_ALPHABETIC)


def _gfm_id_base(raw_text: str) -> str:
    kept = (c for c in _lower(raw_text) if c in "- \t" or _is_word_char(c))
    return "".join(kept).replace(" ", "-").replace("\t", "-")


def _header_ids(root: _El) -> dict[int, tuple[str, str]]:
    """Give every header kramdown gives an id its (id, base id), keyed by ``id(element)``."""
    counter: dict[str, int] = {}
    ids: dict[int, tuple[str, str]] = {}

    def walk(node: _El) -> None:
        for child in node.children:
            if child.type in ("html_element", "footnote_def"):
                continue
            if child.type == "header":
                if "id" in child.attr:
                    ids[id(child)] = (child.attr["id"], child.attr["id"])
                else:
                    base = _gfm_id_base(child.options.get("raw_text", ""))
                    counter[base] = counter.get(base, -1) + 1
                    n = counter[base]
                    ids[id(child)] = (f"{base}-{n}" if n > 0 else base, base)
                continue
            walk(child)

    walk(root)
    return ids


# --------------------------------------------------------------------------------------------
# Links, labels and contexts
# --------------------------------------------------------------------------------------------

_MARKDOWN_BLOCKS = frozenset(
    "p header dt dd li td tr table ul ol dl blockquote codeblock math hr footnote_def".split()
)
_HTML_BLOCKISH = frozenset(
    "address article aside blockquote body center dd details dialog dir div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html iframe legend li "
    "main menu nav noscript ol optgroup option p pre section summary table tbody td tfoot th "
    "thead tr ul video audio canvas".split()
)
_BLOCK_PARENTS = frozenset("root li dd blockquote footnote_def".split())
_INVISIBLE = frozenset(("script", "style"))
_WS_RUN = re.compile(r"[ \t\n\v\f\r]+")


def _collapse(text: str) -> str:
    return _WS_RUN.sub(" ", text).strip()


def _is_link(el: _El) -> bool:
    if el.type == "a":
        return True
    return el.type == "html_element" and el.value == "a" and "href" in el.attr


def _is_block(el: _El) -> bool:
    if el.type in _MARKDOWN_BLOCKS:
        return True
    return el.type == "html_element" and el.value in _HTML_BLOCKISH


def _holds_blocks(el: _El) -> bool:
    if el.type in _BLOCK_PARENTS:
        return True
    return el.type == "html_element" and el.options.get("content_model") == "block"


class _Piece:
    """A run of reader text, a line break, or the start/end of a link."""

    __slots__ = ("kind", "text", "el")

    def __init__(self, kind: str, text: str = "", el: _El | None = None) -> None:
        self.kind = kind
        self.text = text
        self.el = el


def _pieces(el: _El, raw: bool = False, top: bool = True) -> Iterator[_Piece]:
    """Reader text of an element's content; nested blocks become breaks."""
    for child in el.children:
        kind = child.type
        if not top and _is_block(child):
            yield _Piece("break")
            continue
        if kind == "text":
            value = unescape(child.value) if raw else child.value
            lines = value.split("\\\n") if not raw else [value]
            for i, line in enumerate(lines):
                if i:
                    yield _Piece("break")
                yield _Piece("text", line)
        elif kind in ("codespan", "math"):
            yield _Piece("text", child.value)
        elif kind in ("entity", "smart_quote", "typographic_sym"):
            yield _Piece("text", child.options.get("source", child.value))
        elif kind == "br":
            yield _Piece("break")
        elif kind == "img":
            # kramdown writes the alt text as it stands in the source; browsers decode entities
            yield _Piece("text", unescape(child.attr.get("alt", "")))
        elif kind == "a":
            yield _Piece("start", el=child)
            yield from _pieces(child, raw, False)
            yield _Piece("end", el=child)
        elif kind == "html_element":
            tag = child.value
            if tag in _INVISIBLE:
                continue
            if tag == "img":
                yield _Piece("text", unescape(child.attr.get("alt", "")))
            elif tag == "br":
                yield _Piece("break")
            else:
                child_raw = child.options.get("content_model") == "raw"
                link = _is_link(child)
                if link:
                    yield _Piece("start", el=child)
                yield from _pieces(child, child_raw, False)
                if link:
                    yield _Piece("end", el=child)
        elif kind == "codeblock":
            yield _Piece("break")
            yield _Piece("text", child.value or "")
            yield _Piece("break")
        elif kind in _MARKDOWN_BLOCKS or kind in ("root", "temp"):
            yield _Piece("break")
            yield from _pieces(child, raw, False)
            yield _Piece("break")
        elif kind in ("em", "strong"):
            yield from _pieces(child, raw, False)


def _joined(pieces: Iterable[_Piece]) -> str:
    return "".join(p.text if p.kind == "text" else " " if p.kind == "break" else "" for p in pieces)


def _reader_text(el: _El) -> str:
    """All reader text of an element, breaks as spaces."""
    if _is_link(el) or el.type == "html_element":
        wrapper = _El("temp")
        wrapper.children.append(el)
        el = wrapper
    return _joined(_pieces(el, False, True))


def _label_of(link: _El) -> str:
    raw = link.type == "html_element" and link.options.get("content_model") == "raw"
    return _collapse(_joined(_pieces(link, raw, True)))


def _segments(container: _El) -> list[tuple[str, set[int]]]:
    """Split a container's own text at breaks; note which links start in each part."""
    raw = container.type == "html_element" and container.options.get("content_model") == "raw"
    segments: list[tuple[list[str], set[int]]] = [([], set())]
    for piece in _pieces(container, raw, False):
        if piece.kind == "break":
            segments.append(([], set()))
        elif piece.kind == "text":
            segments[-1][0].append(piece.text)
        elif piece.kind == "start" and piece.el is not None:
            segments[-1][1].add(id(piece.el))
    return [(_collapse("".join(words)), links) for words, links in segments]


def _row_text(row: _El) -> str:
    cells = [_collapse(_reader_text_of_children(cell)) for cell in row.children]
    return " | ".join(cell for cell in cells if cell)


def _reader_text_of_children(el: _El) -> str:
    raw = el.type == "html_element" and el.options.get("content_model") == "raw"
    return _joined(_pieces(el, raw, True))


def _collect_links(root: _El) -> list[FoundLink]:
    links: list[FoundLink] = []
    cache_: dict[int, list[tuple[str, set[int]]]] = {}

    def context(link: _El, ancestors: list[_El]) -> str:
        container = ancestors[-1]
        for i in range(len(ancestors) - 1, 0, -1):
            node, parent = ancestors[i], ancestors[i - 1]
            if _is_block(node) or _holds_blocks(parent):
                container = node
                break
        if container.type == "td" or (
            container.type == "html_element" and container.value in ("td", "th")
        ):
            parent = ancestors[ancestors.index(container) - 1]
            if parent.type == "tr" or (parent.type == "html_element" and parent.value == "tr"):
                return _row_text(parent)
        key = id(container)
        if key not in cache_:
            cache_[key] = _segments(container)
        for text, starts in cache_[key]:
            if id(link) in starts:
                return text
        return ""

    def walk(node: _El, ancestors: list[_El]) -> None:
        for child in node.children:
            if _is_link(child):
                links.append(_found_link(child, context(child, ancestors + [node])))
            walk(child, ancestors + [node])

    walk(root, [])
    return links


def _found_link(el: _El, context: str) -> FoundLink:
    label = _label_of(el)
    if el.type == "a":
        return FoundLink(
            kind=el.options.get("kind", "inline"),
            label=label,
            url=el.attr.get("href", ""),
            context=context,
            label_span=el.options.get("label_span"),
            url_span=el.options.get("url_span"),
            ref=el.options.get("ref"),
            source_span=el.options.get("source_span"),
        )
    spans = el.options.get("attr_spans", {})
    href = spans.get("href")
    start = el.options.get("label_start")
    end = el.options.get("label_end", start)
    label_span = (start, end) if start is not None else None
    tag_start = el.options.get("tag_start")
    tag_end = el.options.get("tag_end", end)
    return FoundLink(
        kind="html",
        label=label,
        url=unescape(el.attr.get("href", "")),
        context=context,
        label_span=label_span,
        url_span=(href[0], href[1]) if href else None,
        source_span=(tag_start, tag_end) if tag_start is not None and tag_end is not None else None,
    )


# --------------------------------------------------------------------------------------------
# Rewriting
# --------------------------------------------------------------------------------------------


def _apply_edits(body: str, edits: Iterable[tuple[int, int, str]]) -> str:
    for start, end, text in sorted(edits, reverse=True):
        body = body[:start] + text + body[end:]
    return body


def _balanced(url: str) -> bool:
    depth = 0
    for char in url:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _percent_encode(url: str, chars: str) -> str:
    return "".join(f"%{ord(c):02X}" if c in chars else c for c in url)


def _inline_destination(url: str) -> str:
    """The text for an inline link's ``(...)`` that kramdown reads back as ``url``.

    ``<`` and ``>`` (not valid in URLs; a ``<`` can start an HTML tag that swallows a table row)
    are percent-encoded; a URL with spaces or unbalanced parentheses is wrapped in ``<>``.
    """
    url = _percent_encode(url, "<>")
    if url and not re.search(S, url) and _balanced(url):
        return url
    if "\n" not in url and "\r" not in url:
        return f"<{url}>"
    return _percent_encode(url, " \t\n\v\f\r()")


def _inline_url_edit(body: str, span: tuple[int, int], url: str) -> tuple[int, int, str]:
    start, end = span
    if start > 0 and body[start - 1] == "<" and body[end : end + 1] == ">":
        start, end = start - 1, end + 1
    destination = _inline_destination(url)
    if destination.startswith("<"):
        # kramdown reads (<url>) only with the brackets right inside the parentheses
        while start > 0 and body[start - 1] in _WHITESPACE:
            start -= 1
        stop = end
        while stop < len(body) and body[stop] in _WHITESPACE:
            stop += 1
        if body[stop : stop + 1] == ")":
            end = stop
    return start, end, destination


def _definition_url(url: str, angle: bool) -> str:
    needs_angle = angle or not url or re.search(S, url) is not None or url.startswith("<")
    if needs_angle and ">" not in url and "\n" not in url:
        return f"<{url}>"
    return _percent_encode(url, " \t\n\v\f\r<>")


def _html_url_edit(body: str, span: tuple[int, int], url: str) -> tuple[int, int, str]:
    start, end = span
    quote = body[start - 1] if start > 0 and body[start - 1] in "\"'" else ""
    escaped = html.escape(url, quote=False)
    if quote == "'":
        return start, end, escaped.replace("'", "&#x27;")
    escaped = escaped.replace('"', "&quot;")
    return (start, end, escaped) if quote else (start, end, f'"{escaped}"')


_WHITESPACE = " \t\n\v\f\r"
_MD_ESCAPE = re.compile(r"([\\`*_\[\]<>{}$~|!])")
_ALT_ESCAPE = re.compile(r"([\\`*_\[\]<>{}$|!])")  # kramdown removes only these from alt text
_ENTITY_LIKE = re.compile(r"&(?=[A-Za-z0-9_:][\-A-Za-z0-9_.:]*;|#[0-9]+;|#x[0-9a-fA-F]+;)")


def _markdown_label(label: str, escape: re.Pattern[str] = _MD_ESCAPE) -> str:
    text = _ENTITY_LIKE.sub("&amp;", _collapse(label))
    text = escape.sub(r"\\\1", text)
    return "&#94;" + text[1:] if text.startswith("^") else text


def _html_label(label: str) -> str:
    text = html.escape(_collapse(label), quote=False)
    return "".join(f"&#{ord(c)};" if c in "\\`*_[]{}$~|!" else c for c in text)


def _label_edit(body: str, link: FoundLink, label: str) -> tuple[int, int, str]:
    assert link.label_span is not None
    start, end = link.label_span
    image = _sole_image_alt(body, link)
    if image is not None:
        alt_start, alt_end, html_attr = image
        if html_attr:
            text = _html_label(label).replace('"', "&quot;").replace("'", "&#39;")
        else:
            text = _markdown_label(label, _ALT_ESCAPE)
        return alt_start, alt_end, text
    if link.kind == "html":
        return start, end, _html_label(label)
    if link.kind == "reference" and link.source_span is not None:
        tail = body[end : link.source_span[1]]
        if tail == "]" or _COLLAPSED_REFERENCE.fullmatch(tail):
            # [text][] and [text] name their definition by the text itself: keep that name
            return start - 1, link.source_span[1], f"[{_markdown_label(label)}][{body[start:end]}]"
    return start, end, _markdown_label(label)


_COLLAPSED_REFERENCE = re.compile(rf"\]{S}*?\[\]")


class _AnyDefinition(dict):
    """Resolves every reference name, so image references parse without their definitions."""

    def get(self, key: str, default: Any = None) -> Definition:  # type: ignore[override]
        return Definition(key, "", None, (0, 0))


def _sole_image_alt(body: str, link: FoundLink) -> tuple[int, int, bool] | None:
    """Where the alt text is when a link's label is nothing but one image (a badge)."""
    assert link.label_span is not None
    start, end = link.label_span
    inner = body[start:end]
    if link.kind == "html":
        tag = re.fullmatch(rf"{S}*(<img\b[^>]*>){S}*", inner, re.I)
        if tag is None:
            return None
        alt = re.search(rf"{S}alt{S}*={S}*(\"([^\"]*)\"|'([^']*)')", tag.group(1), re.I)
        if alt is None:
            return None
        group = 2 if alt.group(2) is not None else 3
        offset = start + tag.start(1)
        return offset + alt.start(group), offset + alt.end(group), True
    parser = _Kramdown(_AnyDefinition())
    holder = _El("root")
    holder.children.append(_El("raw_text", _Src(inner, list(range(start, end + 1)))))
    try:
        parser.update_tree(holder)
    except _TooDeep:
        return None
    visible = [c for c in holder.children if not (c.type == "text" and not c.value.strip())]
    if len(visible) == 1 and visible[0].type == "img":
        alt_start, alt_end = visible[0].options["alt_span"]
        return alt_start, alt_end, False
    return None


def _rewrite_autolink(body: str, link: FoundLink, url: str | None, label: str | None) -> str:
    assert link.url_span is not None
    start, end = link.url_span
    new_url = link.url if url is None else url
    keep_form = label is None or label == link.label
    if keep_form and _AUTOLINK_START.fullmatch(f"<{new_url}>"):
        written = new_url
        email = new_url[7:] if new_url.startswith("mailto:") else None
        if not body[start:end].startswith("mailto:") and email and "@" in email:
            if _AUTOLINK_START.fullmatch(f"<{email}>"):
                written = email
        return body[:start] + written + body[end:]
    text = link.label if label is None else label
    return (
        body[: start - 1]
        + f"[{_markdown_label(text)}]({_inline_destination(new_url)})"
        + (body[end + 1 :])
    )
