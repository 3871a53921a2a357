"""Link schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from api.schemas.common import NO_NUL, ListEnvelope, ListQuery, StrictSchema


class LinkSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    section_id = fields.Integer(dump_only=True)
    page = fields.String(attribute="page_slug", dump_only=True)
    kind = fields.String(
        dump_only=True,
        metadata={"description": "`inline`, `reference`, `autolink` or `html`."},
    )
    label = fields.String(metadata={"description": "The link text as a reader sees it."})
    url = fields.String(metadata={"description": "Absolute or site-relative URL."})
    context = fields.String(
        dump_only=True, metadata={"description": "Plain text of the block the link stands in."}
    )
    position = fields.Integer(dump_only=True, metadata={"description": "Order in its section."})
    check_status = fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": "HTTP status of the last check (after redirects); null if none."},
    )
    check_error = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "Why the last check failed (time-out, DNS, TLS, ...), or null."},
    )
    redirect_to = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "Where the URL redirected to at the last check, or null."},
    )
    checked_at = fields.DateTime(
        dump_only=True,
        allow_none=True,
        metadata={"description": "When `links check` last checked this URL; null if never."},
    )


class LinkListSchema(ListEnvelope):
    data = fields.List(fields.Nested(LinkSchema), required=True)


class LinkQuery(ListQuery):
    page = fields.String(
        load_default=None,
        validate=[validate.Length(min=1, max=200), NO_NUL],
        metadata={"description": "Only links of this page (slug)."},
    )
    host = fields.String(
        load_default=None,
        validate=[validate.Length(min=1, max=255), NO_NUL],
        metadata={"description": "Only links to this host, e.g. `gitter.im`."},
    )
    broken = fields.Boolean(
        load_default=None,
        metadata={
            "description": "`true`: only links whose last check failed (status >= 400 or an "
            "error); `false`: only links checked and fine. Unchecked links match neither."
        },
    )


class LinkPatchSchema(StrictSchema):
    url = fields.String(validate=[validate.Length(min=1, max=2000), NO_NUL])
    label = fields.String(validate=[validate.Length(min=1, max=1000), NO_NUL])
