"""Configuration read from the environment (12-factor), shaped per APP_ENV.

`load_config()` is the only place that reads settings from the environment; the package
reads `current_app.config`. Production refuses to start with missing or weak secrets.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from limits import parse_many

ENVIRONMENTS = ("development", "testing", "production")
MIN_SECRET_LENGTH = 32
MIN_METRICS_TOKEN_LENGTH = 16
PROJECT_DIR = Path(__file__).resolve().parent


class ConfigurationError(SystemExit):
    """Raised at start-up when the environment cannot safely run the service."""

    def __init__(self, reason: str):
        super().__init__(f"refusing to start: {reason}")


def normalise_database_url(url: str | None) -> str | None:
    """Map PaaS-style and bare PostgreSQL URLs to the psycopg2 driver we ship."""
    if not url:
        return None
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def _flag(value: str | None, default: bool = False) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    value = environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, got {value!r}") from None


def _positive(environ: Mapping[str, str], name: str, default: int) -> int:
    value = _int(environ, name, default)
    if value < 1:
        raise ConfigurationError(f"{name} must be at least 1, got {value}")
    return value


def _base_url(value: str | None) -> str | None:
    """An origin such as https://api.example.org (no trailing slash), or None."""
    if not value or not value.strip():
        return None
    value = value.strip().rstrip("/")
    if not value.startswith(("https://", "http://")):
        raise ConfigurationError(f"PUBLIC_BASE_URL must start with https:// or http://: {value!r}")
    return value


def _timezone(name: str) -> str:
    """An IANA time zone name, checked to exist."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(f"TIMEZONE {name!r} is not a known time zone") from None
    return name


def _cutoff(value: str) -> str | None:
    """BOOKING_CUTOFF: "HH:MM" (24-hour), or "off" (None)."""
    value = value.strip().lower()
    if value == "off":
        return None
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value)
    if not match:
        raise ConfigurationError(f'BOOKING_CUTOFF must be HH:MM or "off", got {value!r}')
    return f"{int(match[1]):02d}:{match[2]}"


def _max_members(environ: Mapping[str, str]) -> int:
    count = _int(environ, "MAX_MEMBERS", 4)
    if not 0 <= count <= 6:
        raise ConfigurationError(f"MAX_MEMBERS must be between 0 and 6, got {count}")
    return count


def _audit_chains(environ: Mapping[str, str]) -> int:
    count = _int(environ, "AUDIT_CHAINS", 16)
    if not 1 <= count <= 64:
        raise ConfigurationError(f"AUDIT_CHAINS must be between 1 and 64, got {count}")
    return count


def _instance_secret(instance_dir: Path, filename: str) -> str:
    """A development-only secret, generated once and kept under instance/."""
    instance_dir.mkdir(parents=True, exist_ok=True)
    path = instance_dir / filename
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


DATA_KEY_BYTES = 32
# Fewer distinct bytes than this in 32 is no random key (a repeated character, a word).
MIN_DISTINCT_KEY_BYTES = 12
# Testing only: a fixed key, so a server process started by the tests reads the test's rows.
TESTING_DATA_ENCRYPTION_KEY = base64.b64encode(b"testing-only-data-key-0123456789").decode()


def decode_data_key(value: str, name: str) -> bytes:
    """32 bytes from standard or URL-safe base64 (padding optional), or ConfigurationError."""
    text = value.strip().replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    # Never echo the value: it is a key.
    if len(raw) != DATA_KEY_BYTES:
        raise ConfigurationError(f"{name} is not {DATA_KEY_BYTES} bytes in base64")
    if len(set(raw)) < MIN_DISTINCT_KEY_BYTES:
        raise ConfigurationError(f"{name} is too weak: use 32 random bytes")
    return raw


def _data_key(environ: Mapping[str, str], name: str) -> str | None:
    """A data key setting, checked when set; None when unset."""
    value = (environ.get(name) or "").strip()
    if value:
        decode_data_key(value, name)
    return value or None


def _retired_data_keys(environ: Mapping[str, str]) -> list[str]:
    """DATA_ENCRYPTION_RETIRED_KEYS: comma-separated keys still accepted for decryption."""
    keys = [key.strip() for key in environ.get("DATA_ENCRYPTION_RETIRED_KEYS", "").split(",")]
    for key in filter(None, keys):
        decode_data_key(key, "DATA_ENCRYPTION_RETIRED_KEYS")
    return [key for key in keys if key]


def _instance_data_key(instance_dir: Path) -> str:
    """A development-only data encryption key, generated once and kept under instance/."""
    instance_dir.mkdir(parents=True, exist_ok=True)
    path = instance_dir / "data_encryption_key"
    if not path.exists():
        path.write_text(base64.b64encode(secrets.token_bytes(DATA_KEY_BYTES)).decode())
        path.chmod(0o600)
    return path.read_text().strip()


def generate_signing_key() -> str:
    """A new Ed25519 private key for signing certificates, as PKCS#8 PEM."""
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


def _instance_signing_key(instance_dir: Path) -> str:
    """A development-only certificate signing key, generated once and kept under instance/."""
    instance_dir.mkdir(parents=True, exist_ok=True)
    path = instance_dir / "cert_signing_key.pem"
    if not path.exists():
        path.write_text(generate_signing_key())
        path.chmod(0o600)
    return path.read_text()


def _signing_key(pem: str | None) -> str | None:
    """The PEM as given (PaaS dashboards often turn newlines into '\\n'), checked to be Ed25519."""
    if not pem or not pem.strip():
        return None
    pem = pem.strip().replace("\\n", "\n") + "\n"
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        # Never echo the value: it is a private key.
        raise ConfigurationError("CERT_SIGNING_KEY is not an unencrypted Ed25519 private key (PEM)")
    return pem


PUBLIC_JWK_MEMBERS = ("kty", "crv", "x", "kid")


def _retired_public_keys(value: str | None) -> list[dict]:
    """CERT_RETIRED_PUBLIC_KEYS: a JSON array of Ed25519 public JWKs, each with its `kid`."""
    if not value or not value.strip():
        return []
    try:
        keys = json.loads(value)
    except ValueError:
        keys = None
    if not isinstance(keys, list) or not all(_is_public_jwk(key) for key in keys):
        raise ConfigurationError(
            "CERT_RETIRED_PUBLIC_KEYS is not a JSON array of Ed25519 public JWKs with a kid"
        )
    return [{member: key[member] for member in PUBLIC_JWK_MEMBERS} for key in keys]


def _is_public_jwk(key) -> bool:
    # A private member ("d") means someone pasted a private key: refuse to publish it.
    return (
        isinstance(key, dict)
        and key.get("kty") == "OKP"
        and key.get("crv") == "Ed25519"
        and "d" not in key
        and all(isinstance(key.get(member), str) and key[member] for member in ("x", "kid"))
    )


def engine_options(database_url: str | None, environ: Mapping[str, str]) -> dict:
    """Pool and timeout settings: a database outage answers 503 within seconds, never hangs.

    Workers x (pool size + overflow) must stay below PostgreSQL's max_connections (100 by
    default): 2 workers x (5 + 5) = 20. No pre-ping by default: it costs a round trip per
    request; a connection found dead instead invalidates the pool on its first error (that
    request gets a 503) and the next request reconnects.
    """
    if not database_url or not database_url.startswith("postgresql"):
        return {}
    connect_timeout = _int(environ, "DATABASE_CONNECT_TIMEOUT", 3)
    statement_timeout_ms = _int(environ, "DATABASE_STATEMENT_TIMEOUT_MS", 5000)
    connect_args = {
        "connect_timeout": connect_timeout,
        # Close a connection whose sent data stays unacknowledged this long (lost peer).
        "tcp_user_timeout": connect_timeout * 1000 + statement_timeout_ms,
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 5,
        "keepalives_count": 3,
    }
    if statement_timeout_ms:  # 0 leaves it to the server (e.g. behind PgBouncer)
        connect_args["options"] = f"-c statement_timeout={statement_timeout_ms}"
    return {
        "pool_size": _int(environ, "DATABASE_POOL_SIZE", 5),
        "max_overflow": _int(environ, "DATABASE_MAX_OVERFLOW", 5),
        "pool_timeout": _int(environ, "DATABASE_POOL_TIMEOUT", 5),
        "pool_recycle": 1800,
        "pool_pre_ping": _flag(environ.get("DATABASE_POOL_PRE_PING")),
        "connect_args": connect_args,
    }


def load_config(environ: Mapping[str, str] | None = None, **overrides) -> dict:
    """Build the Flask config for APP_ENV from `environ` (default: the process environment)."""
    environ = os.environ if environ is None else environ
    app_env = (overrides.get("APP_ENV") or environ.get("APP_ENV") or "development").lower()
    if app_env not in ENVIRONMENTS:
        raise ConfigurationError(f"APP_ENV={app_env!r} is not one of {', '.join(ENVIRONMENTS)}")
    instance_dir = Path(environ.get("INSTANCE_PATH") or PROJECT_DIR / "instance")

    # The prototype called these URL and SECRET_TOKEN; both are still read as fallbacks.
    database_url = normalise_database_url(environ.get("DATABASE_URL") or environ.get("URL"))
    secret_key = environ.get("SECRET_KEY") or environ.get("SECRET_TOKEN") or None
    signing_key = _signing_key(environ.get("CERT_SIGNING_KEY"))
    audit_key = environ.get("AUDIT_KEY") or None
    data_key = _data_key(environ, "DATA_ENCRYPTION_KEY")
    if app_env == "testing":
        database_url = normalise_database_url(environ.get("TEST_DATABASE_URL")) or "sqlite://"
        secret_key = secret_key or "testing-only-secret-key-0123456789abcdef"
        signing_key = signing_key or generate_signing_key()
        audit_key = audit_key or secrets.token_urlsafe(48)
        data_key = data_key or TESTING_DATA_ENCRYPTION_KEY
    elif app_env == "development":
        database_url = database_url or f"sqlite:///{instance_dir / 'vaccination.sqlite3'}"
        secret_key = secret_key or _instance_secret(instance_dir, "secret_key")
        signing_key = signing_key or _instance_signing_key(instance_dir)
        audit_key = audit_key or _instance_secret(instance_dir, "audit_key")
        data_key = data_key or _instance_data_key(instance_dir)

    redis_url = environ.get("REDIS_URL") or None
    config = {
        "APP_ENV": app_env,
        "TESTING": app_env == "testing",
        "INSTANCE_DIR": str(instance_dir),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url, environ),
        "SECRET_KEY": secret_key,
        # argon2id parameters (backend/auth/passwords.py): OWASP's everywhere but in the tests.
        "PASSWORD_HASHING": "testing" if app_env == "testing" else "owasp",
        "ACCESS_TOKEN_MINUTES": _int(environ, "ACCESS_TOKEN_MINUTES", 60),
        "CORS_ORIGINS": [
            origin.strip()
            for origin in environ.get("CORS_ORIGINS", "").split(",")
            if origin.strip()
        ],
        "DEFAULT_PHONE_REGION": environ.get("DEFAULT_PHONE_REGION", "BD").strip().upper(),
        # Ed25519 private key (PEM) that signs vaccination certificates.
        "CERT_SIGNING_KEY": signing_key,
        # The public halves of earlier signing keys: certificates they signed keep verifying.
        "CERT_RETIRED_PUBLIC_KEYS": _retired_public_keys(environ.get("CERT_RETIRED_PUBLIC_KEYS")),
        # The prototype's vaccine routes (backend/legacy): where POST /legacy/vaccine/create
        # registers (default: the first active center), the origin certificate links are built
        # on (default: the request's host), and how long such a link works.
        "LEGACY_VACCINE_CENTER_ID": _int(environ, "LEGACY_VACCINE_CENTER_ID", 0) or None,
        "PUBLIC_BASE_URL": _base_url(environ.get("PUBLIC_BASE_URL")),
        "CERTIFICATE_LINK_HOURS": _positive(environ, "CERTIFICATE_LINK_HOURS", 24),
        # HMAC-SHA256 key of the audit chain (backend/audit/services.py); never in the database,
        # so whoever can write to it cannot recompute the chain after changing a row.
        "AUDIT_KEY": audit_key,
        # Personal data at rest (backend/privacy): AES-256-GCM under DATA_ENCRYPTION_KEY; values
        # under a retired key still decrypt until `flask privacy rotate-key` re-encrypts them.
        # Blind indexes (HMAC-SHA256) under BLIND_INDEX_KEY, by default derived from the data key.
        "DATA_ENCRYPTION_KEY": data_key,
        "DATA_ENCRYPTION_RETIRED_KEYS": _retired_data_keys(environ),
        "BLIND_INDEX_KEY": _data_key(environ, "BLIND_INDEX_KEY"),
        # Independent chains the trail is appended to (one per worker, by pid), so appends do
        # not all wait on one head row; `flask audit verify` checks every one.
        "AUDIT_CHAINS": _audit_chains(environ),
        # Two-factor sign-in: the TOTP secrets are encrypted under a key derived from this
        # (default: SECRET_KEY); staff (every role but citizen) must enrol before anything else.
        "MFA_ENCRYPTION_KEY": environ.get("MFA_ENCRYPTION_KEY") or secret_key,
        "REQUIRE_STAFF_MFA": _flag(
            environ.get("REQUIRE_STAFF_MFA"), default=app_env == "production"
        ),
        # When true, only accounts marked verified may register for vaccination.
        "REQUIRE_VERIFIED": _flag(environ.get("REQUIRE_VERIFIED")),
        # Appointments: family members per account; booking closes at BOOKING_CUTOFF on the day
        # before the session ("off": open until the session's day), in TIMEZONE, which is also
        # where a session's day begins and ends.
        "MAX_MEMBERS": _max_members(environ),
        "BOOKING_CUTOFF": _cutoff(environ.get("BOOKING_CUTOFF") or "15:00"),
        "TIMEZONE": _timezone(environ.get("TIMEZONE") or "Asia/Dhaka"),
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # Delivery of one-time codes: SMTP (the usual Flask names) and an SMS webhook.
        "MAIL_SERVER": environ.get("MAIL_SERVER") or None,
        "MAIL_PORT": _int(environ, "MAIL_PORT", 25),
        "MAIL_USE_TLS": _flag(environ.get("MAIL_USE_TLS")),
        "MAIL_USE_SSL": _flag(environ.get("MAIL_USE_SSL")),
        "MAIL_USERNAME": environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": environ.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": environ.get("MAIL_DEFAULT_SENDER", "no-reply@localhost"),
        "SMS_WEBHOOK_URL": environ.get("SMS_WEBHOOK_URL") or None,
        # Throttling (`limits`): shared through Redis when REDIS_URL is set, else per process.
        "REDIS_URL": redis_url,
        "RATELIMIT_ENABLED": _flag(environ.get("RATELIMIT_ENABLED"), default=app_env != "testing"),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_KEY_PREFIX": environ.get("RATELIMIT_KEY_PREFIX", "vaccination"),
        "RATELIMIT_SIGN_IN_PER_ADDRESS": environ.get("RATELIMIT_SIGN_IN_PER_ADDRESS", "10/minute"),
        "RATELIMIT_SIGN_IN_PER_USERNAME": environ.get(
            "RATELIMIT_SIGN_IN_PER_USERNAME", "10/15 minutes"
        ),
        "RATELIMIT_FORGOT_PER_EMAIL": environ.get("RATELIMIT_FORGOT_PER_EMAIL", "5/hour"),
        "RATELIMIT_FORGOT_PER_ADDRESS": environ.get("RATELIMIT_FORGOT_PER_ADDRESS", "20/hour"),
        # Checking or using a reset code (each route counts on its own; 5 guesses kill a code).
        "RATELIMIT_RESET_PER_EMAIL": environ.get("RATELIMIT_RESET_PER_EMAIL", "10/hour"),
        "RATELIMIT_RESET_PER_ADDRESS": environ.get("RATELIMIT_RESET_PER_ADDRESS", "30/hour"),
        "RATELIMIT_REGISTER_PER_ADDRESS": environ.get("RATELIMIT_REGISTER_PER_ADDRESS", "20/hour"),
        # Each verification request sends an email and an SMS.
        "RATELIMIT_VERIFY_PER_ADDRESS": environ.get("RATELIMIT_VERIFY_PER_ADDRESS", "10/hour"),
        # Each email change request sends a code to an address of the caller's choosing.
        "RATELIMIT_EMAIL_CHANGE_PER_ACCOUNT": environ.get(
            "RATELIMIT_EMAIL_CHANGE_PER_ACCOUNT", "5/hour"
        ),
        "RATELIMIT_EMAIL_CHANGE_PER_ADDRESS": environ.get(
            "RATELIMIT_EMAIL_CHANGE_PER_ADDRESS", "10/hour"
        ),
        # Each export decrypts everything held about the caller and their members.
        "RATELIMIT_EXPORT_PER_ACCOUNT": environ.get("RATELIMIT_EXPORT_PER_ACCOUNT", "5/hour"),
        # Number of proxies in front of the app whose X-Forwarded-For may be trusted (ProxyFix).
        "TRUSTED_PROXIES": _int(environ, "TRUSTED_PROXIES", 0),
        "HSTS": _flag(environ.get("HSTS")),
        # Observability: log format, and Prometheus metrics shared by gunicorn's workers.
        "LOG_FORMAT": environ.get("LOG_FORMAT", "json").strip().lower(),
        "METRICS_TOKEN": environ.get("METRICS_TOKEN") or None,
        "PROMETHEUS_MULTIPROC_DIR": environ.get("PROMETHEUS_MULTIPROC_DIR") or None,
        # Flask-JWT-Extended: tokens come from the Authorization header only.
        "JWT_TOKEN_LOCATION": ["headers"],
        "JWT_ALGORITHM": "HS256",
        "JWT_DECODE_ALGORITHMS": ["HS256"],
        "JWT_ERROR_MESSAGE_KEY": "message",
        # flask-smorest and the OpenAPI document; Swagger UI assets are served locally.
        "API_TITLE": "Vaccination registration API",
        "API_VERSION": "1.0.0",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_URL": "/docs/assets/",
        "OPENAPI_SWAGGER_UI_CONFIG": {"persistAuthorization": False},
    }
    config.update(overrides)
    if "SQLALCHEMY_ENGINE_OPTIONS" not in overrides:  # for the URL finally chosen
        config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
            config["SQLALCHEMY_DATABASE_URI"], environ
        )
    check_rate_limits(config)
    check_production(config)
    return config


def check_rate_limits(config: Mapping) -> None:
    """Every throttle setting must parse ("10/minute", "5 per hour; 100/day"), in any
    environment: a typo would otherwise surface as a 500 on its routes."""
    for name, value in config.items():
        if name.startswith("RATELIMIT_") and "_PER_" in name:
            try:
                parse_many(value)
            except ValueError:
                raise ConfigurationError(
                    f"{name} is not a rate limit like '10/minute', got {value!r}"
                ) from None


def check_production(config: Mapping) -> None:
    """Refuse to start a production app with missing or weak secrets."""
    if config["APP_ENV"] != "production":
        return
    secret_key = config.get("SECRET_KEY")
    if not secret_key:
        raise ConfigurationError("SECRET_KEY is not set")
    if len(secret_key) < MIN_SECRET_LENGTH:
        raise ConfigurationError(f"SECRET_KEY is shorter than {MIN_SECRET_LENGTH} characters")
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        raise ConfigurationError("DATABASE_URL is not set")
    if not config.get("CERT_SIGNING_KEY"):
        raise ConfigurationError("CERT_SIGNING_KEY is not set")
    audit_key = config.get("AUDIT_KEY")
    if not audit_key:
        raise ConfigurationError("AUDIT_KEY is not set")
    if len(audit_key) < MIN_SECRET_LENGTH:
        raise ConfigurationError(f"AUDIT_KEY is shorter than {MIN_SECRET_LENGTH} characters")
    if not config.get("DATA_ENCRYPTION_KEY"):
        raise ConfigurationError("DATA_ENCRYPTION_KEY is not set")
    if config.get("DATA_ENCRYPTION_RETIRED_KEYS") and not config.get("BLIND_INDEX_KEY"):
        # Derived from the data key, the blind indexes would all change with it.
        raise ConfigurationError(
            "BLIND_INDEX_KEY is not set: after a rotation it cannot follow DATA_ENCRYPTION_KEY"
        )
    mfa_key = config.get("MFA_ENCRYPTION_KEY")
    if mfa_key and len(mfa_key) < MIN_SECRET_LENGTH:
        raise ConfigurationError(
            f"MFA_ENCRYPTION_KEY is shorter than {MIN_SECRET_LENGTH} characters"
        )
    # Without it /metrics is public: routes, traffic and registration counts to anyone.
    metrics_token = config.get("METRICS_TOKEN")
    if not metrics_token:
        raise ConfigurationError("METRICS_TOKEN is not set")
    if len(metrics_token) < MIN_METRICS_TOKEN_LENGTH:
        raise ConfigurationError(
            f"METRICS_TOKEN is shorter than {MIN_METRICS_TOKEN_LENGTH} characters"
        )
