"""Revision 0014_sessions: its downgrade keeps sign-outs as revocations; tokens from before the
upgrade (no session row) are refused after it."""

from datetime import timedelta

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from backend import clock
from backend.extensions import db


def test_the_downgrade_turns_ended_live_tokens_into_revocations(app, client, auth):
    out_id, signed_out = auth.citizen(email="out@example.org")
    assert client.post("/auth/logout", headers=signed_out).status_code == 204
    expired_id, expired = auth.citizen(email="expired@example.org")
    assert client.post("/auth/logout", headers=expired).status_code == 204
    _, live = auth.citizen(email="live@example.org")
    with app.app_context():
        db.session.execute(
            text("UPDATE sessions SET expires_at = :past WHERE user_id = :user_id"),
            {"past": clock.utcnow() - timedelta(minutes=1), "user_id": expired_id},
        )
        db.session.commit()
        signed_out_jti = db.session.scalar(
            text("SELECT jti FROM sessions WHERE user_id = :user_id"), {"user_id": out_id}
        )
        db.session.remove()
        downgrade(revision="0013_encryption")
        try:
            assert "sessions" not in inspect(db.engine).get_table_names()
            revoked = db.session.scalars(text("SELECT jti FROM revoked_tokens")).all()
            db.session.remove()
        finally:
            upgrade()
    assert revoked == [signed_out_jti]
    assert client.get("/users/me", headers=live).status_code == 401  # no session row any more
    assert client.get("/users/me", headers=auth.headers("live@example.org")).status_code == 200
