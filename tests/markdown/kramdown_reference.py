"""What the real renderer (Ruby kramdown + kramdown-parser-gfm) makes of our test documents.

The differential tests compare the importer with golden fixtures made by this module, so they
run without Ruby. To regenerate the fixtures after changing a case or the corpus (needs
``apt-get install ruby-kramdown ruby-kramdown-parser-gfm``)::

    .venv/bin/python -m tests.markdown.kramdown_reference

which runs ``kramdown_reference.rb`` over every document and rewrites ``fixtures/*.json``.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from api.markdown.importer import parse_page
from tests.paths import SEED, SITE

HERE = Path(__file__).parent
SCRIPT = HERE / "kramdown_reference.rb"
FIXTURES = HERE / "fixtures"

# Headings and links that are easy to get wrong; each is rendered by kramdown on its own.
TRICKY_CASES: dict[str, str] = {
    "slug-examples": (
        "## Community meetings\n\n## Join the community\n\n## 192 abc 192\n\n"
        '## With "smart" quotes\n\n## before \tafter\n'
    ),
    "slug-markup": (
        "## `code` *em* **strong** [link](http://x) &amp; &eacute; &#169; -- --- ... << >>\n\n"
        "## a << b >> c\n\n## Don't stop ~~struck~~ <span>html</span> <img src=x alt=y>\n\n"
        "## H~2~O x^2 $$a+b$$\n\n## Foo\\_bar \\*star\\* \\## hash\n"
    ),
    "slug-unicode": (
        "## Ünïcödé Straße\n\n## ΑΣ Ǆx ²½ e\u0301 a\u203fb\n\n## 日本語 の 見出し\n\n"
        "## Emoji 🎉 party\n\n## Ⅻ ⓐ x\u00a0y\n"
    ),
    "slug-duplicates": (
        "Blog\n====\n\n## Blog\n\n## Blog 1\n\n### Blog\n\n## Blog\n\n## Intro\n\n## intro\n"
    ),
    "slug-explicit": (
        "## Title {#custom-id}\n\n## Title {: #other .cls}\n\n## Title\n{: #from-ial}\n\n"
        "{: #before}\n## Before\n\n## Closing ##\n\n## Hash# inside\n\n## Tab\there\n"
    ),
    "slug-empty": "## !!!\n\nx\n\n## #\n\ny\n\n## ???\n\n## Real\n",
    "headings-not": (
        "   ## indented\n\n##no-space\n\n##\n\n## \n\n    ## code\n\n```\n## fenced\n```\n\n"
        "~~~ python\n## tilde\n~~~\n\n- item\n\n  ```\n  ## in list fence\n  ```\n\n"
        "- item\n## lazy continuation\n\n> ## quoted\n\n<div>\n\n## in div\n\n</div>\n\n"
        "<details>\n<summary>More</summary>\n\n## in details\n\n</details>\n\n"
        "{% highlight python %}\n## in highlight\n{% endhighlight %}\n\n## after\n"
    ),
    "headings-yes": (
        "text\n## interrupts paragraph\n\n```\nunclosed fence\n## real heading\n\n"
        '<div markdown="1">\n## md div\n</div>\n\n## last ## \n'
    ),
    "links-inline": (
        'One [a](http://a.example "title") two [b](<http://b.example/x y>) three\n'
        "[c](http://c.example/(paren)) [d](\n  http://d.example\n) [e]( http://e.example )\n"
        "[nested [brackets]](http://f.example) [*em* `code` **b**](http://g.example)\n\n"
        "[Join here](https://x.example/join){: .btn .btn--primary}\n\n"
        "[![badge](https://img.example/b.svg)](https://h.example)\n"
        "[![alt one](i.png) and text](https://i.example)\n\n"
        "![just image](https://img.example/only.png) `[no](http://code.example)`\n\n"
        "Bare https://bare.example is not a link, nor \\[escaped](http://esc.example).\n"
    ),
    "links-reference": (
        "[Full][ref] and [Collapsed][] and [Shortcut] and [Missing][nope] and [nope].\n"
        "[Case Insensitive][REF] [spaced\nlabel][ref] ![img][ref]\n\n"
        "[ref]: https://ref.example/a 'Title'\n[collapsed]: <https://ref.example/b>\n"
        "[shortcut]: https://ref.example/c\n   [shortcut]: https://ref.example/second\n"
        "[spaced  label]: https://ref.example/d\n"
    ),
    "links-autolink-html": (
        "Auto <https://auto.example/x> and <mailto:me@example.org> and <you@example.org>.\n\n"
        'Inline <a href="https://html.example/1">html <b>bold</b></a> and '
        "<a class='x' href='https://html.example/2' title=t>two</a> and <a name=\"anchor\">no</a>.\n\n"
        '<div class="box">\n<p>Block <a href="https://html.example/3">three</a></p>\n'
        '<ul><li><a href="https://html.example/4">four</a></li></ul>\n</div>\n\n'
        '<!-- <a href="https://comment.example">hidden</a> -->\n\n'
        "<script>var s = '<a href=\"https://script.example\">x</a>';</script>\n\n"
        '<a href="https://html.example/5"><img src="logo.png" alt="Logo"></a>\n'
    ),
    "links-lists-tables": (
        "- item [one](http://one.example)\n  - nested [two](http://two.example)\n"
        "- item\n\n  [three](http://three.example) in loose item\n\n"
        "1. ordered [four](http://four.example)\n\n"
        "| Name | Link |\n|------|------|\n| x | [five](http://five.example) |\n"
        "| `a|b` | [six](http://six.example) |\n\n"
        "```\n| [not](http://fenced.example) | row |\n```\n\n"
        "> quoted [seven](http://seven.example)\n"
    ),
    "links-liquid": (
        "{% highlight python %}\n[not](http://hl.example)\n{% endhighlight %}\n\n"
        "[site]({{ site.baseurl }}/page/) and {% comment %}[gone](http://c.example){% endcomment %}"
        " [kept](http://kept.example)\n"
    ),
}


def corpus_documents() -> dict[str, str]:
    """Every Markdown page of the corpus and the seed, by a stable name."""
    docs = {
        str(path.relative_to(SITE)): path.read_text(encoding="utf-8")
        for path in sorted(SITE.rglob("*.md"))
    }
    docs["seed/community.md"] = (SEED / "community.md").read_text(encoding="utf-8")
    return docs


def body_of(text: str) -> str:
    """The part of a Jekyll file kramdown sees."""
    return text[len(parse_page(text).front_matter_raw) :]


def have_kramdown() -> bool:
    if shutil.which("ruby") is None:
        return False
    check = 'require "kramdown"; require "kramdown-parser-gfm"'
    return subprocess.run(["ruby", "-e", check], capture_output=True).returncode == 0


def render(bodies: list[str]) -> list[list[dict[str, Any]]]:
    """Run kramdown over bodies; per body its parts split before top-level h2 headings."""
    done = subprocess.run(
        ["ruby", str(SCRIPT)],
        input=json.dumps(bodies),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


class _Anchors(HTMLParser):
    """Collect (href, text) of every <a href>, images counting as their alt text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[list[str]] = []
        self.open: list[int | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a":
            href = values.get("href")
            footnote = (values.get("class") or "") in ("footnote", "reversefootnote")
            if href is not None and not footnote:
                self.links.append([href, ""])
                self.open.append(len(self.links) - 1)
            else:
                self.open.append(None)
        elif tag == "img":
            self._text(values.get("alt") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.open:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        self._text(data)

    def _text(self, text: str) -> None:
        for index in self.open:
            if index is not None:
                self.links[index][1] += text


def links_of(html: str) -> list[list[str]]:
    parser = _Anchors()
    parser.feed(html)
    parser.close()
    return parser.links


def _without_heading(html: str) -> str:
    # a heading line is not part of any section body, so its links belong to no section
    return re.sub(r"\A\s*<h2[^>]*>.*?</h2>", "", html, count=1, flags=re.S)


def reference(bodies: dict[str, str]) -> dict[str, Any]:
    """The fixture content for some named bodies."""
    names = list(bodies)
    rendered = render([bodies[name] for name in names])
    result: dict[str, Any] = {}
    for name, parts in zip(names, rendered, strict=True):
        result[name] = {
            "sha256": hashlib.sha256(bodies[name].encode("utf-8")).hexdigest(),
            "sections": [
                {
                    "id": part["id"],
                    "base": part.get("base"),
                    "explicit": part.get("explicit", False),
                    "atx": part["atx"],
                    "links": links_of(
                        _without_heading(part["html"]) if part["atx"] else part["html"]
                    ),
                }
                for part in parts
            ],
        }
    return result


def all_bodies() -> tuple[dict[str, str], dict[str, str]]:
    corpus = {name: body_of(text) for name, text in corpus_documents().items()}
    return corpus, dict(TRICKY_CASES)


def main() -> None:
    corpus, cases = all_bodies()
    FIXTURES.mkdir(exist_ok=True)
    for filename, bodies in (("corpus.json", corpus), ("cases.json", cases)):
        path = FIXTURES / filename
        path.write_text(json.dumps(reference(bodies), indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
