"""Routes of backend/audit/routes.py and the audit trail they show."""

import itertools
import json
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from backend.audit import services as audit_services
from backend.extensions import db
from tests.conftest import DEFAULT_PASSWORD
from tests.factories import registration
from tests.outbox import body_of, code_in
from tests.server import gunicorn, request
from tests.tampering import chain_holds, keyed, plain_sha256, tamper

# --- The audit trail: what is recorded, what never is, and the hash chain that shows tampering.

WRONG_KEY = "not-the-audit-key-0123456789abcdef-0123456789"


def events(client, headers, **filters):
    response = client.get("/audit", query_string={"page_size": 100, **filters}, headers=headers)
    assert response.status_code == 200
    return response.get_json()


def test_a_journey_is_recorded_without_secrets(client, auth, mailbox):
    admin_id, admin = auth.admin()
    body = registration(email="journey@example.org", nid="4455667788")
    user_id = client.post("/auth/register", json=body).get_json()["id"]
    client.post("/auth/token", data={"username": "journey@example.org", "password": "wrong one"})
    token = auth.token("journey@example.org")
    headers = {"Authorization": f"Bearer {token}"}
    client.post("/auth/password/forgot", json={"email": "journey@example.org"})
    code = code_in(body_of(mailbox.wait_for("journey@example.org")[-1]))
    reset = {"email": "journey@example.org", "code": code, "new_password": "second passphrase"}
    assert client.post("/auth/password/reset", json=reset).status_code == 204
    headers = auth.headers("journey@example.org", "second passphrase")
    change = {"current_password": "second passphrase", "new_password": "third passphrase"}
    assert client.put("/users/me/password", json=change, headers=headers).status_code == 204
    client.patch(f"/users/{user_id}", json={"verified": True}, headers=admin)
    assert client.post("/auth/logout", headers=headers).status_code == 204
    client.delete(f"/users/{user_id}", headers=admin)

    trail = events(client, admin, subject_id=user_id)
    assert [e["event"] for e in reversed(trail)] == [
        "account.registered",
        "sign_in.failed",
        "sign_in.succeeded",
        "password_reset.requested",
        "password_reset.completed",
        "security_notice.sent",
        "sign_in.succeeded",
        "password.changed",
        "security_notice.sent",
        "account.updated",
        "sign_out",
        "account.closed",
        "security_notice.sent",
    ]
    assert trail[1]["event"] == "account.closed" and trail[1]["actor_id"] == admin_id
    assert all(e["client_address"] == "127.0.0.1" and e["request_id"] for e in trail)
    dumped = json.dumps(events(client, admin))
    for secret in (
        DEFAULT_PASSWORD,
        "second passphrase",
        "third passphrase",
        code,
        token,
        "4455667788",
    ):
        assert secret not in dumped


def test_failed_code_guesses_and_resets_are_recorded_without_the_code(client, auth, mailbox):
    _, admin = auth.admin()
    user_id, headers = auth.citizen(email="guess@example.org", nid="4455667799")
    client.post("/auth/password/forgot", json={"email": "guess@example.org"})
    code = code_in(body_of(mailbox.wait_for("guess@example.org")[-1]))
    wrong = "000000" if code != "000000" else "111111"
    client.post("/auth/password/verify", json={"email": "guess@example.org", "code": wrong})
    reset = {"email": "guess@example.org", "code": wrong, "new_password": "fresh passphrase"}
    assert client.post("/auth/password/reset", json=reset).status_code == 400
    personal = {**reset, "code": code, "new_password": "pw 4455667799 pw"}
    assert client.post("/auth/password/reset", json=personal).status_code == 422
    client.post("/auth/verify/request", headers=headers)
    client.post("/auth/verify/confirm", json={"code": "12"}, headers=headers)

    trail = list(reversed(events(client, admin, subject_id=user_id)))
    failures = [(e["event"], e["details"]) for e in trail if "fail" in e["event"]]
    assert failures == [
        ("code.guess_failed", {"purpose": "password_reset"}),
        ("password_reset.failed", {"reason": "code"}),
        ("code.guess_failed", {"purpose": "password_reset"}),
        ("password_reset.failed", {"reason": "password"}),
        ("code.guess_failed", {"purpose": "verify_contact"}),
    ]
    dumped = json.dumps(trail)
    assert code not in dumped and wrong not in dumped and "4455667799" not in dumped


def test_audit_is_for_admins_only(client, auth):
    _, citizen = auth.citizen()
    assert client.get("/audit", headers=citizen).status_code == 403


def test_filters_by_event_actor_and_time(client, auth):
    admin_id, admin = auth.admin()
    auth.citizen(email="f@example.org")
    auth.token("f@example.org")
    assert {e["event"] for e in events(client, admin, event="sign_in.succeeded")} == {
        "sign_in.succeeded"
    }
    assert all(e["actor_id"] == admin_id for e in events(client, admin, actor_id=admin_id))
    assert events(client, admin, since=datetime.now(UTC).replace(year=2100).isoformat()) == []


def verify(app):
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def test_verify_names_the_first_altered_row(app, client, auth):
    auth.citizen(email="v@example.org")
    for _ in range(3):
        client.post("/auth/token", data={"username": "v@example.org", "password": "nope nope"})
    assert "intact: 4 events" in verify(app).output
    with app.app_context():
        second = db.session.execute(text("SELECT id FROM audit_events ORDER BY id")).all()[2].id
        tamper(f"UPDATE audit_events SET client_address = '10.6.6.6' WHERE id = {second}")
    result = verify(app)
    assert result.exit_code == 1
    assert f"broken at event #{second}" in result.output


def test_verify_notices_removed_newest_rows(app, client, auth):
    auth.citizen(email="w@example.org")
    client.post("/auth/token", data={"username": "w@example.org", "password": "nope nope"})
    with app.app_context():
        tamper("DELETE FROM audit_events WHERE id = (SELECT MAX(id) FROM audit_events)")
    result = verify(app)
    assert result.exit_code == 1 and "removed" in result.output


def failed_sign_ins(client, auth, email: str, count: int = 3) -> None:
    auth.citizen(email=email)
    for _ in range(count):
        client.post("/auth/token", data={"username": email, "password": "nope nope"})


def test_the_chain_is_hmac_sha256_under_the_audit_key(app, client, auth):
    failed_sign_ins(client, auth, "k@example.org")
    with app.app_context():
        assert chain_holds(keyed(app.config["AUDIT_KEY"]))
        assert not chain_holds(plain_sha256)


@pytest.mark.parametrize("digest", [plain_sha256, keyed(WRONG_KEY)], ids=["sha256", "wrong-key"])
def test_an_edited_row_in_a_recomputed_chain_is_caught(app, client, auth, digest):
    failed_sign_ins(client, auth, "e@example.org")
    with app.app_context():
        tamper("UPDATE audit_events SET client_address = '10.6.6.6'", rechain_with=digest)
        assert chain_holds(digest)  # every link holds, as far as the attacker can tell
    result = verify(app)
    assert result.exit_code == 1 and "broken at event #1" in result.output, result.output


def test_a_deleted_row_in_a_recomputed_chain_is_caught(app, client, auth):
    failed_sign_ins(client, auth, "d@example.org")
    with app.app_context():
        tamper(
            "DELETE FROM audit_events WHERE event = 'sign_in.failed' AND id = "
            "(SELECT MIN(id) FROM audit_events WHERE event = 'sign_in.failed')",
            rechain_with=plain_sha256,
        )
    result = verify(app)
    assert result.exit_code == 1 and "broken at event" in result.output, result.output


def test_only_the_key_makes_a_recomputed_chain_pass(app, client, auth):
    """The control for the two tests above: their attack is faithful, the key is what stops it."""
    failed_sign_ins(client, auth, "c@example.org")
    with app.app_context():
        tamper(
            "UPDATE audit_events SET client_address = '10.6.6.6'",
            rechain_with=keyed(app.config["AUDIT_KEY"]),
        )
    assert verify(app).exit_code == 0


def test_verify_under_a_wrong_audit_key_fails(app, client, auth, monkeypatch):
    failed_sign_ins(client, auth, "w@example.org")
    monkeypatch.setitem(app.config, "AUDIT_KEY", WRONG_KEY)
    result = verify(app)
    assert result.exit_code == 1 and "broken at event #1" in result.output, result.output


def test_verify_prints_the_heads_to_keep_outside_the_database(app, client, auth):
    failed_sign_ins(client, auth, "h@example.org", count=1)
    with app.app_context():
        chain, head = db.session.execute(
            text("SELECT chain, hash FROM audit_events ORDER BY id DESC LIMIT 1")
        ).one()
    assert verify(app).output.splitlines() == [
        "audit chain intact: 2 events in 1 chains",
        f"chain {chain} head {head}",
    ]


@pytest.fixture
def two_chains(monkeypatch):
    """Appends alternate between chains 2 and 3, as two workers' would."""
    chains = itertools.cycle([2, 3])
    monkeypatch.setattr(audit_services, "chain_of_this_worker", lambda: next(chains))


def chain_rows(app, chain: int) -> list[int]:
    with app.app_context():
        query = text("SELECT id FROM audit_events WHERE chain = :chain ORDER BY id")
        return [row.id for row in db.session.execute(query, {"chain": chain})]


def test_events_go_to_several_chains_that_each_verify(app, client, auth, two_chains):
    failed_sign_ins(client, auth, "s@example.org", count=5)
    assert len(chain_rows(app, 2)) == len(chain_rows(app, 3)) == 3
    result = verify(app)
    assert result.exit_code == 0 and "intact: 6 events in 2 chains" in result.output
    with app.app_context():
        assert chain_holds(keyed(app.config["AUDIT_KEY"]))


def test_an_altered_row_in_one_chain_is_named(app, client, auth, two_chains):
    failed_sign_ins(client, auth, "t@example.org", count=5)
    altered = chain_rows(app, 3)[1]
    with app.app_context():
        tamper(f"UPDATE audit_events SET client_address = '10.6.6.6' WHERE id = {altered}")
    result = verify(app)
    assert result.exit_code == 1 and f"broken at event #{altered}" in result.output


def test_the_newest_row_of_one_chain_removed_is_noticed(app, client, auth, two_chains):
    failed_sign_ins(client, auth, "u@example.org", count=5)
    newest_of_chain_2 = chain_rows(app, 2)[-1]
    assert newest_of_chain_2 != max(chain_rows(app, 3))  # not the trail's newest row
    with app.app_context():
        tamper(f"DELETE FROM audit_events WHERE id = {newest_of_chain_2}")
    result = verify(app)
    assert result.exit_code == 1 and "removed" in result.output


def test_a_row_moved_to_another_chain_breaks_both(app, client, auth, two_chains):
    failed_sign_ins(client, auth, "m@example.org", count=5)
    moved = chain_rows(app, 2)[1]
    with app.app_context():
        tamper(f"UPDATE audit_events SET chain = 3 WHERE id = {moved}")
    result = verify(app)
    assert result.exit_code == 1 and "broken at event" in result.output


def test_a_chain_is_chosen_per_worker_within_audit_chains(app, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_CHAINS", 4)
    with app.app_context():
        assert audit_services.chain_of_this_worker() == os.getpid() % 4 + 1


def test_postgres_refuses_changes_to_the_trail(app, client, auth, postgres_url):
    auth.citizen(email="x@example.org")
    with app.app_context(), pytest.raises(DBAPIError, match="append-only"):
        with db.engine.begin() as connection:
            connection.execute(text("DELETE FROM audit_events"))


def test_concurrent_appends_keep_every_chain(app, auth, postgres_url):
    auth.citizen(email="race@example.org")
    form = b"username=race%40example.org&password=wrong+password"
    # The server writes the chain under the key this app verifies it with.
    with gunicorn(postgres_url, workers=4, AUDIT_KEY=app.config["AUDIT_KEY"]) as base:

        def attempt(_):
            return request(
                "POST",
                f"{base}/auth/token",
                data=form,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )[0]

        with ThreadPoolExecutor(16) as pool:
            assert set(pool.map(attempt, range(32))) == {400}
    result = verify(app)
    assert "intact: 33 events" in result.output, result.output


def test_registry_events_are_recorded(client, registry):
    approved, _ = registry.approved()
    rejected, _ = registry.pending()
    registry.review(rejected, "reject", reason="Wrong center")
    cancelled, owner = registry.pending()
    client.delete(f"/vaccinations/{cancelled}", headers=owner)
    registry.review(approved, "revoke", reason="Entered in error")
    recorded = [
        (e["event"], e["subject_id"])
        for e in events(client, registry.officer)
        if e["subject_type"] == "vaccination"
    ]
    assert set(recorded) == {
        ("vaccination.registered", approved),
        ("vaccination.approved", approved),
        ("certificate.issued", approved),
        ("certificate.revoked", approved),
        ("vaccination.registered", rejected),
        ("vaccination.rejected", rejected),
        ("vaccination.registered", cancelled),
        ("vaccination.cancelled", cancelled),
    }


def test_catalogue_changes_by_admins_are_recorded(client, auth):
    admin_id, admin = auth.admin()
    center = client.post(
        "/centers",
        json={"name": "Audit Center", "city": "Sylhet", "address": "1 Road"},
        headers=admin,
    ).get_json()
    client.patch(f"/centers/{center['id']}", json={"active": False}, headers=admin)
    client.delete(f"/centers/{center['id']}", headers=admin)
    trail = [
        (e["event"], e["actor_id"], e["details"])
        for e in events(client, admin, subject_id=center["id"])
        if e["subject_type"] == "center"
    ]
    assert [event for event, _, _ in reversed(trail)] == [
        "center.created",
        "center.updated",
        "center.deleted",
    ]
    assert all(actor == admin_id for _, actor, _ in trail)
    assert trail[1][2] == {"fields": ["active"]}


@pytest.mark.parametrize(
    "sent", ["approved-by:admin2:ticket-4711", "a" * 65, "two words", "semi;colon"]
)
def test_a_request_id_that_could_read_as_something_else_is_replaced(client, auth, sent):
    _, admin = auth.admin()
    response = client.post("/auth/register", json=registration(), headers={"X-Request-ID": sent})
    generated = response.headers["X-Request-ID"]
    assert response.status_code == 201 and generated != sent
    assert len(generated) == 32 and int(generated, 16) >= 0
    [event] = events(client, admin, event="account.registered")
    assert event["request_id"] == generated


def test_a_plain_request_id_of_up_to_64_characters_is_kept(client, auth):
    _, admin = auth.admin()
    sent = "trace-42_A." + "x" * 53
    response = client.post("/auth/register", json=registration(), headers={"X-Request-ID": sent})
    assert response.headers["X-Request-ID"] == sent
    [event] = events(client, admin, event="account.registered")
    assert event["request_id"] == sent


def test_downgrading_0010_merges_the_chains_into_one_that_verifies(app, client, auth, two_chains):
    failed_sign_ins(client, auth, "g@example.org", count=5)
    with app.app_context():
        downgrade(revision="0009")
        assert chain_holds(keyed(app.config["AUDIT_KEY"]))  # one chain, in id order
        newest = db.session.scalar(text("SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1"))
        assert db.session.execute(text("SELECT id, last_hash FROM audit_head")).all() == [
            (1, newest)
        ]
        db.session.remove()
        upgrade()
    assert "intact: 6 events in 1 chains" in verify(app).output
