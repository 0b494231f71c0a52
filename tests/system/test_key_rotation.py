"""`flask privacy rotate-key`: values under a retired key move under the current one, a batch
at a time, while requests keep working; a second run has nothing to do."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import Text, select, type_coerce

from backend.extensions import db
from backend.privacy import rotation
from backend.privacy.crypto import keyring, keyring_from
from tests.conftest import DEFAULT_PASSWORD

NEW_KEY = base64.urlsafe_b64encode(bytes(range(100, 132))).decode()


@pytest.fixture
def people(app, client, auth, registry):
    """Three citizens with an approved dose (certificates) under the key in use now."""
    people = []
    for n in range(3):
        email = f"rotating{n}@example.org"
        _, headers = auth.citizen(email=email, address=f"{n} Old Key Lane")
        registry.approved(headers)
        people.append((email, headers))
    return people


@pytest.fixture
def old_key(app, monkeypatch):
    """DATA_ENCRYPTION_KEY replaced, the old one retired (its id given), the blind-index key
    kept: the operator's steps before `flask privacy rotate-key`."""
    old = keyring_from(app.config)
    monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEY", NEW_KEY)
    monkeypatch.setitem(app.config, "DATA_ENCRYPTION_RETIRED_KEYS", [_key_text(old.current)])
    monkeypatch.setitem(app.config, "BLIND_INDEX_KEY", _key_text(old.blind_key))
    app.extensions.pop("privacy_keyring", None)
    yield old.current_id
    app.extensions.pop("privacy_keyring", None)


def _key_text(key: bytes) -> str:
    return base64.b64encode(key).decode()


def key_ids(app) -> set[str]:
    """The key ids of every stored encrypted value."""
    with app.app_context():
        ids = set()
        for columns in rotation.encrypted_columns().values():
            for column in columns:
                values = db.session.scalars(select(type_coerce(column, Text))).all()
                ids.update(value.split(":")[0] for value in values if value is not None)
        return ids


def test_values_under_the_retired_key_still_serve_requests(app, client, people, old_key):
    email, headers = people[0]
    assert client.get("/users/me", headers=headers).get_json()["email"] == email
    assert key_ids(app) == {old_key}


def test_rotation_moves_every_value_under_the_new_key(app, people, old_key):
    result = app.test_cli_runner().invoke(args=["privacy", "rotate-key", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "; 0 left" in result.output
    with app.app_context():
        assert key_ids(app) == {keyring().current_id} != {old_key}


def test_a_second_run_has_nothing_to_do(app, people, old_key):
    runner = app.test_cli_runner()
    runner.invoke(args=["privacy", "rotate-key"])
    again = runner.invoke(args=["privacy", "rotate-key"])
    assert again.exit_code == 0 and again.output.startswith("re-encrypted 0 values")


def test_requests_keep_working_between_batches(app, client, auth, people, old_key):
    batches = rotation.rotate(batch_size=1)
    seen = 0
    while True:
        with app.app_context():
            batch = next(batches, None)
        if batch is None:
            break
        seen += 1
        email, headers = people[seen % len(people)]
        assert client.get("/users/me", headers=headers).get_json()["email"] == email
        assert auth.token(email, DEFAULT_PASSWORD)  # sign-in finds the email by its index
        changed = client.patch("/users/me", json={"address": f"moved {seen}"}, headers=headers)
        assert changed.status_code == 200
    assert seen >= 2 * len(people)  # a batch is one row: the accounts, then the certificates
    with app.app_context():
        assert key_ids(app) == {keyring().current_id}


def test_the_derived_blind_index_key_is_printed_for_the_env_file(app):
    result = app.test_cli_runner().invoke(args=["privacy", "blind-index-key"])
    with app.app_context():
        expected = _key_text(keyring().blind_key)
    assert result.output.strip() == f"BLIND_INDEX_KEY={expected}"
