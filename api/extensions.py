"""Flask extensions, created unbound and bound in ``create_app``."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import flask
import flask_smorest
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from flask_sqlalchemy import SQLAlchemy
from marshmallow import missing
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase
from webargs.flaskparser import FlaskParser

from api.database import include_object
from api.errors import PROBLEM_JSON
from api.http import PageSlugConverter, page_slug_schema
from api.schemas.common import ProblemSchema

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ProblemApi(Api):
    """flask-smorest's Api, documenting every error as application/problem+json (RFC 9457)."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        # flask-smorest documents its error responses (the `default` of every operation, the
        # 422 of arguments, NOT_FOUND, ...) as application/json; ours leave as problem+json.
        for status in HTTPStatus:
            response: dict[str, object] = {"description": status.phrase}
            if not 100 <= status < 200 and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "An error (RFC 9457 problem details).", "schema": ProblemSchema}
        prepare_response(default, self.spec, PROBLEM_JSON)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, default, lazy=True)


# A write answers with the state it committed: expiring on commit would reload the rows
# afterwards, and show (with its ETag) whatever another editor committed in between.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate(render_as_batch=True, compare_type=True, include_object=include_object)
api = ProblemApi()
api.register_converter(PageSlugConverter, page_slug_schema)
limiter = Limiter(
    key_func=get_remote_address,
    default_limits=[],
    headers_enabled=True,
    swallow_errors=True,
    in_memory_fallback_enabled=True,
)


class StrictParser(FlaskParser):
    """Leave unknown-field handling to each schema (ours raise), for every location."""

    DEFAULT_UNKNOWN_BY_LOCATION: dict[str, str | None] = {}

    def _raw_load_json(self, req: flask.Request) -> Any:
        """Parse the body as webargs does, refusing strings that are not Unicode text.

        JSON's ``\\ud800`` escapes can spell lone surrogates, which no database can store as
        UTF-8; refused here they are a 400 like any malformed body, not a 500 on commit.
        """
        data = super()._raw_load_json(req)
        if data is missing:
            return data
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            text = req.get_data(cache=True, as_text=True)
            raise json.JSONDecodeError("String with a lone surrogate", text, 0) from None
        return data


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = StrictParser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(self._prepare_precondition_doc)

    @staticmethod
    def _prepare_precondition_doc(
        doc: dict[str, Any], doc_info: dict[str, Any], **kwargs: Any
    ) -> dict[str, Any]:
        """Document the conditional headers: 304 answers If-None-Match, 428 needs If-Match."""
        manual = doc_info.get("manual_doc", {}).get("responses", {})
        codes = {str(code) for code in [*doc.get("responses", {}), *manual]}
        if "304" in codes:
            doc.setdefault("parameters", []).append("IF_NONE_MATCH")
        if "428" in codes:
            doc.setdefault("parameters", []).append("IF_MATCH")
        return doc
