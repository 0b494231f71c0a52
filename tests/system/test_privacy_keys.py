"""The data encryption keys: required and checked in production, generated once in development."""

from __future__ import annotations

import base64

import pytest

from config import ConfigurationError, generate_signing_key, load_config

KEY = base64.b64encode(bytes(range(32))).decode()
PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "s" * 40,
    "DATABASE_URL": "sqlite://",
    "CERT_SIGNING_KEY": generate_signing_key(),
    "AUDIT_KEY": "a" * 40,
    "METRICS_TOKEN": "m" * 16,
    "DATA_ENCRYPTION_KEY": KEY,
}


def test_production_without_a_data_key_refuses_to_start():
    environ = {key: value for key, value in PRODUCTION.items() if key != "DATA_ENCRYPTION_KEY"}
    with pytest.raises(ConfigurationError, match="DATA_ENCRYPTION_KEY is not set"):
        load_config(environ)


@pytest.mark.parametrize(
    "value",
    ["not base64!", base64.b64encode(b"x" * 16).decode(), "x" * 44],
    ids=["malformed", "16 bytes", "33 bytes"],
)
def test_a_malformed_data_key_refuses_to_start_without_echoing_it(value):
    with pytest.raises(ConfigurationError, match="is not 32 bytes in base64") as refused:
        load_config({**PRODUCTION, "DATA_ENCRYPTION_KEY": value})
    assert value not in str(refused.value)


def test_a_weak_data_key_refuses_to_start():
    weak = base64.b64encode(b"password" * 4).decode()
    with pytest.raises(ConfigurationError, match="DATA_ENCRYPTION_KEY is too weak"):
        load_config({**PRODUCTION, "DATA_ENCRYPTION_KEY": weak})


def test_a_url_safe_key_without_padding_is_accepted():
    raw = bytes(range(200, 232))
    url_safe = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    config = load_config({**PRODUCTION, "DATA_ENCRYPTION_KEY": url_safe})
    assert config["DATA_ENCRYPTION_KEY"] == url_safe


def test_retired_keys_need_an_explicit_blind_index_key_in_production():
    rotated = {**PRODUCTION, "DATA_ENCRYPTION_RETIRED_KEYS": KEY}
    with pytest.raises(ConfigurationError, match="BLIND_INDEX_KEY is not set"):
        load_config(rotated)
    config = load_config({**rotated, "BLIND_INDEX_KEY": KEY})
    assert config["DATA_ENCRYPTION_RETIRED_KEYS"] == [KEY]


def test_a_malformed_retired_key_refuses_to_start():
    with pytest.raises(ConfigurationError, match="DATA_ENCRYPTION_RETIRED_KEYS is not 32"):
        load_config({**PRODUCTION, "DATA_ENCRYPTION_RETIRED_KEYS": f"{KEY},short"})


def test_development_generates_a_data_key_once_and_keeps_it(tmp_path):
    environ = {"APP_ENV": "development", "INSTANCE_PATH": str(tmp_path)}
    first, second = load_config(environ), load_config(environ)
    assert len(base64.b64decode(first["DATA_ENCRYPTION_KEY"])) == 32
    assert first["DATA_ENCRYPTION_KEY"] == second["DATA_ENCRYPTION_KEY"]
    assert (tmp_path / "data_encryption_key").stat().st_mode & 0o077 == 0
