"""Start-up configuration: wrong settings stop the app with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from api.config import ConfigError, load_config

PROJECT = Path(__file__).resolve().parents[1]


def run_flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL"}}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=PROJECT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "SECRET_KEY"),
        ({"SECRET_KEY": "x", "DATABASE_URL": "mysql://db/x"}, "DATABASE_URL"),
        ({"SECRET_KEY": "x", "CACHE_MAX_AGE": "soon"}, "CACHE_MAX_AGE"),
        ({"SECRET_KEY": "x", "SITE_URL": "zarr.dev"}, "SITE_URL"),
    ],
)
def test_wrong_setting_stops_with_one_line(env: dict[str, str], named: str) -> None:
    result = run_flask(env, "routes")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert named in lines[0]
    assert "Traceback" not in result.stderr


def test_default_database_is_sqlite_in_instance_folder(tmp_path: Path) -> None:
    config = load_config(str(tmp_path), {"SECRET_KEY": "s"}, None)
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'content.sqlite3'}"


def test_postgres_urls_use_psycopg_3(tmp_path: Path) -> None:
    config = load_config(
        str(tmp_path), {"SECRET_KEY": "s", "DATABASE_URL": "postgres://h/db"}, None
    )
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://h/db"


def test_missing_secret_is_an_error_outside_testing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(str(tmp_path), {}, None)


def test_console_script_runs_the_same_commands() -> None:
    script = Path(sys.executable).parent / "zarr-content"
    result = subprocess.run(
        [str(script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "FLASK_DEBUG": "1"},
        cwd=PROJECT,
    )
    assert result.returncode == 0, result.stderr
    for command in ("seed", "export", "tokens", "db"):
        assert command in result.stdout
