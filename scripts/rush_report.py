"""After the rush: audit the database against every answer the clients saw, and draw the chart."""

from __future__ import annotations

from pathlib import Path

import psycopg2
from rush_tally import Tally, percentile

# The rush's sessions are those of its own centers; appointments carry their registration,
# and a given dose its certificates (live or revoked: a second one would be a doubled dose).
SESSIONS = """
    SELECT s.id, s.capacity, s.booked,
           count(a.id) FILTER (WHERE a.status = 'booked') AS live
    FROM vaccination_sessions s LEFT JOIN appointments a ON a.session_id = s.id
    WHERE s.center_id = ANY(%s) GROUP BY s.id
"""
APPOINTMENTS = """
    SELECT a.id, v.user_id, v.id, v.status,
           v.administered_by_id IS NOT NULL AND v.batch IS NOT NULL,
           (SELECT count(*) FROM certificates c WHERE c.vaccination_id = v.id)
    FROM appointments a
    JOIN vaccinations v ON v.id = a.vaccination_id
    JOIN vaccination_sessions s ON s.id = a.session_id
    WHERE s.center_id = ANY(%s)
"""


def audit(database_url: str, centers: list[int], tally: Tally, in_fault) -> dict:
    """Overbooking, bookings and doses lost or doubled, compared with the answers clients got.

    A row whose answer the client never saw (a 5xx or a reset) is not "lost" when that answer
    was lost inside a fault's window: it is counted in `unanswered_in_faults`.
    """
    with psycopg2.connect(database_url, connect_timeout=5) as connection:
        with connection.cursor() as cursor:
            cursor.execute(SESSIONS, (centers,))
            sessions = cursor.fetchall()
            cursor.execute(APPOINTMENTS, (centers,))
            rows = cursor.fetchall()
    connection.close()
    overbooked = [sid for sid, capacity, booked, live in sessions if max(booked, live) > capacity]
    miscounted = [sid for sid, _, booked, live in sessions if booked != live]
    stored = {row[0]: row[1] for row in rows}
    missing = [a for a in tally.booked if a not in stored]  # a 201 without its row
    unanswered = {a: u for a, u in stored.items() if a not in tally.booked}
    explained = {a for a, u in unanswered.items() if in_fault(tally.booking_unanswered.get(u))}
    per_user: dict[int, int] = {}
    for user_id in stored.values():
        per_user[user_id] = per_user.get(user_id, 0) + 1
    # Doses: every 200 has its dose (approved, by a vaccinator, with a batch) and one certificate.
    doses = {v: certificates for _, _, v, status, given, certificates in rows
             if status == "approved" and given}  # fmt: skip
    certified = {v: n for _, _, v, _, _, n in rows if n}
    dose_without_200 = [v for v in doses if v not in tally.administered]
    dose_explained = [v for v in dose_without_200 if in_fault(tally.administer_unanswered.get(v))]
    doses_lost = [v for v in tally.administered if doses.get(v) != 1]
    return {
        "sessions": len(sessions),
        "capacity": sum(capacity for _, capacity, _, _ in sessions),
        "booking_attempts": tally.booking_attempts,
        "booked_201": len(tally.booked),
        "full_409": tally.booking_full,
        "rows": len(stored),
        "overbooked": len(overbooked),
        "miscounted_sessions": len(miscounted),
        "lost": len(missing) + len(unanswered) - len(explained),
        "lost_201_without_row": len(missing),
        "rows_without_201": len(unanswered) - len(explained),
        "unanswered_in_faults": len(explained),
        "doubled": sum(1 for count in per_user.values() if count > 1),
        "administered_200": len(tally.administered),
        "doses": len(doses),
        "certificates": sum(certified.values()),
        "doses_lost": len(doses_lost),  # a 200 without its dose or with not exactly 1 certificate
        "doses_without_200": len(dose_without_200) - len(dose_explained),
        "doses_unanswered_in_faults": len(dose_explained),
        "doses_doubled": sum(1 for n in certified.values() if n > 1)
        + sum(1 for v in certified if v not in doses),
    }


def chart(tally: Tally, faults: list[dict], steps: list[dict], path: Path) -> None:
    """Journeys/s and requests/s, p50/p99 latency, and 5xx per second, faults shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seconds = sorted(tally.seconds)
    windows = [tally.seconds[s] for s in seconds]
    figure, (rate, latency, errors) = plt.subplots(3, 1, figsize=(11, 8), sharex=True)
    rate.plot(seconds, [w.requests for w in windows], label="requests/s", color="0.6")
    rate.plot(seconds, [w.journeys for w in windows], label="journeys/s", color="tab:blue")
    users = rate.twinx()
    users.step(list(tally.users), list(tally.users.values()), where="post", color="tab:green",
               label="virtual citizens")  # fmt: skip
    users.set_ylabel("virtual citizens")
    rate.set_ylabel("per second")
    rate.legend(loc="upper left")
    users.legend(loc="upper right")
    for fraction, colour in ((0.5, "tab:blue"), (0.99, "tab:red")):
        values = [percentile(w.latency, fraction) for w in windows]
        latency.plot(seconds, values, label=f"p{round(fraction * 100)}", color=colour)
    latency.axhline(1000, color="tab:red", linestyle=":", linewidth=1, label="1 s")
    latency.set_ylabel("latency, ms")
    latency.set_yscale("log")
    latency.legend(loc="upper left")
    errors.bar(seconds, [w.errors_5xx for w in windows], color="tab:red", label="5xx")
    below = [w.errors_5xx for w in windows]
    errors.bar(seconds, [w.errors_connection for w in windows], bottom=below, color="tab:orange",
               label="connection errors")  # fmt: skip
    errors.set_ylabel("errors per second")
    errors.set_xlabel("seconds since the rush started")
    errors.legend(loc="upper left")
    for axis in (rate, latency, errors):
        for fault in faults:
            axis.axvspan(fault["started"], fault["ended"], color="tab:orange", alpha=0.15)
        for step in steps:
            axis.axvline(step["started"], color="0.85", linewidth=0.8)
    for fault in faults:
        errors.annotate(fault["what"].split(" (")[0], (fault["started"], 0), xytext=(2, 30),
                        textcoords="offset points", fontsize=7, rotation=90)  # fmt: skip
    figure.suptitle("make rush: ramp of virtual citizens, then faults (shaded)")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
