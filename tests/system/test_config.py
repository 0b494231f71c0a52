"""Configuration from the environment; production refuses to start without safe secrets."""

import pytest

from backend import create_app
from config import ConfigurationError, generate_signing_key, load_config

STRONG = "s" * 40
SIGNING_KEY = generate_signing_key()
AUDIT_KEY = "a" * 40
METRICS_TOKEN = "m" * 16
DATA_KEY = "dGVzdC1jb25maWctZGF0YS1rZXktMDEyMzQ1Njc4OWE="  # 32 bytes in base64


def test_production_without_secret_key_refuses_to_start():
    with pytest.raises(ConfigurationError, match="SECRET_KEY is not set"):
        load_config({"APP_ENV": "production", "DATABASE_URL": "postgresql://db/x"})


def test_production_with_short_secret_refuses_to_start():
    with pytest.raises(ConfigurationError, match="shorter than 32"):
        load_config({"APP_ENV": "production", "SECRET_KEY": "short", "DATABASE_URL": "sqlite://"})


def test_production_without_database_url_refuses_to_start():
    with pytest.raises(ConfigurationError, match="DATABASE_URL is not set"):
        load_config({"APP_ENV": "production", "SECRET_KEY": STRONG})


@pytest.mark.parametrize("value", ["10 a minute", "", "ten/minute"])
def test_a_throttle_setting_that_is_no_rate_limit_refuses_to_start(value):
    with pytest.raises(ConfigurationError, match="RATELIMIT_SIGN_IN_PER_ADDRESS is not a rate"):
        load_config({"APP_ENV": "development", "RATELIMIT_SIGN_IN_PER_ADDRESS": value})


def test_refusal_is_one_line_naming_the_reason(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("SECRET_TOKEN", raising=False)
    with pytest.raises(SystemExit) as refused:
        create_app()
    assert str(refused.value) == "refusing to start: SECRET_KEY is not set"


@pytest.mark.parametrize("scheme", ["postgres://", "postgresql://"])
def test_postgres_urls_use_psycopg2(scheme):
    config = load_config(
        {
            "APP_ENV": "production",
            "SECRET_KEY": STRONG,
            "DATABASE_URL": f"{scheme}u@h/db",
            "CERT_SIGNING_KEY": SIGNING_KEY,
            "AUDIT_KEY": AUDIT_KEY,
            "METRICS_TOKEN": METRICS_TOKEN,
            "DATA_ENCRYPTION_KEY": DATA_KEY,
        }
    )
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg2://u@h/db"


def test_prototype_variable_names_are_read():
    config = load_config(
        {
            "APP_ENV": "production",
            "SECRET_TOKEN": STRONG,
            "URL": "sqlite://",
            "CERT_SIGNING_KEY": SIGNING_KEY,
            "AUDIT_KEY": AUDIT_KEY,
            "METRICS_TOKEN": METRICS_TOKEN,
            "DATA_ENCRYPTION_KEY": DATA_KEY,
        }
    )
    assert config["SECRET_KEY"] == STRONG
    assert config["SQLALCHEMY_DATABASE_URI"] == "sqlite://"


def test_development_generates_a_secret_once_and_keeps_it(tmp_path):
    environ = {"APP_ENV": "development", "INSTANCE_PATH": str(tmp_path)}
    first, second = load_config(environ), load_config(environ)
    assert len(first["SECRET_KEY"]) >= 32
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert first["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")


def test_production_without_certificate_signing_key_refuses_to_start():
    with pytest.raises(ConfigurationError, match="CERT_SIGNING_KEY is not set"):
        load_config({"APP_ENV": "production", "SECRET_KEY": STRONG, "DATABASE_URL": "sqlite://"})


PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": STRONG,
    "DATABASE_URL": "sqlite://",
    "CERT_SIGNING_KEY": SIGNING_KEY,
    "AUDIT_KEY": AUDIT_KEY,
    "METRICS_TOKEN": METRICS_TOKEN,
    "DATA_ENCRYPTION_KEY": DATA_KEY,
}


def without(name: str) -> dict:
    return {key: value for key, value in PRODUCTION.items() if key != name}


def test_production_without_audit_key_refuses_to_start():
    with pytest.raises(ConfigurationError) as refused:
        load_config(without("AUDIT_KEY"))
    assert str(refused.value) == "refusing to start: AUDIT_KEY is not set"


def test_production_with_a_short_audit_key_refuses_to_start():
    with pytest.raises(ConfigurationError) as refused:
        load_config({**PRODUCTION, "AUDIT_KEY": "x" * 31})
    assert str(refused.value) == "refusing to start: AUDIT_KEY is shorter than 32 characters"


def test_production_takes_the_audit_key_from_the_environment():
    assert load_config({**PRODUCTION, "AUDIT_KEY": AUDIT_KEY})["AUDIT_KEY"] == AUDIT_KEY


def test_development_generates_an_audit_key_once_and_keeps_it(tmp_path):
    environ = {"APP_ENV": "development", "INSTANCE_PATH": str(tmp_path)}
    first, second = load_config(environ), load_config(environ)
    assert len(first["AUDIT_KEY"]) >= 32 and first["AUDIT_KEY"] == second["AUDIT_KEY"]
    assert first["AUDIT_KEY"] != first["SECRET_KEY"]
    assert (tmp_path / "audit_key").stat().st_mode & 0o777 == 0o600


def test_testing_generates_an_audit_key_per_run():
    first, second = load_config({"APP_ENV": "testing"}), load_config({"APP_ENV": "testing"})
    assert len(first["AUDIT_KEY"]) >= 32 and first["AUDIT_KEY"] != second["AUDIT_KEY"]


def test_a_signing_key_that_is_not_ed25519_is_refused_without_echoing_it():
    with pytest.raises(ConfigurationError, match="not an unencrypted Ed25519") as refused:
        load_config({"APP_ENV": "testing", "CERT_SIGNING_KEY": "not-a-key-SECRETVALUE"})
    assert "SECRETVALUE" not in str(refused.value)


def test_signing_key_with_escaped_newlines_is_accepted():
    escaped = SIGNING_KEY.strip().replace("\n", "\\n")
    config = load_config({"APP_ENV": "testing", "CERT_SIGNING_KEY": escaped})
    assert config["CERT_SIGNING_KEY"] == SIGNING_KEY


def test_development_generates_a_signing_key_once_and_keeps_it(tmp_path):
    environ = {"APP_ENV": "development", "INSTANCE_PATH": str(tmp_path)}
    first, second = load_config(environ), load_config(environ)
    assert first["CERT_SIGNING_KEY"].startswith("-----BEGIN PRIVATE KEY-----")
    assert first["CERT_SIGNING_KEY"] == second["CERT_SIGNING_KEY"]
    assert (tmp_path / "cert_signing_key.pem").stat().st_mode & 0o777 == 0o600


def test_require_verified_defaults_to_off_and_reads_the_environment():
    assert load_config({"APP_ENV": "testing"})["REQUIRE_VERIFIED"] is False
    assert load_config({"APP_ENV": "testing", "REQUIRE_VERIFIED": "true"})["REQUIRE_VERIFIED"]


def test_token_lifetime_comes_from_the_environment():
    config = load_config({"APP_ENV": "testing", "ACCESS_TOKEN_MINUTES": "15"})
    assert config["ACCESS_TOKEN_MINUTES"] == 15


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigurationError, match="APP_ENV"):
        load_config({"APP_ENV": "staging"})


def test_production_without_metrics_token_refuses_to_start():
    with pytest.raises(ConfigurationError, match="METRICS_TOKEN is not set"):
        load_config(without("METRICS_TOKEN"))


def test_production_with_short_metrics_token_refuses_to_start():
    with pytest.raises(ConfigurationError, match="METRICS_TOKEN is shorter than 16"):
        load_config({**PRODUCTION, "METRICS_TOKEN": "m" * 15})


def test_production_starts_with_every_secret_set():
    config = load_config(PRODUCTION)
    assert config["METRICS_TOKEN"] == METRICS_TOKEN


def test_only_the_tests_hash_passwords_below_owasps_parameters(tmp_path):
    development = {"APP_ENV": "development", "INSTANCE_PATH": str(tmp_path)}
    assert load_config(PRODUCTION)["PASSWORD_HASHING"] == "owasp"
    assert load_config(development)["PASSWORD_HASHING"] == "owasp"
    assert load_config({"APP_ENV": "testing"})["PASSWORD_HASHING"] == "testing"


def test_booking_settings_default_to_dhaka_at_three_pm_and_four_members():
    config = load_config({"APP_ENV": "testing"})
    assert (config["BOOKING_CUTOFF"], config["TIMEZONE"], config["MAX_MEMBERS"]) == (
        "15:00",
        "Asia/Dhaka",
        4,
    )
    assert load_config({"APP_ENV": "testing", "BOOKING_CUTOFF": "off"})["BOOKING_CUTOFF"] is None


@pytest.mark.parametrize(
    "name, value",
    [("BOOKING_CUTOFF", "25:00"), ("TIMEZONE", "Mars/Olympus"), ("MAX_MEMBERS", "7")],
)
def test_bad_booking_settings_refuse_to_start(name, value):
    with pytest.raises(ConfigurationError, match=name):
        load_config({"APP_ENV": "testing", name: value})
