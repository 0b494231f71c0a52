"""The rush's staff: a health officer (admin) who opens centers and sessions, and vaccinators.

Each center the rush opens gets its own vaccinator, created through the API (`POST /staff`) as
an admin would, who signs in and enrols in two-factor sign-in (production keeps
REQUIRE_STAFF_MFA on; pyotp computes the authenticator app's code) before the center's session
is published. Staff sign in from their own loopback addresses (127.200.0.0/16), apart from the
citizens', so the per-address sign-in throttle counts them as it would real desks.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import pyotp
import requests
from rush_journey import SourceAddress

STAFF_NIDS = 8_000_000_000  # staff NIDs: 10 digits from here, apart from the citizens' 17


@dataclass
class Desk:
    """One staff member's connection, from their own address, and their bearer once signed in."""

    base: str
    address: str
    http: requests.Session = field(default_factory=requests.Session)
    bearer: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.http.mount("http://", SourceAddress(self.address))

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        answer = self.http.request(method, self.base + path, headers=self.bearer, **kwargs)
        answer.raise_for_status()
        return answer

    def sign_in(self, email: str, password: str) -> None:
        form = {"username": email, "password": password}
        token = self.call("POST", "/auth/token", data=form).json()["access_token"]
        self.bearer = {"Authorization": f"Bearer {token}"}
        # Enrol in two-factor sign-in, as a real officer would with an authenticator app.
        secret = self.call(
            "POST", "/users/me/mfa/totp", json={"current_password": password}
        ).json()["secret"]
        self.call("POST", "/users/me/mfa/totp/confirm", json={"code": pyotp.TOTP(secret).now()})


def staff_address(k: int) -> str:
    return f"127.200.{k // 250}.{1 + k % 250}"


def officer(base: str, run: int, create_admin) -> Desk:
    """The run's health officer: an admin made with the CLI (`create_admin`), signed in."""
    email, password = f"rush-officer-{run}@example.org", secrets.token_urlsafe(18)
    create_admin(email, password)
    desk = Desk(base, staff_address(0))
    desk.sign_in(email, password)
    return desk


def vaccinator(officer: Desk, run: int, center_id: int, k: int) -> dict:
    """A new vaccinator of `center_id` (the officer creates the account), signed in: the bearer."""
    email, password = f"rush-vaccinator-{run}-{k}@example.org", secrets.token_urlsafe(18)
    staff = {"name": f"Rush Vaccinator {k}", "email": email, "password": password,
             "center_id": center_id, "nid": str(STAFF_NIDS + run % 10**6 * 1000 + k)}  # fmt: skip
    officer.call("POST", "/staff", json=staff)
    desk = Desk(officer.base, staff_address(k + 1))
    desk.sign_in(email, password)
    return desk.bearer


def release_places(rush, k: int) -> None:
    """The officer opens the k-th center, with its vaccinator, and publishes its session today:
    about half the places last interval's demand wanted, so capacity stays below demand.

    A call that fails (inside a fault's window) leaves the release for the next interval.
    """
    wanted = rush.tally.booking_attempts - rush.tally.places_released * 2
    capacity = max(1, wanted // 2) if k else 2
    center = {"name": f"Rush center {rush.run}-{k}", "city": rush.city, "address": f"{k} Rush Road"}
    try:
        center_id = rush.officer.call("POST", "/centers", json=center).json()["id"]
        rush.centers.append(center_id)
        rush.vaccinators[center_id] = vaccinator(rush.officer, rush.run, center_id, k)
        session = {"center_id": center_id, "vaccine_id": rush.vaccine_id,
                   "date": rush.day.isoformat(), "capacity": capacity}  # fmt: skip
        rush.officer.call("POST", "/sessions", json=session)
    except requests.RequestException as error:
        print(f"  release {k}: {error}")
        return
    rush.tally.places_released += capacity
