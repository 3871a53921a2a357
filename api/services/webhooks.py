"""Webhooks: endpoints, the outbox of events, and sending them signed (Standard Webhooks).

An editing service calls ``record_event`` inside the transaction of its change: the event and
one delivery per subscribed endpoint are rows in that transaction, so a rolled-back change sends
nothing and a committed one is never lost. Sending happens after commit (``deliver_pending``,
run by the dispatcher thread, inline, or the ``webhooks deliver`` command), never inside it.

Every delivery is a POST of ``{"type", "timestamp", "data"}`` with the headers ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256>`` over
``"{id}.{timestamp}.{body}"``, keyed with the base64-decoded part of the ``whsec_`` secret.
A 2xx answer delivers it; anything else is retried after ``BACKOFF`` until the last attempt;
410 Gone disables the endpoint. Redirects are not followed (a 3xx is a failure).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, selectinload

from api.errors import NotFound, Unprocessable
from api.models import Page, Section, Webhook, WebhookDelivery, WebhookEvent
from api.models.base import utcnow
from api.services.pagination import decode_cursor, encode_cursor
from api.services.reading import PageOfResults

EVENT_TYPES: tuple[str, ...] = (
    "section.created",
    "section.updated",
    "section.deleted",
    "section.restored",
    "page.created",
    "page.updated",
    "page.published",
)
ALL_EVENTS = "*"
SECRET_PREFIX = "whsec_"
# Waits after the 1st, 2nd, ... failed attempt; the last one repeats if attempts allow more.
BACKOFF: tuple[timedelta, ...] = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
    timedelta(hours=6),
)
MAX_RETRY_AFTER = timedelta(days=1)
# Session.info key: this transaction recorded events, so nudge the dispatcher after commit.
PENDING_KEY = "webhook_events_recorded"
USER_AGENT = "zarr-content-api-webhooks/0.1"


# --- secrets and signatures -----------------------------------------------------------------


def new_secret() -> str:
    """A signing secret: ``whsec_`` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret: its base64 part, decoded."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,`` and the base64 HMAC-SHA256 of id.timestamp.body."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


# --- endpoints ------------------------------------------------------------------------------


def _field_error(field: str, message: str) -> Unprocessable:
    return Unprocessable(message, errors={field: [message]})


def check_url(url: str) -> str:
    """An absolute http(s) URL with a host.

    :raise Unprocessable: otherwise.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme not in {"http", "https"} or not host:
        raise _field_error("url", "Give an absolute http:// or https:// URL.")
    if any(ch.isspace() for ch in url):
        raise _field_error("url", "The URL cannot contain spaces.")
    return url


def check_events(events: Sequence[str]) -> list[str]:
    """Known event types without repeats, or just ``["*"]``.

    :raise Unprocessable: for an empty list, an unknown type, or ``*`` mixed with types.
    """
    if not events:
        raise _field_error("events", "Name at least one event type, or '*' for all.")
    unknown = [event for event in events if event not in EVENT_TYPES and event != ALL_EVENTS]
    if unknown:
        raise _field_error(
            "events", f"Unknown event type {unknown[0]!r}; use {', '.join(EVENT_TYPES)} or '*'."
        )
    if ALL_EVENTS in events and len(set(events)) > 1:
        raise _field_error("events", "'*' already means every event; give it alone.")
    return list(dict.fromkeys(events))


def create_webhook(
    session: Session,
    *,
    url: str,
    events: Sequence[str],
    description: str = "",
    by: str,
    now: datetime,
) -> tuple[Webhook, str]:
    """Register an endpoint; returns it with its secret (shown to the admin only this once).

    :raise Unprocessable: for a bad URL or event list.
    """
    secret = new_secret()
    webhook = Webhook(
        url=check_url(url),
        events=check_events(events),
        description=description.strip(),
        secret=secret,
        created_by=by,
        created_at=now,
    )
    session.add(webhook)
    session.flush()
    return webhook, secret


def get_webhook(session: Session, webhook_id: int) -> Webhook:
    """One endpoint.

    :raise NotFound: when there is no such webhook.
    """
    webhook = session.get(Webhook, webhook_id)
    if webhook is None:
        raise NotFound(f"There is no webhook with id {webhook_id}.")
    return webhook


def list_webhooks(session: Session, *, limit: int, cursor: str | None) -> PageOfResults[Webhook]:
    """Endpoints, oldest first."""
    query = select(Webhook).order_by(Webhook.id)
    if cursor:
        query = query.where(Webhook.id > decode_cursor(cursor, {"id": int})["id"])
    rows = list(session.scalars(query.limit(limit + 1)))
    next_cursor = encode_cursor({"id": rows[limit - 1].id}) if len(rows) > limit else None
    return PageOfResults(rows[:limit], next_cursor)


def delete_webhook(session: Session, webhook: Webhook) -> None:
    """Remove an endpoint with its delivery log; nothing more is sent to it."""
    session.delete(webhook)
    session.flush()


def list_deliveries(
    session: Session,
    webhook: Webhook,
    *,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> PageOfResults[WebhookDelivery]:
    """The endpoint's deliveries, newest first."""
    query = (
        select(WebhookDelivery)
        .options(selectinload(WebhookDelivery.event))
        .where(WebhookDelivery.webhook_id == webhook.id)
        .order_by(WebhookDelivery.id.desc())
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if cursor:
        query = query.where(WebhookDelivery.id < decode_cursor(cursor, {"id": int})["id"])
    rows = list(session.scalars(query.limit(limit + 1)))
    next_cursor = encode_cursor({"id": rows[limit - 1].id}) if len(rows) > limit else None
    return PageOfResults(rows[:limit], next_cursor)


# --- the outbox -----------------------------------------------------------------------------


def section_payload(section: Section) -> dict[str, Any]:
    """The section as ``GET /sections/<id>`` serves it (state after the change is flushed)."""
    from api.schemas.section import SectionSchema

    return SectionSchema().dump(section)


def page_payload(page: Page) -> dict[str, Any]:
    """The page as ``GET /pages`` lists it (without its sections)."""
    from api.schemas.page import PageSummarySchema

    return PageSummarySchema().dump(page)


def record_event(
    session: Session,
    event_type: str,
    payload: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
    now: datetime,
) -> WebhookEvent | None:
    """Queue an event for every endpoint subscribed to it, in the caller's transaction.

    Nothing is written when no endpoint wants the event, and a ``payload`` given as a
    function is not even made then (serializing a section is a fifth of the cost of seeding
    it, and every write made one).
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    with session.no_autoflush:
        webhooks = [
            webhook
            for webhook in session.scalars(
                select(Webhook).where(Webhook.disabled_at.is_(None)).order_by(Webhook.id)
            )
            if webhook.wants(event_type)
        ]
    if not webhooks:
        return None
    if callable(payload):
        payload = payload()
    event = WebhookEvent(
        public_id=f"msg_{uuid.uuid4().hex}",
        type=event_type,
        data=json.loads(json.dumps(payload, default=str)),
        occurred_at=now,
    )
    session.add(event)
    for webhook in webhooks:
        session.add(
            WebhookDelivery(
                webhook=webhook,
                event=event,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    session.info[PENDING_KEY] = True
    return event


# --- sending --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliverySettings:
    timeout: float = 5.0
    max_attempts: int = 6
    user_agent: str = USER_AGENT
    batch_size: int = 20

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DeliverySettings:
        return cls(
            timeout=float(config.get("WEBHOOK_TIMEOUT", 5)),
            max_attempts=int(config.get("WEBHOOK_MAX_ATTEMPTS", 6)),
        )


@dataclass
class DispatchReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.failed

    def add(self, other: DispatchReport) -> None:
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.failed += other.failed


@dataclass(frozen=True)
class Claimed:
    """A delivery taken by this worker, with everything needed to send it."""

    id: int
    attempts: int
    webhook_id: int
    url: str
    secret: str
    message_id: str
    body: bytes


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    retry_after: timedelta | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def event_body(event: WebhookEvent) -> bytes:
    """The JSON body of an event, minified; the exact bytes that are signed."""
    document = {
        "type": event.type,
        "timestamp": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "data": event.data,
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def claim_due(engine: Engine, *, now: datetime, lease: timedelta, limit: int) -> list[Claimed]:
    """Take up to ``limit`` due deliveries for this worker; each attempt is counted now.

    The claim moves ``next_attempt_at`` to the end of a lease, so other workers skip these
    rows until then (and take them over if this worker dies). On PostgreSQL the candidate rows
    are locked with ``FOR UPDATE SKIP LOCKED`` so concurrent workers never wait on each other
    or claim the same row; SQLite has a single writer, so the one UPDATE is atomic there.
    """
    due = (
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    if engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    with Session(engine) as session, session.begin():
        ids = list(
            session.scalars(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(due.scalar_subquery()))
                .values(next_attempt_at=now + lease, attempts=WebhookDelivery.attempts + 1)
                .returning(WebhookDelivery.id)
                .execution_options(synchronize_session=False)
            )
        )
        if not ids:
            return []
        rows = session.scalars(
            select(WebhookDelivery)
            .options(selectinload(WebhookDelivery.event), selectinload(WebhookDelivery.webhook))
            .where(WebhookDelivery.id.in_(ids))
            .order_by(WebhookDelivery.id)
        )
        return [
            Claimed(
                id=row.id,
                attempts=row.attempts,
                webhook_id=row.webhook_id,
                url=row.webhook.url,
                secret=row.webhook.secret,
                message_id=row.event.public_id,
                body=event_body(row.event),
            )
            for row in rows
        ]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx surfaces as an HTTPError: the endpoint should be updated instead


_opener = urllib.request.build_opener(_NoRedirects)


def _retry_after(value: str | None, now: datetime) -> timedelta | None:
    if not value:
        return None
    try:
        return timedelta(seconds=max(0, int(value)))
    except ValueError:
        pass
    try:
        return max(timedelta(0), parsedate_to_datetime(value) - now)
    except (TypeError, ValueError):
        return None


def send(claim: Claimed, settings: DeliverySettings, now: datetime) -> Outcome:
    """POST one signed delivery; never raises for network or HTTP failures."""
    timestamp = int(now.timestamp())
    request = urllib.request.Request(
        claim.url,
        data=claim.body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": settings.user_agent,
            "webhook-id": claim.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(claim.secret, claim.message_id, timestamp, claim.body),
        },
    )
    try:
        with _opener.open(request, timeout=settings.timeout) as response:
            response.read(65536)
            return Outcome(response.status, None)
    except urllib.error.HTTPError as error:
        with error:
            retry_after = _retry_after(error.headers.get("Retry-After"), now)
        reason = f"the endpoint answered {error.code} {error.reason}".strip()
        return Outcome(error.code, reason, retry_after)
    except TimeoutError:
        return Outcome(None, f"no answer within {settings.timeout:g} s")
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, TimeoutError):
            return Outcome(None, f"no answer within {settings.timeout:g} s")
        return Outcome(None, f"could not connect: {reason}")
    except (OSError, ValueError) as error:
        return Outcome(None, f"could not send: {error}")


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt."""
    return BACKOFF[min(attempts, len(BACKOFF)) - 1]


def record_outcome(
    engine: Engine, claim: Claimed, outcome: Outcome, settings: DeliverySettings, now: datetime
) -> str:
    """Store the result of an attempt; returns the delivery's new status.

    The update only applies while the claim still holds (same attempt count, still pending),
    so a worker whose lease ran out cannot overwrite the result of the one that took over.
    """
    values: dict[str, Any] = {
        "last_attempt_at": now,
        "last_response_code": outcome.status_code,
        "last_error": outcome.error,
    }
    gone = outcome.status_code == 410
    if outcome.ok:
        values.update(status="delivered", delivered_at=now, next_attempt_at=None)
    elif gone or claim.attempts >= settings.max_attempts:
        values.update(status="failed", next_attempt_at=None)
    else:
        wait = backoff(claim.attempts)
        if outcome.retry_after is not None:
            wait = max(wait, min(outcome.retry_after, MAX_RETRY_AFTER))
        values.update(status="pending", next_attempt_at=now + wait)
    with Session(engine) as session, session.begin():
        session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == claim.id,
                WebhookDelivery.attempts == claim.attempts,
                WebhookDelivery.status == "pending",
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if gone:
            disable_webhook(session, claim.webhook_id, "The endpoint answered 410 Gone.", now)
    return str(values["status"])


def disable_webhook(session: Session, webhook_id: int, reason: str, now: datetime) -> None:
    """Stop sending to an endpoint: it is marked disabled and its queue is failed."""
    session.execute(
        update(Webhook)
        .where(Webhook.id == webhook_id, Webhook.disabled_at.is_(None))
        .values(disabled_at=now, disabled_reason=reason)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.status == "pending")
        .values(status="failed", next_attempt_at=None, last_error=reason)
        .execution_options(synchronize_session=False)
    )


def deliver_due(
    engine: Engine, settings: DeliverySettings, *, clock: Callable[[], datetime] = utcnow
) -> DispatchReport:
    """Claim one batch of due deliveries and send them, one after the other."""
    lease = timedelta(seconds=settings.timeout * 2 * settings.batch_size + 60)
    report = DispatchReport()
    for claim in claim_due(engine, now=clock(), lease=lease, limit=settings.batch_size):
        outcome = send(claim, settings, clock())
        status = record_outcome(engine, claim, outcome, settings, clock())
        if status == "delivered":
            report.delivered += 1
        elif status == "failed":
            report.failed += 1
        else:
            report.retrying += 1
    return report


def deliver_pending(
    engine: Engine,
    settings: DeliverySettings,
    *,
    clock: Callable[[], datetime] = utcnow,
    max_batches: int = 1000,
) -> DispatchReport:
    """Send every delivery that is due, batch after batch, until none is left."""
    report = DispatchReport()
    for _ in range(max_batches):
        batch = deliver_due(engine, settings, clock=clock)
        report.add(batch)
        if batch.attempted == 0:
            break
    return report


def next_due(engine: Engine) -> datetime | None:
    """When the earliest pending delivery falls due (None when nothing is pending)."""
    with Session(engine) as session:
        return session.scalar(
            select(func.min(WebhookDelivery.next_attempt_at)).where(
                WebhookDelivery.status == "pending"
            )
        )


def section_event(session: Session, event_type: str, section: Section, now: datetime) -> None:
    """Queue ``section.*`` with the section as the API serves it."""
    record_event(session, event_type, lambda: section_payload(section), now)


def page_event(session: Session, event_type: str, page: Page, now: datetime) -> None:
    """Queue ``page.*`` with the page as the API lists it."""
    record_event(session, event_type, lambda: page_payload(page), now)
