"""Seeding from Markdown: idempotent, revisioned, and careful with API edits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from api.extensions import db
from api.models import Link, Page, Section, SectionRevision
from tests.paths import PROJECT
from tests.paths import SITE as CORPUS


def seed(runner: FlaskCliRunner, *args: str | Path) -> str:
    result = runner.invoke(args=["seed", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result.output


def versions(app: Flask) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(select(Section.slug, Section.version)).all()
        pages = db.session.execute(select(Page.slug, Page.version)).all()
    return {**{f"s:{slug}": v for slug, v in rows}, **{f"p:{slug}": v for slug, v in pages}}


def copy_seed(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    shutil.copy(PROJECT / "seed" / "community.md", folder / "community.md")
    return folder


def test_first_seed_reports_what_it_created(app: Flask, runner: FlaskCliRunner) -> None:
    output = seed(runner)
    assert "community.md -> page community: created" in output
    assert "NOTICE.md: skipped (no front matter)" in output
    assert "pages: 1 created" in output
    assert "sections: 3 created" in output
    assert "links: 15 created" in output


def test_second_seed_changes_nothing(app: Flask, runner: FlaskCliRunner) -> None:
    seed(runner)
    before = versions(app)
    output = seed(runner)
    assert "community.md -> page community: unchanged" in output
    assert "pages: 0 created, 0 updated, 1 unchanged" in output
    assert "sections: 0 created, 0 updated, 3 unchanged" in output
    assert versions(app) == before
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SectionRevision)) == 3


def test_changed_file_updates_its_section_as_a_revision(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    folder = copy_seed(tmp_path)
    seed(runner, folder)
    source = folder / "community.md"
    source.write_text(
        source.read_text().replace(
            "meeting notes, joining", "meeting notes, [minutes](https://m.example), joining"
        )
    )
    output = seed(runner, folder)
    assert "section community-meetings: updated" in output
    assert "sections: 0 created, 1 updated, 2 unchanged" in output
    with app.app_context():
        section = db.session.scalars(
            select(Section).where(Section.slug == "community-meetings")
        ).one()
        assert section.version == 2
        assert "[minutes](https://m.example)" in section.body
        assert [link.url for link in section.links] == [
            "https://m.example",
            "https://zarr.dev/community-calls",
        ]
        revisions = db.session.scalars(
            select(SectionRevision)
            .where(SectionRevision.section_id == section.id)
            .order_by(SectionRevision.number)
        ).all()
        assert [(r.number, r.created_by) for r in revisions] == [(1, "seed"), (2, "seed")]
        assert "minutes" not in revisions[0].data["body"]


def test_api_edit_is_a_conflict_unless_forced(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    folder = copy_seed(tmp_path)
    seed(runner, folder)
    with app.app_context():
        section = db.session.scalars(
            select(Section).where(Section.slug == "community-meetings")
        ).one()
        section.body = "Edited by a community manager."
        db.session.commit()
    source = folder / "community.md"
    source.write_text(source.read_text().replace("agenda and calendar", "agenda, calendar"))
    output = seed(runner, folder)
    assert "section community-meetings: conflict" in output
    assert "1 conflicts" in output
    with app.app_context():
        body = db.session.scalars(
            select(Section.body).where(Section.slug == "community-meetings")
        ).one()
        assert body == "Edited by a community manager."
    seed(runner, folder, "--force")
    with app.app_context():
        body = db.session.scalars(
            select(Section.body).where(Section.slug == "community-meetings")
        ).one()
        assert "agenda, calendar" in body


def test_dry_run_writes_nothing(app: Flask, runner: FlaskCliRunner) -> None:
    output = seed(runner, "--dry-run")
    assert "would be created" in output
    assert "dry run, nothing written" in output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Page)) == 0


def test_removed_heading_moves_its_section_to_the_trash(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    folder = copy_seed(tmp_path)
    seed(runner, folder)
    source = folder / "community.md"
    text = source.read_text()
    source.write_text(text[: text.index("## Join the community")])
    output = seed(runner, folder)
    assert "section join-the-community: moved to the trash" in output
    with app.app_context():
        section = db.session.scalars(
            select(Section).where(Section.slug == "join-the-community")
        ).one()
        assert section.deleted_at is not None
    source.write_text(text)
    seed(runner, folder)
    with app.app_context():
        section = db.session.scalars(
            select(Section).where(Section.slug == "join-the-community")
        ).one()
        assert section.deleted_at is None
        assert section.position == 2


def test_every_corpus_page_imports(app: Flask, runner: FlaskCliRunner) -> None:
    output = seed(runner, CORPUS)
    pages = sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*.md"))
    pages.remove("NOTICE.md")
    for relative in pages:
        assert f"{relative} -> page " in output
    with app.app_context():
        slugs = set(db.session.scalars(select(Page.slug)))
        assert {
            "adopters",
            "conventions",
            "datasets",
            "implementations",
            "office-hours",
            "index",
            "2019-05-02-zarr-2-3-release",
        } <= slugs
        assert db.session.scalar(select(func.count()).select_from(Link)) > 50
    second = seed(runner, CORPUS)
    assert f"0 created, 0 updated, {len(pages)} unchanged" in second


def test_missing_path_is_a_clear_error(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["seed", "/no/such/folder"])
    assert result.exit_code != 0
    assert "no such file or folder" in result.output


def test_long_headings_get_a_slug_that_fits_and_export_unchanged(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    heading = "Word " * 60  # a 300-character id
    text = f"---\ntitle: Long\n---\nIntro.\n\n## {heading}\n\nOne.\n\n## {heading}\n\nTwo.\n"
    (tmp_path / "long.md").write_text(text)
    seed(runner, tmp_path)
    with app.app_context():
        slugs = db.session.scalars(
            select(Section.slug).where(Section.title.is_not(None)).order_by(Section.position)
        ).all()
    first = ("word-" * 60)[:200]
    assert slugs == [first, first[:198] + "-1"]
    export = runner.invoke(args=["export", str(tmp_path / "out")])
    assert export.exit_code == 0, export.output
    assert (tmp_path / "out" / "long.md").read_text() == text


@pytest.mark.parametrize(
    "front_matter, body, what",
    [
        ("title: " + "T" * 501, "", "the title"),
        ("title: x\npermalink: /" + "p" * 500, "", "the permalink"),
        ("title: x", "## " + "H" * 501 + "\n", "the heading"),
    ],
)
def test_values_too_long_for_the_database_are_a_clear_error(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, front_matter: str, body: str, what: str
) -> None:
    (tmp_path / "ok.md").write_text("---\ntitle: Fine\n---\nFine.\n")
    (tmp_path / "z-long.md").write_text(f"---\n{front_matter}\n---\n{body}")
    result = runner.invoke(args=["seed", str(tmp_path)])
    assert result.exit_code != 0
    assert f"z-long.md: too long: {what}" in result.output
    assert "Traceback" not in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Page)) == 0  # all or nothing
