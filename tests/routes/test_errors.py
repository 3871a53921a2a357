"""Every error is problem+json with the right status; no HTML error page ever leaks."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError

from api.extensions import db


def assert_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == status
    assert problem["type"] and problem["title"] and problem["detail"]
    assert "<html" not in response.get_data(as_text=True).lower()
    return problem


def test_unknown_route_is_404(client: FlaskClient) -> None:
    assert_problem(client.get("/nothing/here"), 404)


def test_wrong_method_is_405_with_allow(client: FlaskClient) -> None:
    response = client.put("/healthz")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=abc", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=eyJ4IjoxfQ", "cursor"),
        ("colour=red", "colour"),
    ],
)
def test_bad_query_parameters_are_422_per_field(
    client: FlaskClient, query: str, field: str
) -> None:
    for path in ("/sections", "/pages", "/links"):
        problem = assert_problem(client.get(f"{path}?{query}"), 422)
        assert list(problem["errors"]) == [field], (path, problem)
        assert all(isinstance(message, str) for message in problem["errors"][field])


def test_database_down_gives_503(app: Flask, client: FlaskClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    with app.app_context():
        monkeypatch.setattr(db.session, "execute", refuse)
        assert_problem(client.get("/healthz"), 503)


def test_unexpected_error_hides_the_traceback(app: Flask, client: FlaskClient) -> None:
    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    problem = assert_problem(client.get("/boom"), 500)
    assert "secret internals" not in problem["detail"]
