"""Generate a Jekyll site of a given size: the real community page plus generated pages.

The pages look like the ones zarr.dev has: release posts under ``_posts/`` (slugs start with a
date, so they sort before ``community``) and meeting notes (slugs sort after it), so the
community page sits in the middle of every ordered list, not conveniently at its start. Each
section has a few paragraphs or a list and about four links of the kinds the importer finds:
inline, reference-style, autolinks and raw ``<a href>``. Output is deterministic per size.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMUNITY = ROOT / "seed" / "community.md"
SECTIONS_PER_PAGE = 20  # the intro plus 19 headings
SEARCH_WORD = "gitter"  # in the community page and in about 2% of generated sections

WORDS = (
    "array chunk shard codec compression store group metadata attribute dimension dtype "
    "fill value consolidated hierarchy specification implementation extension storage "
    "transformer cloud object bucket filesystem parallel read write latency throughput "
    "benchmark convention community release maintainer contributor meeting proposal "
    "python javascript rust julia java netcdf hdf5 xarray dask napari ome microscopy "
    "climate geospatial genomics tensor sparse blosc zstd gzip crc32c endianness"
).split()
TOPICS = (
    "Sharding",
    "Codecs",
    "Consolidated metadata",
    "Storage transformers",
    "Variable chunking",
    "Async stores",
    "Object storage",
    "Data types",
    "Fill values",
    "Attributes",
    "Hierarchies",
    "Compression",
    "Performance",
    "Governance",
    "Roadmap",
    "Testing",
    "Documentation",
    "Interoperability",
    "Tutorials",
)
HOSTS = (
    "https://github.com/zarr-developers/zarr-python/issues/",
    "https://github.com/zarr-developers/zarr-specs/pull/",
    "https://zarr.readthedocs.io/en/stable/api/",
    "https://zarr-specs.readthedocs.io/en/latest/v3/",
    "https://numcodecs.readthedocs.io/en/stable/",
    "https://discourse.pangeo.io/t/",
)


@dataclass(frozen=True)
class Dataset:
    """Where the files are and what they hold."""

    folder: Path
    sections: int
    pages: int
    community_sections: int


def _sentence(rng: random.Random, *, mention: bool = False) -> str:
    words = rng.sample(WORDS, rng.randint(8, 16))
    if mention:
        words.insert(rng.randrange(len(words)), SEARCH_WORD)
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


def _link_url(rng: random.Random) -> str:
    return f"{rng.choice(HOSTS)}{rng.randint(1, 3000)}"


def _section_body(rng: random.Random, key: str) -> str:
    """About 600-1,200 characters of Markdown with about four links."""
    mention = rng.random() < 0.02
    inline = f"[{rng.choice(WORDS)} notes]({_link_url(rng)})"
    reference = f"[the {rng.choice(WORDS)} discussion][{key}]"
    autolink = f"<{_link_url(rng)}>"
    raw = f'<a href="{_link_url(rng)}">{rng.choice(WORDS)}</a>'
    first = f"{_sentence(rng, mention=mention)} See {inline}. {_sentence(rng)}"
    if rng.random() < 0.5:
        middle = "\n".join(
            [
                f"- {_sentence(rng)} Follow {reference}.",
                f"- {_sentence(rng)} `zarr.open({rng.choice(WORDS)!r})`",
                f"- {_sentence(rng)} Also {raw}.",
            ]
        )
    else:
        middle = f"{_sentence(rng)} Follow {reference}. {_sentence(rng)} Also {raw}."
    last = f"{_sentence(rng)} Details: {autolink}"
    definition = f"[{key}]: {_link_url(rng)}"
    return f"{first}\n\n{middle}\n\n{last}\n\n{definition}\n"


def _page_text(rng: random.Random, title: str, permalink: str, sections: int) -> str:
    """A Jekyll page with front matter, an intro and ``sections - 1`` headed sections."""
    parts = [
        f"---\nlayout: single\ntitle: {title}\npermalink: {permalink}\n---\n",
        _section_body(rng, "intro-ref"),
    ]
    for number in range(1, sections):
        heading = f"{rng.choice(TOPICS)} {number}"
        parts.append(f"## {heading}\n\n{_section_body(rng, f'ref-{number}')}")
    return "\n".join(parts)


def community_sections() -> int:
    """Sections of the real community page: its intro plus one per heading."""
    lines = COMMUNITY.read_text(encoding="utf-8").splitlines()
    return 1 + sum(1 for line in lines if line.startswith("## "))


def generate(folder: Path, sections: int) -> Dataset:
    """Write a site of exactly ``sections`` sections (at least the community page's) to folder."""
    base = community_sections()
    if sections < base:
        raise ValueError(f"at least {base} sections: the community page has that many")
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(COMMUNITY, folder / "community.md")
    rng = random.Random(sections)
    remaining = sections - base
    pages = 1
    while remaining > 0:
        size = min(SECTIONS_PER_PAGE, remaining)
        number = pages
        if number % 2:
            year, month, day = 2019 + number % 6, 1 + number % 12, 1 + number % 28
            name = f"zarr-release-notes-{number}"
            path = folder / "_posts" / f"{year}-{month:02d}-{day:02d}-{name}.md"
            title, permalink = f"Release notes {number}", f"/blog/{name}/"
        else:
            path = folder / "meetings" / f"meeting-notes-{number:05d}.md"
            title, permalink = f"Meeting notes {number}", f"/meetings/{number}/"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_page_text(rng, title, permalink, size), encoding="utf-8")
        remaining -= size
        pages += 1
    return Dataset(folder=folder, sections=sections, pages=pages, community_sections=base)
