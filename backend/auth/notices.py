"""Security notices: a message to the account's owner after a change to how it is signed in to.

OWASP ASVS 2.2.3, 2.5.5: after a password change or reset, a new email or phone, two-factor
turned on or off, a recovery code used, the account closed, or a sign-in from a client not seen
on the account for 90 days (backend/auth/new_client.py), the owner hears of it by email
(and by SMS to a verified phone), so a change they did not make does not go unnoticed. Each
notice is also an audit event. A notice never carries a secret: no code, token or password;
a new email address is shown masked.
"""

from __future__ import annotations

from backend import clock, notify
from backend.audit.services import record
from backend.extensions import db
from backend.models import User

# event: (subject, what happened). Placeholders are filled from the caller's `details`.
NOTICES = {
    "password_changed": ("Your password was changed", "The password of your account was changed"),
    "password_reset": (
        "Your password was reset",
        "The password of your account was reset with a code sent to you",
    ),
    "email_changed": (
        "Your email address was changed",
        "The email address of your account was changed to {new_email}",
    ),
    "phone_changed": (
        "Your phone number was changed",
        "The phone number of your account was changed",
    ),
    "mfa_enabled": (
        "Two-factor sign-in was turned on",
        "Two-factor sign-in was turned on for your account",
    ),
    "mfa_disabled": (
        "Two-factor sign-in was turned off",
        "Two-factor sign-in was turned off for your account",
    ),
    "recovery_code_used": (
        "A recovery code was used",
        "One of your two-factor recovery codes was used to sign in to your account",
    ),
    "account_closed": ("Your account was closed", "Your account was closed"),
    "new_sign_in": (
        "New sign-in to your account",
        "Your account was signed in to from a device not seen on it in the last 90 days"
        " (address {address}, {user_agent})",
    ),
}
IF_NOT_YOU = (
    "If this was you, there is nothing to do. If it was not, reset your password now with"
    ' "Forgot password" and tell the registry\'s support.'
)
IF_NOT_YOU_CLOSED = "If this was not you, tell the registry's support now."


def mask_email(address: str) -> str:
    """`a***@example.org`: enough for the owner to recognise an address, not to use it."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"


def notify_security_event(
    user: User,
    event: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    **details: str,
) -> None:
    """Tell the owner of `user` about `event`, once: an audit event, and a background delivery.

    Call it after the change is committed (a rolled-back change sends nothing). It goes to
    `email` and `phone` when given (the old contact after a change, or before closing), else
    to the account's email and, when verified, its phone. It commits its audit event.
    """
    subject, happened = NOTICES[event]
    if email is None and phone is None:
        email = user.email
        phone = user.phone_number if user.verified else None
    if email and email.endswith(".invalid"):  # a walk-in's person record: no owner's address
        email = None
    when = clock.utcnow().strftime("%Y-%m-%d at %H:%M UTC")
    closing = IF_NOT_YOU_CLOSED if event == "account_closed" else IF_NOT_YOU
    text = f"{happened.format(**details)} on {when}.\n\n{closing}"
    channels = [name for name, to in (("email", email), ("sms", phone)) if to]
    record(  # sent by the registry itself: the event that caused it names who acted
        "security_notice.sent",
        subject_id=user.id,
        details={"notice": event, "channels": channels},
    )
    db.session.commit()
    # Queued on the delivery pool now, from the request's thread: a job queued with
    # `notify.later` that queues the send in turn can lose it to a pool shutting down.
    notify.send(email=email, phone=phone, subject=subject, text=text)
