"""A session's places, taken and given back only by conditional UPDATEs of its `booked` count.

Taking a place is one statement, `booked = booked + 1 WHERE booked < capacity`, never a read
then a write: the row lock serialises concurrent bookings and PostgreSQL re-checks the WHERE
against the row as the previous booking left it, so the last place goes to exactly one request
across all workers and instances. The CHECK booked <= capacity is the database's own backstop.
"""

from __future__ import annotations

from sqlalchemy import select, update

from backend.errors import SessionFull
from backend.extensions import db
from backend.models import SessionStatus, VaccinationSession
from backend.vaccination.services import invalid

SESSIONS = VaccinationSession.__table__
OPEN = SESSIONS.c.status == SessionStatus.OPEN


def take(session_id: int) -> None:
    """Take one place in the session, in this transaction; SessionFull when none is left."""
    taken = db.session.execute(
        update(SESSIONS)
        .where(SESSIONS.c.id == session_id, OPEN, SESSIONS.c.booked < SESSIONS.c.capacity)
        .values(booked=SESSIONS.c.booked + 1)
    )
    if taken.rowcount == 1:
        return
    status = db.session.scalar(select(SESSIONS.c.status).where(SESSIONS.c.id == session_id))
    if status != SessionStatus.OPEN:
        invalid("session_id", "This session was cancelled.")
    raise SessionFull("Every place in this session is booked; choose another session.")


def give_back(session_id: int) -> None:
    """Return one place to an open session, in this transaction (a cancelled one has none)."""
    db.session.execute(
        update(SESSIONS)
        .where(SESSIONS.c.id == session_id, OPEN, SESSIONS.c.booked > 0)
        .values(booked=SESSIONS.c.booked - 1)
    )
