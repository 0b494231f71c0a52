"""The rush's virtual citizen (a Locust user) and the officer who opens centers and sessions.

A citizen registers, signs in, searches the day's sessions of the rush's city, books a place
(201, or 409 when every place is taken), reads its appointments, and, when it got a place, the
center's vaccinator gives the dose with the appointment's four-digit code and a batch
(`POST /appointments/<id>/administer`, on the session's day: the rush's sessions are today).
Then the same Locust user starts over as a new citizen.

Each citizen connects from its own loopback address (127.1.0.0/16 and up): the stack's app
trusts one proxy (TRUSTED_PROXIES=1), so it reads the address HAProxy appends to
X-Forwarded-For, never one a client sends; a per-address throttle therefore sees one address
per citizen, as it would on the internet, and the rush needs no raised limits.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import date

from locust import HttpUser, constant, task
from locust.clients import HttpSession
from requests.adapters import HTTPAdapter
from rush_tally import Tally

PASSWORD = "rush hour passphrase"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class Rush:
    """What every citizen shares: the run's id, its city and day, each center's vaccinator."""

    run: int
    tally: Tally
    officer: object  # rush_staff.Desk
    city: str
    vaccine_id: int
    day: date
    centers: list = field(default_factory=list)  # the run's centers, for the audit
    vaccinators: dict = field(default_factory=dict)  # center id -> a vaccinator's bearer


RUSH: Rush | None = None  # set by scripts/rush.py before the first user starts
CITIZENS = itertools.count(1)


class SourceAddress(HTTPAdapter):
    """Connections from one loopback address, so the balancer and the app see it as the client."""

    def __init__(self, address: str):
        self.address = address
        super().__init__(pool_connections=1, pool_maxsize=1)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def loopback(n: int) -> str:
    """The n-th citizen's address: 127.1.0.1, 127.1.0.2, ... (any 127/8 address is local)."""
    return f"127.{1 + n // 65_000}.{n % 65_000 // 250}.{1 + n % 250}"


class Citizen(HttpUser):
    wait_time = constant(0)

    @task
    def journey(self) -> None:
        rush, n = RUSH, next(CITIZENS)
        client = HttpSession(self.host, self.environment.events.request, self)
        client.mount("http://", SourceAddress(loopback(n)))
        try:
            if self.book_and_administer(rush, client, n):
                rush.tally.journey_done()
        finally:
            client.close()

    def book_and_administer(self, rush: Rush, client: HttpSession, n: int) -> bool:
        """One citizen's journey; True when every step answered as the service promises."""
        email = f"rush{rush.run}-{n}@example.org"
        person = {
            "name": f"Rush Citizen {n}",
            "email": email,
            "password": PASSWORD,
            "nid": f"9{rush.run % 10**9:09d}{n:07d}",
            "phone_number": f"+88017{n % 10**8:08d}",
            "date_of_birth": "1990-01-01",
        }
        with client.post("/auth/register", json=person, catch_response=True) as answer:
            if answer.status_code != 201:
                return False
            user_id = answer.json()["id"]
        form = {"username": email, "password": PASSWORD}
        with client.post("/auth/token", data=form, headers=FORM, catch_response=True) as answer:
            if answer.status_code != 200:
                return False
            bearer = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        day = rush.day.isoformat()
        query = {"city": rush.city, "vaccine_id": rush.vaccine_id, "date_from": day,
                 "date_to": day, "page_size": 100}  # fmt: skip
        with client.get("/sessions", params=query, catch_response=True) as answer:
            if answer.status_code != 200:
                return False
            sessions = answer.json()
        open_ones = [s for s in sessions if s["available"] > 0] or sessions
        if not open_ones:
            return False
        session = random.choice(open_ones)
        booking = {"session_id": session["id"]}
        with client.post(
            "/appointments", json=booking, headers=bearer, catch_response=True
        ) as answer:
            status = answer.status_code
            appointment = answer.json() if status == 201 else None
            rush.tally.booking(user_id, status, appointment and appointment["id"])
            if status == 409:
                answer.success()  # a full session is the expected answer in a rush
            elif status != 201:
                return False
        with client.get("/appointments/me", headers=bearer, catch_response=True) as answer:
            if answer.status_code != 200:
                return False
        if appointment is None:
            return True
        return self.administer(rush, appointment, session["center"]["id"])

    def administer(self, rush: Rush, appointment: dict, center_id: int) -> bool:
        """The center's vaccinator gives the dose with the person's code (from the staff desk)."""
        vaccination_id = appointment["vaccination_id"]
        with self.client.post(
            f"/appointments/{appointment['id']}/administer",
            json={"code": appointment["code"], "batch": f"RUSH-{rush.run}"},
            headers=rush.vaccinators[center_id],
            name="/appointments/<id>/administer",
            catch_response=True,
        ) as answer:
            rush.tally.administer(vaccination_id, answer.status_code)
            return answer.status_code == 200
