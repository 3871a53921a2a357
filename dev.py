#!/usr/bin/env python3
"""Bootstrap and run the project with nothing but Python installed.

    python3 dev.py serve   install, migrate, seed an SQLite database, serve on 127.0.0.1:5000
    python3 dev.py test    install, lint, run the whole test suite (SQLite, then PostgreSQL)

Everything is installed into ``.venv`` next to this file; a second run reinstalls only when
``pyproject.toml`` changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import venv
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
DEFAULT_TEST_POSTGRES = "postgresql://127.0.0.1:5432/test"


def run(*args: str | os.PathLike[str], env: dict[str, str] | None = None) -> None:
    """Run a command from the project root; stop with its exit code if it fails."""
    result = subprocess.run([str(arg) for arg in args], cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_installed(extras: str) -> None:
    """Create .venv and install the project (with ``extras``) unless already up to date."""
    if not PYTHON.exists():
        print("creating .venv", flush=True)
        venv.create(VENV, with_pip=True)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / ".installed"
    if stamp.exists() and stamp.read_text() == wanted:
        return
    print(f"installing the project{f' with {extras}' if extras else ''} into .venv", flush=True)
    run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PYTHON, "-m", "pip", "install", "--quiet", "-e", f".[{extras}]" if extras else ".")
    stamp.write_text(wanted)


def flask(*args: str, env: dict[str, str]) -> None:
    run(PYTHON, "-m", "flask", "--app", "wsgi", *args, env=env)


def serve() -> None:
    ensure_installed("")
    env = dict(os.environ)
    env.setdefault("FLASK_DEBUG", "1")  # a development secret instead of a required SECRET_KEY
    flask("db", "upgrade", env=env)
    flask("seed", env=env)
    flask("run", "--host", "127.0.0.1", "--port", "5000", "--no-debugger", "--no-reload", env=env)


# Debian packages the CI run needs: the real browser and the real kramdown renderer.
SYSTEM_PACKAGES = ("chromium", "ruby-kramdown", "ruby-kramdown-parser-gfm")


def debian_package_installed(name: str) -> bool:
    result = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True
    )
    return result.returncode == 0 and result.stdout.endswith("installed")


def ensure_system_packages() -> None:
    """In CI, install the Debian packages the browser and kramdown tests need."""
    if not shutil.which("dpkg-query"):
        print("error: CI needs Debian's chromium and ruby-kramdown packages", flush=True)
        sys.exit(1)
    missing = [name for name in SYSTEM_PACKAGES if not debian_package_installed(name)]
    if not missing:
        return
    if os.geteuid() != 0:
        print(f"error: CI needs the Debian packages {', '.join(missing)}", flush=True)
        sys.exit(1)
    print(f"installing {', '.join(missing)} with apt-get", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run("apt-get", "update", "-q", env=env)
    run("apt-get", "install", "-y", "-q", "--no-install-recommends", *missing, env=env)


def postgres_reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), 3):
            return True
    except OSError:
        return False


def test(pytest_args: list[str]) -> None:
    ensure_installed("dev")
    ci = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
    if ci:
        ensure_system_packages()
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    run(PYTHON, "-m", "ruff", "check", ".", env=env)
    run(PYTHON, "-m", "ruff", "format", "--check", ".", env=env)
    postgres = env.get("TEST_DATABASE_URL") or DEFAULT_TEST_POSTGRES
    print("== tests on SQLite ==", flush=True)
    run(PYTHON, "-m", "pytest", *pytest_args, env={**env, "TEST_DATABASE_URL": "sqlite"})
    if not postgres_reachable(postgres):
        if ci:
            print(f"error: PostgreSQL at {postgres} is not reachable, and CI needs it", flush=True)
            sys.exit(1)
        print(f"== PostgreSQL at {postgres} not reachable: its run is skipped ==", flush=True)
        return
    print(f"== tests on PostgreSQL ({postgres}) ==", flush=True)
    run(PYTHON, "-m", "pytest", *pytest_args, env={**env, "TEST_DATABASE_URL": postgres})


def main() -> None:
    command, *rest = sys.argv[1:] or ["help"]
    if command == "serve":
        serve()
    elif command == "test":
        test(rest)
    else:
        print(__doc__)
        sys.exit(0 if command == "help" else 2)


if __name__ == "__main__":
    main()
