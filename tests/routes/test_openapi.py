"""The OpenAPI description is valid and describes every route."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate


def test_openapi_is_valid_and_complete(app: Flask, client: FlaskClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.")
    documented = {
        (path, method.upper())
        for path, operations in spec["paths"].items()
        for method in operations
        if method in {"get", "post", "patch", "put", "delete"}
    }
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in {"static", "api-docs.openapi_json"}:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routed.add((path, method))
    assert routed <= documented, routed - documented
    schemas = spec["components"]["schemas"]
    for name in ("Section", "Link", "Page", "PageSummary", "SectionList"):
        assert name in schemas, sorted(schemas)
