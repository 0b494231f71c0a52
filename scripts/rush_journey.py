"""The rush's virtual citizen (a Locust user) and the officer who releases places and approves.

A citizen registers, signs in, searches the rush's sessions, books a place (201, or 409 when
every place is taken), reads its appointments, and, when it got a place, an officer approves the
booked registration (`POST /vaccinations/<id>/approve`: the vaccinator role does not exist yet).
Then the same Locust user starts over as a new citizen.

Each citizen connects from its own loopback address (127.1.0.0/16 and up): the stack's app
trusts one proxy (TRUSTED_PROXIES=1), so it reads the address HAProxy appends to
X-Forwarded-For, never one a client sends; a per-address throttle therefore sees one address
per citizen, as it would on the internet, and the rush needs no raised limits.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import date, timedelta

from locust import HttpUser, constant, task
from locust.clients import HttpSession
from requests.adapters import HTTPAdapter
from rush_tally import Tally

PASSWORD = "rush hour passphrase"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class Rush:
    """What every citizen shares: the run's id, the officer's token, where the sessions are."""

    run: int
    tally: Tally
    officer: dict
    center_id: int
    vaccine_id: int
    first_day: date


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
            if self.book_and_approve(rush, client, n):
                rush.tally.journey_done()
        finally:
            client.close()

    def book_and_approve(self, rush: Rush, client: HttpSession, n: int) -> bool:
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
        query = {"center_id": rush.center_id, "vaccine_id": rush.vaccine_id, "page_size": 100}
        with client.get("/sessions", params=query, catch_response=True) as answer:
            if answer.status_code != 200:
                return False
            sessions = answer.json()
        open_ones = [s["id"] for s in sessions if s["available"] > 0] or [s["id"] for s in sessions]
        if not open_ones:
            return False
        booking = {"session_id": random.choice(open_ones)}
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
        return self.approve(rush, appointment["vaccination_id"])

    def approve(self, rush: Rush, vaccination_id: int) -> bool:
        """The officer approves the booked registration (from the officer's own address)."""
        with self.client.post(
            f"/vaccinations/{vaccination_id}/approve",
            json={},
            headers=rush.officer,
            name="/vaccinations/<id>/approve",
            catch_response=True,
        ) as answer:
            if answer.status_code == 200:
                rush.tally.approved.add(vaccination_id)
            return answer.status_code == 200


def release_places(rush: Rush, client: HttpSession, k: int) -> None:
    """The officer publishes the k-th session: about half the places last interval's demand wanted.

    So total capacity stays below demand however fast the citizens come.
    """
    wanted = rush.tally.booking_attempts - rush.tally.places_released * 2
    capacity = max(1, wanted // 2) if k else 2
    session = {
        "center_id": rush.center_id,
        "vaccine_id": rush.vaccine_id,
        "date": (rush.first_day + timedelta(days=k)).isoformat(),
        "capacity": capacity,
    }
    answer = client.post("/sessions", json=session, headers=rush.officer, name="/sessions")
    if answer.status_code == 201:
        rush.tally.places_released += capacity
