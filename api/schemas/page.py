"""Page schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from api.schemas.common import NO_NUL, STATUS_FIELD, ListEnvelope, ListQuery, StrictSchema
from api.schemas.section import SectionSchema


class PageSummarySchema(StrictSchema):
    slug = fields.String(metadata={"description": "e.g. `community`."})
    title = fields.String()
    permalink = fields.String(allow_none=True)
    front_matter = fields.Dict(
        keys=fields.String(), metadata={"description": "Every front-matter key, in order."}
    )
    status = STATUS_FIELD
    version = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class PageSchema(PageSummarySchema):
    sections = fields.List(fields.Nested(SectionSchema), dump_only=True)


class PageListSchema(ListEnvelope):
    data = fields.List(fields.Nested(PageSummarySchema), required=True)


class PageQuery(ListQuery):
    pass


class PageCreateSchema(StrictSchema):
    slug = fields.String(required=True, validate=[validate.Length(min=1, max=200), NO_NUL])
    title = fields.String(required=True, validate=[validate.Length(min=1, max=500), NO_NUL])
    front_matter = fields.Dict(keys=fields.String())
    status = STATUS_FIELD


class PagePatchSchema(StrictSchema):
    title = fields.String(validate=[validate.Length(min=1, max=500), NO_NUL])
    front_matter = fields.Dict(keys=fields.String())
    status = STATUS_FIELD
