"""Webhooks: admins register endpoints that receive signed events about content changes."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask.views import MethodView

from api.auth import require_role
from api.extensions import Blueprint, db
from api.models.base import utcnow
from api.routes.common import next_url, problem_responses, write_limit, writer
from api.schemas.webhook import (
    DeliveryListSchema,
    DeliveryQuery,
    WebhookCreatedSchema,
    WebhookListSchema,
    WebhookQuery,
    WebhookSchema,
)
from api.services import webhooks

bp = Blueprint(
    "webhooks",
    __name__,
    description="Webhooks (admins only): signed POSTs to your endpoints when content changes, "
    "following Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`).",
)
ADMIN = "admin"
PRIVATE = {"Cache-Control": "private, no-store"}
SECURITY = [{"bearerAuth": []}]
READ_ERRORS = {401: "Missing or invalid token.", 403: "Only admins manage webhooks."}
READ_RESPONSES = problem_responses(READ_ERRORS)
ITEM_RESPONSES = problem_responses({**READ_ERRORS, 404: "No such webhook."})
CREATE_RESPONSES = problem_responses(
    {
        **READ_ERRORS,
        400: "Malformed JSON.",
        413: "Body over the size limit.",
        415: "Body is not application/json.",
        422: "Invalid values, per field.",
        429: "Too many writes; see Retry-After.",
    }
)
DELETE_RESPONSES = problem_responses(
    {**READ_ERRORS, 404: "No such webhook.", 429: "Too many writes; see Retry-After."}
)


@bp.route("/webhooks")
class WebhookList(MethodView):
    @bp.arguments(WebhookQuery, location="query", as_kwargs=True)
    @bp.response(200, WebhookListSchema)
    @bp.doc(responses=READ_RESPONSES, security=SECURITY)
    @require_role(ADMIN)
    def get(self, limit: int, cursor: str | None) -> Any:
        """List the registered endpoints (never their secrets)."""
        result = webhooks.list_webhooks(db.session, limit=limit, cursor=cursor)
        return {"data": result.items, "next": next_url(result.next_cursor)}, PRIVATE

    @bp.arguments(WebhookSchema)
    @bp.response(201, WebhookCreatedSchema)
    @bp.doc(responses=CREATE_RESPONSES, security=SECURITY)
    @write_limit
    @require_role(ADMIN)
    def post(self, values: dict[str, Any]) -> Any:
        """Register an endpoint; the answer holds its signing secret, shown only this once."""
        webhook, secret = webhooks.create_webhook(
            db.session,
            url=values["url"],
            events=values["events"],
            description=values.get("description", ""),
            by=writer(),
            now=utcnow(),
        )
        db.session.commit()
        assert webhook.secret == secret  # WebhookCreatedSchema shows it, this once
        location = url_for("webhooks.WebhookItem", webhook_id=webhook.id)
        return webhook, 201, {**PRIVATE, "Location": location}


@bp.route("/webhooks/<int:webhook_id>")
class WebhookItem(MethodView):
    @bp.response(200, WebhookSchema)
    @bp.doc(responses=ITEM_RESPONSES, security=SECURITY)
    @require_role(ADMIN)
    def get(self, webhook_id: int) -> Any:
        """One endpoint (without its secret)."""
        return webhooks.get_webhook(db.session, webhook_id), PRIVATE

    @bp.response(204)
    @bp.doc(responses=DELETE_RESPONSES, security=SECURITY)
    @write_limit
    @require_role(ADMIN)
    def delete(self, webhook_id: int) -> Any:
        """Remove an endpoint and its delivery log; nothing more is sent to it."""
        webhooks.delete_webhook(db.session, webhooks.get_webhook(db.session, webhook_id))
        db.session.commit()
        return "", 204, PRIVATE


@bp.route("/webhooks/<int:webhook_id>/deliveries")
@bp.arguments(DeliveryQuery, location="query", as_kwargs=True)
@bp.response(200, DeliveryListSchema)
@bp.doc(responses=ITEM_RESPONSES, security=SECURITY)
@require_role(ADMIN)
def webhook_deliveries(webhook_id: int, limit: int, cursor: str | None, status: str | None) -> Any:
    """The endpoint's delivery log, newest first: status, attempts, last answer or error."""
    webhook = webhooks.get_webhook(db.session, webhook_id)
    result = webhooks.list_deliveries(
        db.session, webhook, status=status, limit=limit, cursor=cursor
    )
    return {"data": result.items, "next": next_url(result.next_cursor)}, PRIVATE
