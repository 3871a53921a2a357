"""Queries behind the read API: visibility rules, filters and keyset pagination."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import (
    Double,
    Float,
    Integer,
    Select,
    cast,
    func,
    literal_column,
    select,
    text,
    tuple_,
)
from sqlalchemy.orm import Session, contains_eager, selectinload

from api.database import MAX_INTEGER
from api.errors import NotFound, Unprocessable
from api.models import Link, Page, Section
from api.services.pagination import decode_cursor, encode_cursor

T = TypeVar("T")
MAX_SEARCH_TERMS = 16


@dataclass(frozen=True)
class Viewer:
    """Who is reading: anonymous readers see published, live content only."""

    can_preview: bool = False  # token holders see drafts

    @classmethod
    def anonymous(cls) -> Viewer:
        return cls(can_preview=False)


@dataclass(frozen=True)
class PageOfResults(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _visible_pages(query: Select, viewer: Viewer) -> Select:
    if viewer.can_preview:
        return query
    return query.where(Page.status == "published")


def _visible_sections(query: Select, viewer: Viewer) -> Select:
    query = query.where(Section.deleted_at.is_(None))
    if viewer.can_preview:
        return query
    return query.where(Section.status == "published", Page.status == "published")


def get_page(session: Session, slug: str, viewer: Viewer) -> Page:
    """One page with its visible sections and their links.

    :raise NotFound: when no such page is visible to the viewer.
    """
    page = session.scalars(_visible_pages(select(Page).where(Page.slug == slug), viewer)).first()
    if page is None:
        raise NotFound(f"There is no page with slug {slug!r}.")
    return page


def visible_sections_of(session: Session, page: Page, viewer: Viewer) -> list[Section]:
    """The page's sections a viewer may see, in order, with links loaded in one query."""
    query = (
        select(Section)
        .join(Section.page)
        .options(contains_eager(Section.page), selectinload(Section.links))
        .where(Section.page_id == page.id)
        .order_by(Section.position, Section.id)
    )
    return list(session.scalars(_visible_sections(query, viewer)))


def list_pages(
    session: Session, viewer: Viewer, *, limit: int, cursor: str | None
) -> PageOfResults[Page]:
    """Pages ordered by slug."""
    query = _visible_pages(select(Page), viewer).order_by(Page.slug)
    if cursor:
        after = decode_cursor(cursor, {"slug": str})["slug"]
        query = query.where(Page.slug > after)
    rows = list(session.scalars(query.limit(limit + 1)))
    next_cursor = encode_cursor({"slug": rows[limit - 1].slug}) if len(rows) > limit else None
    return PageOfResults(rows[:limit], next_cursor)


def get_section(
    session: Session, section_id: int, viewer: Viewer, *, include_trashed: bool = False
) -> Section:
    """One visible section (``include_trashed`` lets token holders see the trash).

    :raise NotFound: when it does not exist, is in the trash or is hidden from the viewer.
    """
    if not 0 < section_id <= MAX_INTEGER:  # ids come from clients; the database cannot bind these
        raise NotFound(f"There is no section with id {section_id}.")
    query = (
        select(Section)
        .join(Section.page)
        .options(contains_eager(Section.page), selectinload(Section.links))
        .where(Section.id == section_id)
    )
    if include_trashed and viewer.can_preview:
        section = session.scalars(query).first()
    else:
        section = session.scalars(_visible_sections(query, viewer)).first()
    if section is None:
        raise NotFound(f"There is no section with id {section_id}.")
    return section


def _section_key(session: Session, cursor: str) -> tuple[str, int, int]:
    """Where the previous answer stopped, following the last section if it has moved since."""
    values = decode_cursor(cursor, {"page": str, "position": int, "id": int})
    current = session.execute(
        select(Page.slug, Section.position)
        .join(Section.page)
        .where(Section.id == values["id"], Section.deleted_at.is_(None))
    ).first()
    if current is not None:
        return current.slug, current.position, values["id"]
    return values["page"], values["position"], values["id"]


def list_sections(
    session: Session,
    viewer: Viewer,
    *,
    page: str | None,
    q: str | None,
    limit: int,
    cursor: str | None,
) -> PageOfResults[Section]:
    """Sections ordered by page, then position; with ``q``, best matches first."""
    query = (
        select(Section)
        .join(Section.page)
        .options(contains_eager(Section.page), selectinload(Section.links))
    )
    query = _visible_sections(query, viewer)
    if page is not None:
        query = query.where(Page.slug == page)
    if q is not None:
        return _search(session, query, q, limit=limit, cursor=cursor)
    query = query.order_by(Page.slug, Section.position, Section.id)
    if cursor:
        key = _section_key(session, cursor)
        query = query.where(tuple_(Page.slug, Section.position, Section.id) > key)
    rows = list(session.scalars(query.limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(
            {"page": last.page.slug, "position": last.position, "id": last.id}
        )
    return PageOfResults(rows[:limit], next_cursor)


def search_terms(q: str) -> list[str]:
    """The words of a query; punctuation and operators are never passed to the index."""
    return re.findall(r"\w+", q.lower())[:MAX_SEARCH_TERMS]


def _search(
    session: Session, query: Select, q: str, *, limit: int, cursor: str | None
) -> PageOfResults[Section]:
    """Rank sections with the database's full-text index: FTS5 on SQLite, tsvector on PostgreSQL.

    Every word must match, the last one also as a prefix; title matches weigh more than body
    matches. Results are ordered by score (lower is better), ties by id.
    """
    terms = search_terms(q)
    if not terms:
        return PageOfResults([], None)
    if session.get_bind().dialect.name == "postgresql":
        expression = " & ".join(
            f"{term}:*" if n == len(terms) - 1 else term for n, term in enumerate(terms)
        )
        tsquery = func.to_tsquery(literal_column("'english'::regconfig"), expression)
        vector = literal_column("sections.search_vector")
        # float8, because a float4 rank read back as text is rounded and breaks the cursor.
        score = cast(-func.ts_rank(vector, tsquery), Double)
        query = query.add_columns(score.label("score")).where(vector.op("@@")(tsquery))
    else:
        match = " ".join(
            f'"{term}"*' if n == len(terms) - 1 else f'"{term}"' for n, term in enumerate(terms)
        )
        fts = (
            text(
                "SELECT rowid AS id, bm25(sections_fts, 5.0, 1.0) AS score "
                "FROM sections_fts WHERE sections_fts MATCH :match"
            )
            .bindparams(match=match)
            .columns(id=Integer, score=Float)
            .subquery("fts")
        )
        score = fts.c.score
        query = query.add_columns(score.label("score")).join(fts, fts.c.id == Section.id)
    query = query.order_by(score, Section.id)
    if cursor:
        values = decode_cursor(cursor, {"q": str, "score": float, "id": int})
        if values["q"] != q:
            raise Unprocessable(
                "The cursor belongs to another search.", errors={"cursor": ["Not for this q."]}
            )
        query = query.where(tuple_(score, Section.id) > (values["score"], values["id"]))
    rows = session.execute(query.limit(limit + 1)).all()
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor({"q": q, "score": float(last.score), "id": last[0].id})
    return PageOfResults([row[0] for row in rows[:limit]], next_cursor)


def list_links(
    session: Session,
    viewer: Viewer,
    *,
    page: str | None,
    host: str | None,
    limit: int,
    cursor: str | None,
    broken: bool | None = None,
) -> PageOfResults[Link]:
    """Links of visible sections, ordered by page, section position and link position.

    ``broken`` keeps only links whose last check failed (True) or passed (False).
    """
    query = (
        select(Link)
        .join(Link.section)
        .join(Section.page)
        .options(contains_eager(Link.section).contains_eager(Section.page))
        .order_by(Page.slug, Section.position, Section.id, Link.position)
    )
    query = _visible_sections(query, viewer)
    if page is not None:
        query = query.where(Page.slug == page)
    if host is not None:
        query = query.where(Link.host == host.lower())
    if broken is not None:
        from api.services.linkcheck import broken_condition, ok_condition

        query = query.where(broken_condition() if broken else ok_condition())
    if cursor:
        values = decode_cursor(cursor, {"page": str, "position": int, "section": int, "link": int})
        key = (values["page"], values["position"], values["section"], values["link"])
        query = query.where(tuple_(Page.slug, Section.position, Section.id, Link.position) > key)
    rows = list(session.scalars(query.limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(
            {
                "page": last.section.page.slug,
                "position": last.section.position,
                "section": last.section.id,
                "link": last.position,
            }
        )
    return PageOfResults(rows[:limit], next_cursor)
