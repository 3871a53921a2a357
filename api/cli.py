"""Command-line interface: thin wrappers over the services.

Available as ``flask --app wsgi COMMAND`` and as the ``zarr-content`` console script.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from api.commands import links_group, webhooks_group
from api.config import ConfigError
from api.errors import ApiError
from api.extensions import db
from api.models.base import utcnow
from api.models.token import ROLES
from api.services import tokens
from api.services.content import render_settings_from
from api.services.exporting import ExportError, export_pages
from api.services.seed import SeedError, SeedReport, Tally, seed_paths


def app_or_exit() -> Flask:
    """Build the app, or stop with a one-line message naming the wrong setting."""
    from api import create_app

    try:
        return create_app()
    except ConfigError as error:
        click.echo(f"error: {error}", err=True)
        raise SystemExit(2) from None


def _tally_line(name: str, tally: Tally) -> str:
    parts = [f"{tally.created} created", f"{tally.updated} updated", f"{tally.unchanged} unchanged"]
    if tally.deleted:
        parts.append(
            f"{tally.deleted} trashed" if name == "sections" else f"{tally.deleted} removed"
        )
    if tally.conflicts:
        parts.append(f"{tally.conflicts} conflicts")
    return f"{name}: " + ", ".join(parts)


def print_seed_report(report: SeedReport, *, dry_run: bool) -> None:
    for file in report.files:
        if file.outcome == "skipped":
            click.echo(f"{file.path}: skipped ({'; '.join(file.changes)})")
            continue
        verb = (
            f"would be {file.outcome}" if dry_run and file.outcome != "unchanged" else file.outcome
        )
        click.echo(f"{file.path} -> page {file.page}: {verb}")
        for change in file.changes:
            click.echo(f"  {change}")
    prefix = "dry run, nothing written. " if dry_run else ""
    click.echo(
        prefix
        + "; ".join(
            _tally_line(name, tally)
            for name, tally in (
                ("pages", report.pages),
                ("sections", report.sections),
                ("links", report.links),
            )
        )
    )


@click.command("seed")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite sections edited through the API.")
@click.option("--dry-run", is_flag=True, help="Print what would change and write nothing.")
@with_appcontext
def seed_command(paths: tuple[Path, ...], force: bool, dry_run: bool) -> None:
    """Import Jekyll Markdown files or folders (default: the seed/ folder)."""
    targets = list(paths) or [Path(current_app.config["SEED_PATH"])]
    try:
        report = seed_paths(
            db.session,
            targets,
            settings=render_settings_from(current_app.config),
            now=utcnow(),
            force=force,
        )
    except SeedError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    print_seed_report(report, dry_run=dry_run)
    if any(tally.conflicts for tally in (report.sections,)):
        click.echo("conflicts were left alone; re-run with --force to overwrite them", err=True)


@click.group("tokens")
def tokens_group() -> None:
    """Create, list and revoke API tokens."""


@tokens_group.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="editor", show_default=True)
@with_appcontext
def create_token_command(name: str, role: str) -> None:
    """Make a token and print its secret (shown only this once)."""
    try:
        token, secret = tokens.create_token(db.session, name, role, now=utcnow())
    except ApiError as error:
        db.session.rollback()
        raise click.ClickException(error.detail) from None
    db.session.commit()
    click.echo(f"created token {token.name!r} with role {token.role}.")
    click.echo("Its secret is shown only now; store it safely:", err=True)
    click.echo(secret)


@tokens_group.command("list")
@with_appcontext
def list_tokens_command() -> None:
    """List tokens (never their secrets)."""
    rows = tokens.list_tokens(db.session)
    if not rows:
        click.echo("no tokens")
    for token in rows:
        state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "active"
        click.echo(
            f"{token.name}\t{token.role}\t{state}\tcreated {token.created_at:%Y-%m-%d %H:%M}"
        )


@tokens_group.command("revoke")
@click.argument("name")
@with_appcontext
def revoke_token_command(name: str) -> None:
    """Revoke a token; requests with it are refused from now on."""
    try:
        tokens.revoke_token(db.session, name, now=utcnow())
    except ApiError as error:
        db.session.rollback()
        raise click.ClickException(error.detail) from None
    db.session.commit()
    click.echo(f"revoked token {name!r}")


@click.command("export")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@with_appcontext
def export_command(folder: Path) -> None:
    """Write every page back as a Jekyll Markdown file under FOLDER."""
    try:
        report = export_pages(db.session, folder)
    except ExportError as error:
        raise click.ClickException(str(error)) from None
    for path in report.written:
        click.echo(f"{path}: written")
    click.echo(f"{len(report.written)} written, {len(report.unchanged)} unchanged")


def register_commands(app: Flask) -> None:
    app.cli.add_command(seed_command)
    app.cli.add_command(export_command)
    app.cli.add_command(tokens_group)
    app.cli.add_command(webhooks_group)
    app.cli.add_command(links_group)


@click.group(cls=FlaskGroup, create_app=app_or_exit)
def main() -> None:
    """Manage the Zarr community content API."""


if __name__ == "__main__":
    sys.exit(main())
