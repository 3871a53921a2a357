"""Is an HTML answer safe to embed? An html5lib-based detector of executable markup.

The detector parses a fragment the way a browser does (html5lib implements the HTML5 parsing
algorithm, foreign content included) and then looks at elements and attributes, never at the
raw text, so entity encoding, odd casing or whitespace in the source cannot hide anything.
Shared by the renderer tests (``tests/markdown``), the route tests and the hardening tests.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

import html5lib

from api.markdown.render import RenderSettings
from tests.paths import NAUGHTY_STRINGS, XSS

EMBED_HOSTS = RenderSettings().embed_hosts  # the app's default EMBED_HOSTS

# Elements that run script, load active content, change how URLs resolve or submit data.
FORBIDDEN_TAGS = {"script", "style", "object", "embed", "form", "base", "meta", "link", "svg"}
FORBIDDEN_TAGS |= {"math", "applet", "frame", "frameset", "template", "input", "button"}
FORBIDDEN_TAGS |= {"portal", "isindex", "param", "textarea", "select", "noembed"}
# Attributes holding a URL a browser may load or navigate to.
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "srcset"}
URL_ATTRIBUTES |= {"data", "poster", "background", "cite", "longdesc", "ping", "dynsrc"}
URL_ATTRIBUTES |= {"lowsrc", "codebase", "classid", "archive", "manifest", "icon", "usemap"}
URL_ATTRIBUTES |= {"profile", "itemtype", "imagesrcset"}
# Attributes that are script (or HTML that may hold script) whatever their value.
SCRIPT_ATTRIBUTES = {"style", "srcdoc", "http-equiv"}

_NAMESPACE = re.compile(r"^\{.*\}")
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]")


def parse(fragment: str) -> Element:
    """Parse HTML as a browser would (html5lib), returning the fragment's root."""
    return html5lib.parseFragment(fragment, treebuilder="etree", namespaceHTMLElements=False)


def elements(root: Element) -> Iterator[tuple[str, dict[str, str]]]:
    """Every element below root as (local tag name, attributes)."""
    for element in root.iter():
        if isinstance(element.tag, str) and element is not root:
            attrs = {_NAMESPACE.sub("", k): v for k, v in element.attrib.items()}
            yield _NAMESPACE.sub("", element.tag).lower(), attrs


def is_unsafe(url: str) -> bool:
    """A script or data URL, however it is cased, entity-encoded or padded with controls.

    Browsers drop tabs and newlines anywhere in a URL and C0 controls and spaces around it;
    this removes them everywhere and decodes entities once more (a double-decoding reader).
    """
    compact = _URL_NOISE.sub("", html.unescape(url)).lower()
    return compact.startswith(("javascript:", "vbscript:", "data:", "livescript:", "mocha:"))


def _urls(name: str, value: str) -> list[str]:
    if name in ("srcset", "imagesrcset"):
        return [candidate.strip().split(" ")[0] for candidate in value.split(",")]
    return [value]


def _allowed_embed(src: str) -> bool:
    if "\\" in src or _URL_NOISE.search(src):
        return False
    try:
        parts = urlsplit(src)
        return parts.scheme == "https" and "@" not in parts.netloc and parts.hostname in EMBED_HOSTS
    except ValueError:
        return False


def problems(fragment: str) -> list[str]:
    """What is executable (or could become so) in an HTML fragment, judged on the parsed tree."""
    found = []
    for tag, attrs in elements(parse(fragment)):
        if tag in FORBIDDEN_TAGS:
            found.append(f"<{tag}>")
        if tag == "iframe" and not _allowed_embed(attrs.get("src", "")):
            found.append(f"<iframe src={attrs.get('src')!r}>")
        for name, value in attrs.items():
            name = name.lower()
            if name.startswith("on") or name in SCRIPT_ATTRIBUTES:
                found.append(f"<{tag} {name}=...>")
            if name in URL_ATTRIBUTES and any(is_unsafe(url) for url in _urls(name, value)):
                found.append(f"<{tag} {name}={value!r}>")
    return found


# --- the payload corpus ------------------------------------------------------------------

# Lists of event-handler names, not payloads (see tests/corpus/xss/payloadsallthethings/NOTICE.md).
HANDLER_LISTS = {"0xcela_event_handlers.txt", "port_swigger_xss_cheatsheet_event_handlers.txt"}
# Lists whose "#" lines are comments (in xss_swf_fuzz.txt they are payloads).
COMMENTED_LISTS = {"jsonp_endpoint.txt", NAUGHTY_STRINGS.name}


def payload_files() -> list[Path]:
    """Every XSS payload list, then the Big List of Naughty Strings."""
    xss = [p for p in sorted(XSS.rglob("*.txt")) if p.stem.upper() not in ("LICENSE", "NOTICE")]
    return [*xss, NAUGHTY_STRINGS]


def payloads_in(path: Path) -> list[str]:
    """The payloads of one list, read as its NOTICE says.

    Lines end with LF or CRLF only: the strings themselves hold form feeds, NEL and U+2028,
    which ``str.splitlines`` would split on. Blank lines separate groups; in the commented
    lists ``#`` lines are comments; a list of handler names gives two payloads per name.
    """
    lines = re.split(r"\r?\n", path.read_bytes().decode("utf-8"))
    payloads = [line for line in lines if line != ""]
    if path.name in COMMENTED_LISTS:
        payloads = [line for line in payloads if not line.startswith("#")]
    if path.name in HANDLER_LISTS:
        return [
            form.format(name=name)
            for name in payloads
            for form in ("<img src=x {name}=alert(1)>", "<a href=# {name}=alert(1)>x</a>")
        ]
    return payloads


def xss_payloads() -> list[str]:
    """Every XSS payload of the corpus once, in file order."""
    return _unique(p for path in payload_files()[:-1] for p in payloads_in(path))


def naughty_strings() -> list[str]:
    """Every string of blns.txt once (516 lines, 514 distinct)."""
    return _unique(payloads_in(NAUGHTY_STRINGS))


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
