"""Link schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from api.schemas.common import ListEnvelope, ListQuery, StrictSchema


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


class LinkListSchema(ListEnvelope):
    data = fields.List(fields.Nested(LinkSchema), required=True)


class LinkQuery(ListQuery):
    page = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Only links of this page (slug)."},
    )
    host = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=255),
        metadata={"description": "Only links to this host, e.g. `gitter.im`."},
    )


class LinkPatchSchema(StrictSchema):
    url = fields.String(validate=validate.Length(min=1, max=2000))
    label = fields.String(validate=validate.Length(min=1, max=1000))
