"""What the machine running the tests has: a missing service or tool skips, but fails in CI."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> NoReturn:
    """Skip the test for want of ``reason``; under ``CI=true`` fail it, so CI never skips."""
    if in_ci():
        pytest.fail(f"{reason}; CI needs it")
    pytest.skip(reason)
