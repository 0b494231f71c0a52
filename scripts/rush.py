"""make rush: many virtual citizens through the load balancer, a ramp, faults, then an audit.

    make rush                          # starts the stack when it is not up; about 2.5 minutes
    RUSH_SECONDS=40 make rush          # shorter
    RUSH_INSTANCES=3 make rush         # a bigger stack (when it starts it)

Locust (as a library, headless) runs the journey of scripts/rush_journey.py. The ramp raises the
number of virtual citizens step by step while each step keeps p99 under 1 s with no 5xx; the
highest such step is the sustained rate. The fault phase then runs at that level while one app
instance is killed and restarted, Redis restarted and PgBouncer restarted. Last, the database is
audited against every booking answer. Everything is written to out/rush/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import gevent
from locust.env import Environment  # before requests: it monkey-patches the library for gevent

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import requests  # noqa: E402
import rush_faults  # noqa: E402
import rush_journey  # noqa: E402
import rush_probe  # noqa: E402
import rush_staff  # noqa: E402
import stack  # noqa: E402
from rush_report import audit, chart  # noqa: E402
from rush_tally import Tally  # noqa: E402
from stack_files import read_env_file  # noqa: E402

SECONDS = float(os.environ.get("RUSH_SECONDS", "120"))
STEP_SECONDS = float(os.environ.get("RUSH_STEP_SECONDS", str(max(6.0, SECONDS / 15))))
# The ramp's steps (virtual citizens); RUSH_LEVELS=32 holds one level, e.g. to look for locks.
LEVELS = [
    int(n) for n in os.environ.get("RUSH_LEVELS", "1,2,4,6,8,10,12,16,24,32,48,64").split(",")
]
OUT = ROOT / "out" / "rush"
BASE = f"http://127.0.0.1:{stack.LB_PORT}"
P99_LIMIT_MS = 1000


def ensure_stack() -> None:
    names = ["redis", "pgbouncer", *(f"gunicorn-{p}" for p in stack.APP_PORTS), "haproxy"]
    if not all(stack.running(name) for name in names):
        print("rush: the stack is not up; starting it (make stack)")
        subprocess.run([sys.executable, str(ROOT / "scripts" / "stack.py"), "up"], check=True)
    if read_env_file(stack.DIR / "env").get("BOOKING_CUTOFF") != "off":
        sys.exit("rush: the running stack closes booking the day before (BOOKING_CUTOFF), but the"
                 " rush books today's sessions: make stack-down, then make rush")  # fmt: skip


def flask(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """A `flask` command of the stack's app, straight on PostgreSQL (as migrations run)."""
    env = {**os.environ, **read_env_file(stack.DIR / "env")}
    env["DATABASE_URL"] = env["STACK_DIRECT_DATABASE_URL"]
    return subprocess.run([str(stack.BIN / "flask"), *args], cwd=ROOT, env=env, check=check,
                          capture_output=True, text=True)  # fmt: skip


def direct_url() -> str:
    """The stack's PostgreSQL itself, not through PgBouncer."""
    return read_env_file(stack.DIR / "env")["STACK_DIRECT_DATABASE_URL"]


def prepare(tally: Tally) -> rush_journey.Rush:
    run = int(time.time())

    def create_admin(email: str, password: str) -> None:
        flask("users", "create-admin", "--email", email, "--name", "Rush Officer",
              "--password", password)  # fmt: skip

    desk = rush_staff.officer(BASE, run, create_admin)
    vaccines = requests.get(f"{BASE}/vaccines").json()
    vaccine = next(v for v in vaccines if v["min_age"] <= 36 and (v["max_age"] or 99) >= 36)
    # Doses are given on the session's day, so the rush's sessions are today's (the stack keeps
    # BOOKING_CUTOFF off: a day's sessions stay bookable through the day).
    today = datetime.now(ZoneInfo(read_env_file(stack.DIR / "env").get("TIMEZONE", "Asia/Dhaka")))
    return rush_journey.Rush(run, tally, desk, f"Rushpur {run}", vaccine["id"], today.date())


def every(seconds: float, action) -> gevent.Greenlet:
    def loop():
        k = 0
        while True:
            action(k)
            k += 1
            gevent.sleep(seconds)

    return gevent.spawn(loop)


def ramp(runner, tally: Tally, budget: float) -> list[dict]:
    """Raise the citizens step by step while p99 < 1 s and no 5xx; stop at the first miss."""
    steps, deadline = [], time.monotonic() + budget
    for users in LEVELS:
        if time.monotonic() + STEP_SECONDS > deadline:
            break
        tally.phase = f"ramp {users}"
        started = tally.now()
        runner.start(users, spawn_rate=users)
        gevent.sleep(STEP_SECONDS)
        step = {"users": users, "started": round(started, 2),
                **tally.phases[tally.phase].summary(tally.now() - started)}  # fmt: skip
        step["sustained"] = (
            step["p99_ms"] is not None
            and step["p99_ms"] < P99_LIMIT_MS
            and not step["errors_5xx"]
            and not step["errors_connection"]
        )
        steps.append(step)
        print(
            f"  {users:3} citizens: {step['journeys_per_s']} journeys/s, p50 {step['p50_ms']} ms,"
            f" p99 {step['p99_ms']} ms, 5xx {step['errors_5xx']}"
        )
        if not step["sustained"]:
            break
    return steps


def fault_phase(runner, tally: Tally, users: int, budget: float) -> list[dict]:
    tally.phase, tally.fault_phase_started = "faults", tally.now()
    runner.start(users, spawn_rate=users)
    gap = max(3.0, (budget - len(rush_faults.FAULTS) * 12) / (len(rush_faults.FAULTS) + 1))
    faults = []
    for what in rush_faults.FAULTS:
        gevent.sleep(gap)
        print(f"  fault: {what}")
        faults.append(rush_faults.inject(what, tally.now))
    gevent.sleep(gap)
    return faults


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    ensure_stack()
    tally = Tally()
    rush = rush_journey.RUSH = prepare(tally)
    env = Environment(user_classes=[rush_journey.Citizen], host=BASE, stop_timeout=30)
    env.events.request.add_listener(tally.on_request)
    runner = env.create_local_runner()
    release_every = max(2.0, SECONDS / 90)  # at most about 100 sessions: one search page
    rush_staff.release_places(rush, 0)  # the first center, its vaccinator and session
    greenlets = [
        every(release_every, lambda k: rush_staff.release_places(rush, k + 1)),
        every(1, lambda k: tally.users.__setitem__(int(tally.now()), runner.user_count)),
    ]
    probe = rush_probe.Probe(direct_url(), stack.POSTGRES_URL.database)
    greenlets.append(every(1, lambda k: probe.sample()))
    print(f"rush: ramp ({STEP_SECONDS:.0f} s steps), then faults, through {BASE}")
    before, ramp_started = probe.cpu(), tally.now()
    steps = ramp(runner, tally, budget=SECONDS * 0.6)
    spent = {k: v - before[k] for k, v in probe.cpu().items()}
    journeys = sum(step["journeys"] for step in steps)
    tally.cpu = probe.report(spent, journeys, tally.now() - ramp_started)
    tally.waits = probe.waited()
    sustained = [step for step in steps if step["sustained"]]
    best = max(sustained, key=lambda s: s["journeys_per_s"]) if sustained else steps[0]
    faults = fault_phase(runner, tally, best["users"], budget=max(45.0, SECONDS * 0.4))
    runner.stop()  # lets each citizen finish its journey (stop_timeout), so every answer counts
    gevent.killall(greenlets)
    write_report(tally, rush, steps, best, faults)


def write_report(tally: Tally, rush, steps: list[dict], best: dict, faults: list[dict]) -> None:
    def in_fault(t: float | None) -> bool:
        return t is not None and any(f["started"] <= t <= f["ended"] for f in faults)

    for fault in faults:
        inside = [e for e in tally.errors if fault["started"] <= e[0] <= fault["ended"]]
        fault["errors_5xx"] = sum(1 for e in inside if e[3] >= 500)
        fault["errors_connection"] = sum(1 for e in inside if e[3] == 0)
        fault["last_error"] = max((e[0] for e in inside), default=None)
    outside = [e for e in tally.errors if not in_fault(e[0])]
    database = audit(direct_url(), rush.centers, tally, in_fault)
    # The audit trail took every event of the rush, faults included: its chains must hold.
    verified = flask("audit", "verify", check=False)
    database["audit_verify"] = ((verified.stdout or verified.stderr).strip() or "?").splitlines()[0]
    whole = tally.phases
    report = {
        "journeys_per_s": best["journeys_per_s"],
        "p50_ms": best["p50_ms"],
        "p99_ms": best["p99_ms"],
        "sustained_users": best["users"] if best["sustained"] else None,
        # The knee: the first step past the limits, or none when the ramp ran out of time first.
        "ramp_stopped_by": next(
            (
                f"{s['users']} citizens: p99 {s['p99_ms']} ms, {s['errors_5xx']} 5xx"
                for s in steps
                if not s["sustained"]
            ),
            "its time budget (RUSH_SECONDS): the knee is higher",
        ),
        "errors_5xx": sum(w.errors_5xx for w in tally.phases.values()),
        "errors_5xx_outside_faults": sum(1 for e in outside if e[3] >= 500),
        "errors_connection_outside_faults": sum(1 for e in outside if e[3] == 0),
        "overbooked": database["overbooked"],
        "lost": database["lost"] + database["doses_lost"] + database["doses_without_200"],
        "administered": database["administered_200"],
        "instances": len(stack.APP_PORTS),
        "cores": os.cpu_count(),
        "faults": faults,
        "started_at": datetime.fromtimestamp(tally.started, UTC).isoformat(timespec="seconds"),
        "seconds": round(tally.now(), 1),
        "journeys": sum(w.journeys for w in whole.values()),
        "requests": sum(w.requests for w in whole.values()),
        "fault_phase": whole["faults"].summary(tally.now() - tally.fault_phase_started),
        "ramp": steps,
        # The ramp's server CPU per journey by component, and what PostgreSQL waited on then.
        "cpu": tally.cpu,
        "waits": tally.waits,
        "database": database,
        "errors_outside_faults": outside[:50],
        "officer": "each center's vaccinator giving the booked dose with the appointment's code"
        " (POST /appointments/<id>/administer, on the session's day)",
    }
    (OUT / "rush-report.json").write_text(json.dumps(report, indent=2) + "\n")
    chart(tally, faults, steps, OUT / "rush-chart.png")
    print(json.dumps({k: report[k] for k in list(report)[:13]}, indent=2))
    print(f"rush: wrote {OUT.relative_to(ROOT)}/rush-report.json and rush-chart.png "
          "(the stack keeps running: make stack-down)")  # fmt: skip
    bad = report["overbooked"] or report["lost"] or report["errors_5xx_outside_faults"]
    bad = bad or database["doubled"] or database["lost_201_without_row"] or verified.returncode
    bad = bad or database["doses_doubled"]
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
