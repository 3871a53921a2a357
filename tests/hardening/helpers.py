"""Shared pieces of the hardening tests: corpora, checks of answers, live servers."""

from __future__ import annotations

import json
from typing import Any

PROBLEM_JSON = "application/problem+json"
PROBLEM_MEMBERS = {"type", "title", "status", "detail"}


def assert_problem(status: int, content_type: str, body: Any, *, what: str = "") -> None:
    """An error answer is RFC 9457 problem+json whose ``status`` member matches the status."""
    where = f" ({what})" if what else ""
    assert content_type.startswith(PROBLEM_JSON), f"{status} answered as {content_type!r}{where}"
    if isinstance(body, bytes | str):
        body = json.loads(body)
    assert isinstance(body, dict), f"{status} problem body is not an object{where}"
    missing = PROBLEM_MEMBERS - set(body)
    assert not missing, f"{status} problem lacks {sorted(missing)}{where}: {body}"
    assert body["status"] == status, f"problem status {body['status']} != {status}{where}"
    assert isinstance(body["detail"], str) and body["detail"], f"empty detail{where}"
