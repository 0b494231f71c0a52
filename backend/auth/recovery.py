"""Password recovery: a reset code sent to the account's email (and phone), checked, then used."""

from __future__ import annotations

from backend import notify
from backend.audit.services import record
from backend.auth.codes import check_code, issue_code, refuse_guess
from backend.auth.lookups import look_up_account
from backend.auth.notices import notify_security_event
from backend.auth.passwords import hash_password
from backend.auth.policy import personal_problem
from backend.auth.services import find_account, revoke_all_tokens
from backend.errors import Invalid
from backend.extensions import db
from backend.models import CodePurpose, User

CODE_SENT = "If an account exists for this email, a code has been sent to it."


def request_password_reset(email: str) -> None:
    """Queue a reset code for the account with this email, if any; the answer never waits on it.

    Before the answer, known and unknown emails cost the same: one prepared lookup and one
    audit append. Issuing the code (an upsert and a commit) and its delivery run in the
    background, because doing them here made known emails measurably slower to answer.
    """
    account = look_up_account(email)
    record("password_reset.requested", subject_id=account["id"] if account else None)
    db.session.commit()
    if account is not None:
        notify.later(send_reset_code, account["id"])


def send_reset_code(user_id: int) -> None:
    """Issue a reset code to the open account `user_id` and send it by email (and SMS)."""
    user = db.session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        return
    code = issue_code(user, CodePurpose.PASSWORD_RESET)
    db.session.commit()
    notify.send(
        email=user.email,
        phone=user.phone_number if user.verified else None,
        subject="Your password reset code",
        text=f"Your password reset code is {code}. It expires in 10 minutes.\n"
        "If you did not ask for it, ignore this message; your password is unchanged.",
    )


def verify_reset_code(email: str, code: str) -> None:
    """400 unless `code` is the live reset code for `email` (it stays usable)."""
    user = find_account(email)
    if not check_code(user, CodePurpose.PASSWORD_RESET, code, consume=False):
        refuse_guess(user, CodePurpose.PASSWORD_RESET)
    db.session.commit()  # the guess's count, given back


def reset_password(email: str, code: str, new_password: str) -> None:
    """Use a reset code to set a new password; every token issued before it stops working.

    The code is proved (and the guess counted) before the password is held against the
    account's email and NID, so a wrong code learns nothing about the account. A password
    refused there keeps the code alive for another try.
    """
    user = find_account(email)
    if not check_code(user, CodePurpose.PASSWORD_RESET, code, consume=True):
        subject_id = user.id if user else None
        record("password_reset.failed", subject_id=subject_id, details={"reason": "code"})
        refuse_guess(user, CodePurpose.PASSWORD_RESET)
    problem = personal_problem(new_password, email=user.email, nid=user.nid)
    if problem:
        user_id = user.id
        db.session.rollback()  # the code is not used up: the next try needs no new code
        record("password_reset.failed", subject_id=user_id, details={"reason": "password"})
        db.session.commit()
        raise Invalid("new_password", problem)
    user.password_hash = hash_password(new_password)
    revoke_all_tokens(user)
    record("password_reset.completed", actor_id=user.id, subject_id=user.id)
    db.session.commit()
    notify_security_event(user, "password_reset")
