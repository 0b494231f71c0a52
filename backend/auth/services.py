"""Account creation and sign-in rules, kept out of the views."""

from __future__ import annotations

from sqlalchemy import select

from backend.auth.passwords import hash_password, needs_rehash, verify_password
from backend.extensions import db
from backend.models import Role, User


def register_citizen(
    *,
    name: str,
    email: str,
    password: str,
    nid: str,
    phone_number: str,
    address: str | None = None,
    **_ignored,
) -> User:
    """Create a citizen account; duplicates are settled by the unique constraints (409)."""
    user = User(
        name=name,
        email=email,
        password_hash=hash_password(password),
        role_id=Role.CITIZEN,
        nid=nid,
        phone_number=phone_number,
        address=address or None,
        verified=False,
    )
    db.session.add(user)
    db.session.commit()
    return user


def create_admin(
    *, name: str, email: str, password: str, nid: str | None = None, phone_number: str | None = None
) -> User:
    """Create a health-officer (admin) account, as the command line does."""
    user = User(
        name=name,
        email=email,
        password_hash=hash_password(password),
        role_id=Role.ADMIN,
        nid=nid,
        phone_number=phone_number,
        verified=True,
    )
    db.session.add(user)
    db.session.commit()
    return user


def check_credentials(email: str, password: str) -> User | None:
    """The account for these credentials, or None; always costs one hash verification."""
    user = db.session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if not verify_password(user.password_hash if user else None, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.session.commit()
    return user
