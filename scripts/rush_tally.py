"""What the rush's clients saw: counts and latencies per second and per phase, every booking answer.

Memory stays bounded: latencies are kept as counts per whole millisecond (per second of the run
and per phase), errors as at most MAX_ERRORS events, bookings as one entry per place the
service granted (capacity is smaller than demand by construction), doses as one entry each.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

MAX_ERRORS = 10_000


def percentile(latencies: Counter, fraction: float) -> float | None:
    """The latency (ms) below which `fraction` of the counted requests fall."""
    total = sum(latencies.values())
    if not total:
        return None
    rank, seen = fraction * total, 0
    for ms in sorted(latencies):
        seen += latencies[ms]
        if seen >= rank:
            return float(ms)
    return float(max(latencies))


@dataclass
class Window:
    """Counts over one second of the run, or over one phase (a ramp step, the fault phase)."""

    requests: int = 0
    errors_5xx: int = 0
    errors_connection: int = 0
    journeys: int = 0
    latency: Counter = field(default_factory=Counter)

    def summary(self, seconds: float) -> dict:
        return {
            "requests": self.requests,
            "journeys": self.journeys,
            "journeys_per_s": round(self.journeys / seconds, 2) if seconds else None,
            "p50_ms": percentile(self.latency, 0.50),
            "p99_ms": percentile(self.latency, 0.99),
            "errors_5xx": self.errors_5xx,
            "errors_connection": self.errors_connection,
        }


class Tally:
    """Filled from Locust's request event and the journey's booking answers (one greenlet loop)."""

    def __init__(self) -> None:
        self.started = time.time()
        self.phase = "setup"
        self.fault_phase_started = 0.0
        self.seconds: dict[int, Window] = defaultdict(Window)
        self.phases: dict[str, Window] = defaultdict(Window)
        self.users: dict[int, int] = {}  # second -> virtual citizens running
        self.errors: list[tuple[float, str, str, int]] = []  # (t, method, route, status)
        self.errors_dropped = 0
        # Bookings: every 201 with its appointment id, and whose answer never came.
        self.booked: dict[int, int] = {}  # appointment id -> user id
        self.booking_unanswered: dict[int, float] = {}  # user id -> t of the lost answer
        self.booking_full = 0
        self.booking_attempts = 0
        self.administered: set[int] = set()  # vaccination ids whose dose was given with a 200
        self.administer_unanswered: dict[int, float] = {}  # vaccination id -> t of lost answer
        self.places_released = 0
        self.cpu: dict = {}  # the ramp's CPU per journey (scripts/rush_probe.py)
        self.waits: dict = {}

    def now(self) -> float:
        return time.time() - self.started

    def on_request(self, request_type, name, response_time, response=None, **_) -> None:
        status = getattr(response, "status_code", 0) or 0
        t = self.now()
        for window in (self.seconds[int(t)], self.phases[self.phase]):
            window.requests += 1
            window.latency[int(response_time)] += 1
            window.errors_5xx += status >= 500
            window.errors_connection += status == 0
        if status >= 500 or status == 0:
            if len(self.errors) < MAX_ERRORS:
                self.errors.append((round(t, 3), request_type, name, status))
            else:
                self.errors_dropped += 1

    def journey_done(self) -> None:
        t = self.now()
        self.seconds[int(t)].journeys += 1
        self.phases[self.phase].journeys += 1

    def booking(self, user_id: int, status: int, appointment_id: int | None) -> None:
        self.booking_attempts += 1
        if status == 201:
            self.booked[appointment_id] = user_id
        elif status == 409:
            self.booking_full += 1
        elif status >= 500 or status == 0:
            self.booking_unanswered[user_id] = self.now()

    def administer(self, vaccination_id: int, status: int) -> None:
        if status == 200:
            self.administered.add(vaccination_id)
        elif status >= 500 or status == 0:
            self.administer_unanswered[vaccination_id] = self.now()
