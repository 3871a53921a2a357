"""Contract fuzzing: schemathesis drives every documented operation, stateless and stateful.

Each answer must match the OpenAPI document (status, media type, schema, headers), never be
a 5xx, and every error must be problem+json. Generation is derandomized so a run is
repeatable; ``HARDENING_FUZZ_EXAMPLES`` raises the number of examples for a deeper local run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.parameters import ParameterLocation

from api import create_app
from tests.factories import auth, make_token
from tests.hardening.helpers import assert_problem

EXAMPLES = int(os.environ.get("HARDENING_FUZZ_EXAMPLES", "15"))
STATEFUL_STEPS = int(os.environ.get("HARDENING_STATEFUL_STEPS", "30"))
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            # RFC 6585: a missing precondition header is answered 428 Precondition Required.
            "missing_required_header": {
                "expected-statuses": [400, 401, 403, 406, 415, 422, 428],
            },
        },
    }
)
# The document is read from an app that never touches a database.
_DOCUMENT_APP = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
schema = schemathesis.openapi.from_wsgi("/openapi.json", _DOCUMENT_APP, config=CONFIG)

# Writes apply rules JSON Schema cannot state (a body may not hold a `## ` heading, a position
# must lie within its page, a title is one line): schema-valid data may meet 422 there. Every
# other refusal of valid data (400, 412 with a current ETag, 413, 415, 428) is a failure.
WRITE_ACCEPTS = {401, 403, 404, 409, 422, 429}
ETAG_SOURCES = {
    "/sections/{section_id}": "/sections/{section_id}",
    "/sections/{section_id}/restore": "/sections/{section_id}",
    "/sections/{section_id}/revisions/{number}/restore": "/sections/{section_id}",
    "/pages/{slug}": "/pages/{slug}",
    "/pages/{slug}/revisions/{number}/restore": "/pages/{slug}",
    "/links/{link_id}": "/links/{link_id}",
}
WRITES = ["POST", "PATCH", "PUT", "DELETE"]
# The token schemathesis sends (None: anonymous); set by the `role_secret` fixture.
CURRENT_TOKEN: dict[str, str | None] = {"secret": None}


@schema.auth(refresh_interval=None)
class FixtureToken:
    """Bearer auth the schemathesis way, so its ignored_auth check also probes without it."""

    def get(self, case: Case, ctx: Any) -> str | None:
        return CURRENT_TOKEN["secret"]

    def set(self, case: Case, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def problem_json_errors(ctx: Any, response: Any, case: Case) -> bool | None:
    """Every 4xx/5xx answer is RFC 9457 problem+json with a matching status member."""
    if response.status_code >= 400:
        content_type = response.headers.get("content-type", [""])[0]
        body = response.json() if content_type.startswith("application/problem+json") else None
        assert_problem(response.status_code, content_type, body, what=case.as_curl_command())
    return None


def writes_accept_valid_data(ctx: Any, response: Any, case: Case) -> bool | None:
    """A schema-valid write with a current ETag is done, or refused for a documented reason."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if response.status_code < 300 or response.status_code in WRITE_ACCEPTS:
        return None
    raise AssertionError(
        f"schema-valid write refused with {response.status_code}: {response.text[:300]}\n"
        f"{case.as_curl_command()}"
    )


def use_current_etag(case: Case, client: FlaskClient, headers: dict[str, str]) -> None:
    """Positive writes carry the ETag a real client would have read just before."""
    source = ETAG_SOURCES.get(case.operation.path)
    if source is None or case.meta is None or case.meta.is_negative_at(ParameterLocation.HEADER):
        return
    try:
        url = source.format(**(case.path_parameters or {}))
    except (KeyError, IndexError):
        return
    response = client.get(url, headers=headers)
    if response.status_code == 200 and case.headers is not None:
        case.headers["If-Match"] = response.headers["ETag"]


def use_real_cursor(case: Case, client: FlaskClient, headers: dict[str, str]) -> None:
    """Cursors are opaque: positive cases use one from a real `next` URL (or none)."""
    query = case.query
    if (
        not query
        or "cursor" not in query
        or case.meta is None
        or case.meta.is_negative_at(ParameterLocation.QUERY)
    ):
        return
    first = {key: value for key, value in query.items() if key != "cursor"}
    first["limit"] = 1
    response = client.get(case.operation.path, query_string=first, headers=headers)
    next_url = (response.get_json(silent=True) or {}).get("next")
    if next_url:
        query["cursor"] = parse_qs(urlsplit(next_url).query)["cursor"][0]
    else:
        del query["cursor"]


def prepare(case: Case, client: FlaskClient, headers: dict[str, str]) -> None:
    use_current_etag(case, client, headers)
    use_real_cursor(case, client, headers)


def check_answer(case: Case, response: Any, app: Flask) -> None:
    """Run schemathesis' checks (their probes go to ``app`` too) plus ours."""
    if case.operation.method.upper() in WRITES:
        case.validate_response(
            response,
            excluded_checks=[positive_data_acceptance],
            additional_checks=[problem_json_errors, writes_accept_valid_data],
            transport_kwargs={"app": app},
        )
    else:
        case.validate_response(
            response, additional_checks=[problem_json_errors], transport_kwargs={"app": app}
        )


@pytest.fixture
def role_headers(seeded: Flask, role: str) -> Iterator[dict[str, str]]:
    """Make a token for ``role`` (none for anonymous) and have schemathesis send it."""
    secret = None if role == "anonymous" else make_token(seeded, f"fuzz-{role}", role)
    CURRENT_TOKEN["secret"] = secret
    yield auth(secret) if secret else {}
    CURRENT_TOKEN["secret"] = None


@pytest.mark.slow
@pytest.mark.parametrize("role", ["anonymous", "editor"])
@schema.parametrize()
@FUZZ_SETTINGS
def test_every_operation_keeps_the_contract(
    case: Case, seeded: Flask, role_headers: dict[str, str]
) -> None:
    prepare(case, seeded.test_client(), role_headers)
    check_answer(case, case.call(app=seeded), seeded)


@pytest.mark.slow
@pytest.mark.parametrize("role", ["admin"])
@schema.include(method=WRITES).parametrize()
@FUZZ_SETTINGS
def test_every_write_keeps_the_contract_for_admins(
    case: Case, seeded: Flask, role_headers: dict[str, str]
) -> None:
    prepare(case, seeded.test_client(), role_headers)
    check_answer(case, case.call(app=seeded), seeded)


@pytest.mark.slow
@pytest.mark.parametrize("role", ["admin"])
def test_stateful_sequences_keep_the_contract(seeded: Flask, role_headers: dict[str, str]) -> None:
    """Chains of calls linked by the document (create, then read, change, trash, restore...)."""
    client = seeded.test_client()

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"app": seeded}

        def before_call(self, case: Case) -> None:
            prepare(case, client, role_headers)

        def validate_response(self, response: Any, case: Case, **kwargs: Any) -> None:
            check_answer(case, response, seeded)

    Machine.run(
        settings=settings(
            FUZZ_SETTINGS,
            max_examples=max(EXAMPLES // 3, 3),
            stateful_step_count=STATEFUL_STEPS,
        )
    )
