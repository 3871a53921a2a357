"""Configuration read from the environment and checked once at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the setting and why."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"configuration error: {name} {reason}")
        self.name = name


def _as_bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(name, f"must be true or false, got {raw!r}")


def _as_int(name: str, raw: str, *, minimum: int = 0) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(name, f"must be at least {minimum}, got {value}")
    return value


def _as_url(name: str, raw: str, *, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in schemes or not (parts.netloc or parts.path):
        raise ConfigError(name, f"must be a URL starting with {' or '.join(schemes)}, got {raw!r}")
    return raw.rstrip("/") if parts.scheme in {"http", "https"} else raw


def normalize_database_url(raw: str) -> str:
    """Map the URL forms people paste (postgres://, postgresql://) to SQLAlchemy's psycopg 3."""
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://") :]
    if raw.startswith("postgresql://"):
        raw = "postgresql+psycopg://" + raw[len("postgresql://") :]
    return raw


@dataclass(frozen=True)
class Setting:
    """One environment variable: its Flask config key, how to parse it and its default."""

    env: str
    key: str
    kind: str  # "str", "bool", "int", "url", "database", "hosts", "choice"
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: int = 0


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATABASE_URL",
        "SQLALCHEMY_DATABASE_URI",
        "database",
        None,
        "SQLAlchemy URL; default an SQLite file in the instance folder",
    ),
    Setting(
        "SECRET_KEY",
        "SECRET_KEY",
        "str",
        None,
        "secret for signing; required unless FLASK_DEBUG or testing",
    ),
    Setting(
        "SITE_URL", "SITE_URL", "url", "https://zarr.dev", "value of {{ site.url }} in Markdown"
    ),
    Setting("SITE_BASEURL", "SITE_BASEURL", "str", "", "value of {{ site.baseurl }} in Markdown"),
    Setting(
        "EMBED_HOSTS",
        "EMBED_HOSTS",
        "hosts",
        "www.youtube.com,www.youtube-nocookie.com,calendar.google.com,player.vimeo.com",
        "comma-separated hosts whose <iframe> embeds survive sanitizing",
    ),
    Setting(
        "MAX_CONTENT_LENGTH",
        "MAX_CONTENT_LENGTH",
        "int",
        1_048_576,
        "largest request body in bytes (413 beyond)",
    ),
    Setting(
        "CACHE_MAX_AGE",
        "CACHE_MAX_AGE",
        "int",
        60,
        "Cache-Control max-age in seconds for anonymous reads",
    ),
    Setting(
        "CACHE_STALE_WHILE_REVALIDATE",
        "CACHE_STALE_WHILE_REVALIDATE",
        "int",
        300,
        "Cache-Control stale-while-revalidate in seconds",
    ),
    Setting(
        "RATELIMIT_STORAGE_URI",
        "RATELIMIT_STORAGE_URI",
        "str",
        "memory://",
        "Flask-Limiter storage, e.g. redis://127.0.0.1:6379/0",
    ),
    Setting(
        "RATELIMIT_WRITES",
        "RATELIMIT_WRITES",
        "str",
        "60 per minute",
        "rate limit for write requests per token (Flask-Limiter syntax)",
    ),
    Setting(
        "RATELIMIT_ENABLED",
        "RATELIMIT_ENABLED",
        "bool",
        "true",
        "turn rate limiting of writes on or off",
    ),
    Setting("SEED_PATH", "SEED_PATH", "str", "seed", "folder `seed` imports by default"),
    Setting(
        "RESPONSE_CACHE_MB",
        "RESPONSE_CACHE_MB",
        "int",
        "8",
        "memory per process for answers kept for reuse while the content is unchanged; 0: off",
    ),
    Setting(
        "WEBHOOKS_DISPATCH",
        "WEBHOOKS_DISPATCH",
        "choice",
        "thread",
        "when webhooks are sent: a background thread after each commit, inline in the "
        "committing request, or off (only `webhooks deliver`); off by default under testing",
        choices=("thread", "inline", "off"),
    ),
    Setting(
        "WEBHOOK_TIMEOUT",
        "WEBHOOK_TIMEOUT",
        "int",
        "5",
        "seconds to wait for a webhook endpoint",
        minimum=1,
    ),
    Setting(
        "WEBHOOK_MAX_ATTEMPTS",
        "WEBHOOK_MAX_ATTEMPTS",
        "int",
        "6",
        "attempts per webhook delivery before it is marked failed",
        minimum=1,
    ),
    Setting(
        "WEBHOOK_POLL_INTERVAL",
        "WEBHOOK_POLL_INTERVAL",
        "int",
        "60",
        "seconds between the dispatcher thread's looks for retries that fell due",
        minimum=1,
    ),
)


def _parse(setting: Setting, raw: str) -> Any:
    if setting.kind == "bool":
        return _as_bool(setting.env, raw)
    if setting.kind == "int":
        return _as_int(setting.env, raw, minimum=setting.minimum)
    if setting.kind == "url":
        return _as_url(setting.env, raw, schemes=("http", "https"))
    if setting.kind == "database":
        url = normalize_database_url(raw.strip())
        if not url.startswith(("sqlite:", "postgresql+psycopg:")):
            raise ConfigError(
                setting.env, f"must be a sqlite:/// or postgresql:// URL, got {raw!r}"
            )
        return url
    if setting.kind == "choice":
        value = raw.strip().lower()
        if value not in setting.choices:
            raise ConfigError(
                setting.env, f"must be one of {', '.join(setting.choices)}, got {raw!r}"
            )
        return value
    if setting.kind == "hosts":
        return frozenset(host.strip().lower() for host in raw.split(",") if host.strip())
    return raw


def load_config(
    instance_path: str, environ: Mapping[str, str], overrides: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Build the Flask config from the environment, then overrides; raise ConfigError if wrong."""
    overrides = dict(overrides or {})
    testing = bool(overrides.get("TESTING")) or _as_bool(
        "FLASK_TESTING", environ.get("FLASK_TESTING", "false")
    )
    debug = _as_bool("FLASK_DEBUG", environ.get("FLASK_DEBUG", "false"))
    config: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.env)
        if raw is None:
            default = setting.default
            config[setting.key] = _parse(setting, default) if isinstance(default, str) else default
        else:
            config[setting.key] = _parse(setting, raw)
    if config["SQLALCHEMY_DATABASE_URI"] is None:
        database = Path(instance_path) / "content.sqlite3"
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{database}"
    if testing and "WEBHOOKS_DISPATCH" not in environ:
        config["WEBHOOKS_DISPATCH"] = "off"  # tests send webhooks only when they ask to
    config.update(overrides)
    if not config.get("SECRET_KEY"):
        if not (testing or debug):
            raise ConfigError(
                "SECRET_KEY", "is not set: export a long random value (or FLASK_DEBUG=1 locally)"
            )
        config["SECRET_KEY"] = "insecure-development-key"
    config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS", engine_options(config["SQLALCHEMY_DATABASE_URI"])
    )
    return config


def engine_options(url: str) -> dict[str, Any]:
    """Connection pool settings that survive a database restart."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {
        "pool_pre_ping": True,
        "pool_size": 5,
        "max_overflow": 5,
        "pool_timeout": 10,
        "connect_args": {"connect_timeout": 5},
    }
