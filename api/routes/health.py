"""Liveness of the service and its database."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.errors import PROBLEM_JSON, ServiceUnavailable
from api.extensions import Blueprint, db
from api.http import make_etag
from api.routes.common import READ_RESPONSES
from api.schemas.common import ProblemSchema

bp = Blueprint("health", __name__, description="Health of the service.")


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})


@bp.route("/healthz")
class Health(MethodView):
    @bp.response(200, HealthSchema, headers={"Cache-Control": {"schema": {"type": "string"}}})
    @bp.alt_response(
        503,
        schema=ProblemSchema,
        content_type=PROBLEM_JSON,
        description="The database does not answer.",
    )
    @bp.doc(responses=READ_RESPONSES)
    def get(self) -> Any:
        """200 when the database answers, 503 otherwise."""
        try:
            db.session.execute(text("SELECT 1"))
        except SQLAlchemyError:
            db.session.rollback()
            raise ServiceUnavailable(
                "The database does not answer.", headers={"Retry-After": "5"}
            ) from None
        return {"status": "ok"}, {"Cache-Control": "no-store", "ETag": make_etag("healthz", "ok")}
