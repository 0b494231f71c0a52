"""Retention: what is left of an account some time after it was closed.

Closing an account (backend/auth/services.py) already ends sign-in and erases contact details.
After the retention period the rest of the person goes too: name, NID, date of birth, phone,
address, credentials and second factor, for the account and its family members. What stays is
the vaccination history under the account's and members' ids (pseudonymous once the names are
gone) and the NID's blind index, so a person who comes back is recognised (their NID is still
taken) without the registry being able to read it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select, update

from backend import clock
from backend.audit.services import record
from backend.extensions import db
from backend.models import Correction, Member, MfaChallenge, OneTimeCode, RecoveryCode, User
from backend.privacy.fields import index_of

PURGED_PASSWORD = "!purged"


def purgeable(older_than_days: int) -> list[int]:
    """Ids of accounts closed more than `older_than_days` ago and not yet purged."""
    cutoff = clock.utcnow() - timedelta(days=older_than_days)
    query = select(User.id).where(
        User.deleted_at.is_not(None),
        User.deleted_at < cutoff,
        User.password_hash != PURGED_PASSWORD,
    )
    return list(db.session.scalars(query.order_by(User.id)))


def purge_closed(older_than_days: int) -> int:
    """Purge every account closed longer ago than that, one transaction and audit event each;
    returns how many. Running it again purges nothing more."""
    user_ids = purgeable(older_than_days)
    for user_id in user_ids:
        purge_account(user_id)
    return len(user_ids)


def purge_account(user_id: int) -> None:
    """Remove the person's data from a closed account and its members; keep the NID's index."""
    email = f"purged-{user_id}@accounts.invalid"
    # Bulk statements: the NID goes but its blind index stays (the flush hook would clear it).
    db.session.execute(
        update(User)
        .where(User.id == user_id)
        .values(
            name=f"Purged account {user_id}",
            email=email,
            email_index=index_of("email", email),
            phone_number=None,
            phone_index=None,
            address=None,
            nid=None,
            date_of_birth=None,
            password_hash=PURGED_PASSWORD,
            verified=False,
            kept_jti=None,
            mfa_enabled=False,
            mfa_secret=None,
            mfa_last_step=None,
        )
        .execution_options(synchronize_session=False)
    )
    members = db.session.execute(
        update(Member)
        .where(Member.user_id == user_id)
        .values(
            name="Purged member",
            nid=None,
            date_of_birth=None,
            deleted_at=func.coalesce(Member.deleted_at, clock.utcnow()),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.execute(
        update(Correction)
        .where(Correction.user_id == user_id)
        .values(name=None, date_of_birth=None)
        .execution_options(synchronize_session=False)
    )
    for model in (OneTimeCode, RecoveryCode, MfaChallenge):
        db.session.execute(delete(model).where(model.user_id == user_id))
    record("account.purged", subject_id=user_id, details={"members": members})
    db.session.commit()
