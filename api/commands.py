"""CLI groups ``webhooks`` and ``links``: thin wrappers over the services, registered in api.cli."""

from __future__ import annotations

import time
from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from api.extensions import db
from api.models.base import utcnow
from api.services import linkcheck, webhooks
from api.services.content import render_settings_from


@click.group("webhooks")
def webhooks_group() -> None:
    """Send queued webhook deliveries."""


def _print_dispatch(report: webhooks.DispatchReport) -> None:
    click.echo(
        f"{report.delivered} delivered, {report.retrying} to retry later, {report.failed} failed"
    )


@webhooks_group.command("deliver")
@click.option("--watch", is_flag=True, help="Keep running, polling for due deliveries.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="Seconds between polls with --watch.",
)
@with_appcontext
def deliver_command(watch: bool, interval: float) -> None:
    """Send every due delivery until the outbox has none left (retries wait their turn)."""
    settings = webhooks.DeliverySettings.from_config(current_app.config)
    report = webhooks.deliver_pending(db.engine, settings)
    _print_dispatch(report)
    if not watch:
        return
    click.echo(f"watching for deliveries every {interval:g} s (Ctrl-C to stop)", err=True)
    try:
        while True:
            time.sleep(interval)
            report = webhooks.deliver_pending(db.engine, settings)
            if report.attempted:
                _print_dispatch(report)
    except KeyboardInterrupt:
        click.echo("stopped", err=True)


def _http_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not linkcheck.checkable(value):
        raise click.BadParameter("give an absolute http:// or https:// URL")
    return value


@click.group("links")
def links_group() -> None:
    """Check the links found in the sections."""


@links_group.command("check")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1, max=64),
    default=8,
    show_default=True,
    help="Hosts checked at the same time (each host gets one request at a time).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=120),
    default=10.0,
    show_default=True,
    help="Seconds to wait for each request (connect and answer).",
)
@click.option(
    "--per-host-delay",
    type=click.FloatRange(min=0, max=60),
    default=1.0,
    show_default=True,
    help="Seconds between two requests to the same host.",
)
@click.option("--page", "pages", multiple=True, help="Only links of this page (repeatable).")
@click.option("--host", "hosts", multiple=True, help="Only links to this host (repeatable).")
@click.option(
    "--base-url",
    callback=_http_url,
    help="Also check site-relative links (/community/, {{ site.baseurl }}/...) on this site, "
    "e.g. https://zarr.dev or a local `jekyll serve` at http://127.0.0.1:4000.",
)
@click.option("--strict", is_flag=True, help="Exit with status 1 when a link is broken.")
@with_appcontext
def check_links_command(
    concurrency: int,
    timeout: float,
    per_host_delay: float,
    pages: tuple[str, ...],
    hosts: tuple[str, ...],
    base_url: str | None,
    strict: bool,
) -> None:
    """Check each distinct http(s) URL once and record status, redirect and error per link."""
    targets, skipped = linkcheck.links_to_check(
        db.session,
        pages=pages,
        hosts=hosts,
        base_url=base_url,
        settings=render_settings_from(current_app.config),
    )
    db.session.rollback()  # no transaction stays open while the network is slow
    links = sum(len(ids) for ids in targets.values())
    click.echo(
        f"checking {len(targets)} URLs of {links} links "
        f"({skipped} site-relative or non-http links skipped)",
        err=True,
    )
    started: datetime = utcnow()
    results = linkcheck.check_urls(
        targets, concurrency=concurrency, timeout=timeout, per_host_delay=per_host_delay
    )
    updated = linkcheck.store_results(db.session, targets, results, now=started)
    db.session.commit()
    for result in sorted(results, key=lambda r: r.url):
        if result.broken:
            why = result.error or f"HTTP {result.status}"
            click.echo(f"BROKEN   {result.url}  ({why})")
        elif result.redirect_to:
            click.echo(f"REDIRECT {result.url} -> {result.redirect_to}  (HTTP {result.status})")
    broken = sum(result.broken for result in results)
    click.echo(
        f"{len(results)} URLs checked: {len(results) - broken} ok, {broken} broken; "
        f"{updated} links updated"
    )
    if strict and broken:
        raise SystemExit(1)
