"""Settings from the environment (LIUZHI_*); SQLite file by default, PostgreSQL by URL."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.ops.settings import OpsSettings

REPO_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"LIUZHI_{name}")
    return value if value not in (None, "") else default


def _flag(name: str) -> bool:
    return (_env(name, "0") or "0").lower() in ("1", "true", "yes")


def _list(name: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in (_env(name) or "").split(",") if v.strip())


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite+aiosqlite:///{REPO_ROOT / 'var' / 'liuzhi.sqlite3'}"
    # Owner connection for migrations; the app itself connects as a non-owner role (RLS applies).
    migrate_database_url: str | None = None
    redis_url: str | None = None
    secret_key: str = ""
    # Key for encrypting sensitive columns at rest; older keys stay readable for rotation.
    data_keys: tuple[str, ...] = ()
    # Key of the blind index that lets a full ID number be searched without decrypting; unlike
    # data_keys it cannot rotate without re-indexing (`liuzhi residents reindex`).
    hash_key: str = ""
    base_domain: str | None = None
    data_dir: Path = REPO_ROOT / "var"
    vendor_dir: Path = REPO_ROOT / "node_modules"
    tenants_dir: Path = REPO_ROOT / "tenants"
    default_locale: str = "zh_Hans"
    debug: bool = False
    # A missing template variable fails the render (tests: liuzhi.testing sets LIUZHI_STRICT_TEMPLATES=1);
    # in production it is logged and renders empty.
    strict_templates: bool = field(default_factory=lambda: _flag("STRICT_TEMPLATES"))
    session_max_age: int = 12 * 3600
    # The login brake (core.identity.throttle): free failures, then base·2ⁿ seconds up to max.
    login_free_attempts: int = 5
    login_backoff_base: float = 2.0
    login_backoff_max: float = 15 * 60
    login_window: int = 3600
    # Forwarded headers are believed only from these proxies (none by default).
    trusted_proxies: tuple[str, ...] = ()
    # The platform console answers only these addresses when set.
    platform_allowed_ips: tuple[str, ...] = ()
    # Second factor (TOTP) required of platform operators / of every district's admins.
    totp_operators: bool = False
    totp_district_admins: bool = False
    cookie_secure: bool = False
    # Metrics, logs, tracing, default per-tenant limits (core/ops/settings.py).
    ops: OpsSettings = field(default_factory=OpsSettings)
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        data_dir = Path(_env("DATA_DIR", str(REPO_ROOT / "var")))
        secret = _env("SECRET_KEY")
        if not secret:
            secret = _dev_secret(data_dir)
        keys = tuple(k for k in (_env("DATA_KEYS") or "").split(",") if k) or (secret,)
        settings = cls(
            database_url=_env("DATABASE_URL", f"sqlite+aiosqlite:///{data_dir / 'liuzhi.sqlite3'}"),
            migrate_database_url=_env("MIGRATE_DATABASE_URL"),
            redis_url=_env("REDIS_URL"),
            secret_key=secret,
            data_keys=keys,
            hash_key=_env("HASH_KEY") or secret,
            base_domain=_env("BASE_DOMAIN"),
            data_dir=data_dir,
            vendor_dir=Path(_env("VENDOR_DIR", str(REPO_ROOT / "node_modules"))),
            tenants_dir=Path(_env("TENANTS_DIR", str(REPO_ROOT / "tenants"))),
            default_locale=_env("DEFAULT_LOCALE", "zh_Hans"),
            debug=_env("DEBUG", "0") in ("1", "true", "yes"),
            strict_templates=_flag("STRICT_TEMPLATES"),
            cookie_secure=_flag("COOKIE_SECURE"),
            trusted_proxies=_list("TRUSTED_PROXIES"),
            platform_allowed_ips=_list("PLATFORM_ALLOWED_IPS"),
            totp_operators=_flag("TOTP_OPERATORS"),
            totp_district_admins=_flag("TOTP_DISTRICT_ADMINS"),
            ops=OpsSettings.from_env(),
            # The development identity provider (never in production): `liuzhi demo` switches it on.
            extra={"identity_dev": "1"} if _flag("IDENTITY_DEV") else {},
        )
        return replace(settings, **overrides) if overrides else settings

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def owner_url(self) -> str:
        return self.migrate_database_url or self.database_url


def _dev_secret(data_dir: Path) -> str:
    """A random secret kept in the data dir, so a demo survives restarts without configuration."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.write_text(secret)
    path.chmod(0o600)
    return secret
