"""Webhook schemas: endpoints and their delivery log."""

from __future__ import annotations

from marshmallow import fields, validate

from api.models.webhook import DELIVERY_STATUSES
from api.schemas.common import ListEnvelope, ListQuery, StrictSchema
from api.services.webhooks import ALL_EVENTS, EVENT_TYPES

EVENT_CHOICES = [*EVENT_TYPES, ALL_EVENTS]


class WebhookSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    url = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "Absolute http:// or https:// URL the events are POSTed to."},
    )
    events = fields.List(
        fields.String(validate=validate.OneOf(EVENT_CHOICES)),
        required=True,
        validate=validate.Length(min=1, max=len(EVENT_CHOICES)),
        metadata={"description": f"Event types to receive ({', '.join(EVENT_TYPES)}), or ['*']."},
    )
    description = fields.String(load_default="", validate=validate.Length(max=500))
    active = fields.Boolean(
        dump_only=True, metadata={"description": "False once the endpoint answered 410 Gone."}
    )
    disabled_at = fields.DateTime(dump_only=True, allow_none=True)
    disabled_reason = fields.String(dump_only=True, allow_none=True)
    created_by = fields.String(dump_only=True, metadata={"description": "Token name."})
    created_at = fields.DateTime(dump_only=True)


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.String(
        dump_only=True,
        metadata={
            "description": "Signing secret (`whsec_` + base64), shown only in this answer; "
            "verify `webhook-signature` with it (Standard Webhooks)."
        },
    )


class WebhookListSchema(ListEnvelope):
    data = fields.List(fields.Nested(WebhookSchema), required=True)


class WebhookQuery(ListQuery):
    pass


class DeliverySchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    event_id = fields.String(
        attribute="event.public_id",
        dump_only=True,
        metadata={"description": "The `webhook-id` header: the same on every retry."},
    )
    type = fields.String(attribute="event.type", dump_only=True)
    status = fields.String(
        dump_only=True, metadata={"description": "`pending`, `delivered` or `failed`."}
    )
    attempts = fields.Integer(dump_only=True)
    last_response_code = fields.Integer(
        dump_only=True, allow_none=True, metadata={"description": "HTTP status of the last try."}
    )
    last_error = fields.String(dump_only=True, allow_none=True)
    next_attempt_at = fields.DateTime(
        dump_only=True, allow_none=True, metadata={"description": "When it is tried again."}
    )
    last_attempt_at = fields.DateTime(dump_only=True, allow_none=True)
    delivered_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    occurred_at = fields.DateTime(attribute="event.occurred_at", dump_only=True)


class DeliveryListSchema(ListEnvelope):
    data = fields.List(fields.Nested(DeliverySchema), required=True)


class DeliveryQuery(ListQuery):
    status = fields.String(
        load_default=None,
        validate=validate.OneOf(DELIVERY_STATUSES),
        metadata={"description": "Only deliveries in this state."},
    )
