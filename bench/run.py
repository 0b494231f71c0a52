"""`make bench`: seed PostgreSQL, serve the production config under gunicorn, load it, report.

Settings (environment): BENCH_DATABASE_URL, BENCH_PHASE_SECONDS (5), BENCH_ROUNDS (3),
BENCH_SOAK_SECONDS (600), BENCH_WORKER_CLASS (sync, sync4 or gthread; default: sync, as shipped).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import secrets
import shlex
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg2
from sqlalchemy.engine import make_url

from bench import booking, report
from bench.load import require_wrk, run_wrk
from bench.server import BIN, ROOT, WORKER_MODELS, Server
from config import generate_signing_key

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/vaccination_bench"
)
PHASE = int(os.environ.get("BENCH_PHASE_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SOAK = int(os.environ.get("BENCH_SOAK_SECONDS", "600"))
OUT = ROOT / "bench" / "results"
PASSWORD = "demo-password-2024"
ADMIN = ("bench-admin@example.org", "bench-admin-password-2024")
SMALL = ("--users", "10000", "--vaccinations", "10000", "--centers", "100")
LARGE = ("--users", "90000", "--vaccinations", "990000", "--centers", "9900")
CITY = "/centers?city=City%2007"
SESSIONS_CITY = "/sessions?city=City%2007"
SESSIONS_SMALL, SESSIONS_LARGE = "10000", "990000"
PENDING = "/vaccinations?status=pending"
COMMANDS: list[str] = []
CORES = len(os.sched_getaffinity(0))


def sh(*command: str, env: dict) -> None:
    """Run a command from the project directory, recording it for the report."""
    COMMANDS.append(shlex.join(command).replace(f"{ROOT}/", ""))
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def fresh_database(url: str) -> None:
    parts = make_url(url)
    admin = psycopg2.connect(
        host=parts.host,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname="postgres",
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{parts.database}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{parts.database}"')
    admin.close()


def sign_in(base: str, username: str, password: str) -> str:
    body = urllib.parse.urlencode({"username": username, "password": password}).encode()
    with urllib.request.urlopen(base + "/auth/token", data=body, timeout=10) as response:
        return json.load(response)["access_token"]


def verification_seconds() -> float:
    """Median time of one argon2 verification in this process (the server's parameters)."""
    from backend.auth.passwords import HASHER

    stored = HASHER.hash(PASSWORD)
    times = []
    for _ in range(15):
        start = time.perf_counter()
        HASHER.verify(stored, PASSWORD)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _verifications_per_second(seconds: float) -> float:
    from backend.auth.passwords import HASHER

    stored, done = HASHER.hash(PASSWORD), 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        HASHER.verify(stored, PASSWORD)
        done += 1
    return done / (time.perf_counter() - started)


def hash_only_rate(seconds: float = 3) -> float:
    """Verifications per second of CORES processes doing nothing else: the sign-in's ceiling.

    Two hashes at once share the caches and memory bandwidth, so this is below CORES / one
    verification's time; it says how much of the gap to the target is the hash's own.
    """
    with multiprocessing.get_context("fork").Pool(CORES) as pool:
        pool.map(_verifications_per_second, [0.2] * CORES)  # started and warm
        return sum(pool.map(_verifications_per_second, [seconds] * CORES))


MEDIANS = ("rps", "p50_ms", "p99_ms", "wrk_cpu_share", "app_cpu_us", "db_cpu_us", "server_cpu_us")


def median_phase(runs: list[dict]) -> dict:
    """Medians over the rounds; errors and requests summed; the worst round's p99 kept."""
    merged = {key: statistics.median(run[key] for run in runs) for key in MEDIANS if key in runs[0]}
    merged["p99_worst_ms"] = max(run["p99_ms"] for run in runs)
    merged["wrk_thread_busy_max"] = max(run["wrk_thread_busy"] for run in runs)
    merged["non2xx"] = sum(run["non2xx"] + run["socket_errors"] for run in runs)
    merged["requests"] = sum(run["requests"] for run in runs)
    return merged


def compare_models(env: dict, log: Path) -> dict:
    """Floor, /health and /users/me under each worker model, interleaved round by round."""
    results = {}
    for key, model in WORKER_MODELS.items():
        floor = Server("bench.floor:app", 8201, model, env, log)
        app = Server("wsgi:app", 8202, model, env, log)
        try:
            auth = {"BENCH_AUTH": sign_in(app.url, "demo1@example.org", PASSWORD)}
            runs = {"floor": [], "health": [], "me": []}
            app_cpu_s = 0.0
            for _ in range(ROUNDS):
                runs["floor"].append(run_wrk(floor.url + "/", PHASE, server=floor.cpu))
                runs["health"].append(run_wrk(app.url + "/health", PHASE, server=app.cpu))
                runs["me"].append(run_wrk(app.url + "/users/me", PHASE, env=auth, server=app.cpu))
                app_cpu_s += sum(
                    run["app_cpu_us"] * run["requests"] / 1e6
                    for run in (runs["health"][-1], runs["me"][-1])
                )
            recycling = {
                "recycles": app.recycles(),
                "boot_cpu_ms": app.boot_cpu_s * 1000,
                # Every recycle costs one worker start; against the app's CPU in these phases.
                "share": app.recycles() * app.boot_cpu_s / app_cpu_s if app_cpu_s else 0.0,
            }
        finally:
            floor.stop()
            app.stop()
        phases = {name: median_phase(items) for name, items in runs.items()}
        for name in ("health", "me"):
            pairs = list(zip(runs[name], runs["floor"], strict=True))
            # Throughput against the floor's, and the floor's CPU per request against ours
            # (both 1.0 for an app as cheap as the floor), each the median of the rounds.
            phases[name]["ratio"] = statistics.median(
                run["rps"] / base["rps"] for run, base in pairs
            )
            phases[name]["cpu_ratio"] = statistics.median(
                base["server_cpu_us"] / run["server_cpu_us"] for run, base in pairs
            )
        results[key] = {"name": model.name, "phases": phases, "recycling": recycling}
        print(f"  {model.name}: " + ", ".join(f"{n} {p['rps']:.0f}/s" for n, p in phases.items()))
    return results


def sign_in_phase(app: Server, token_env: dict) -> dict:
    """Sign-ins, each round after a fresh measure of one verification (the host's speed drifts)."""
    runs, verifies, ceilings = [], [], []
    for _ in range(ROUNDS):
        verifies.append(verification_seconds())
        ceilings.append(hash_only_rate())
        runs.append(
            run_wrk(
                app.url + "/auth/token", PHASE * 2, connections=4, env=token_env, server=app.cpu
            )
        )
    phase = median_phase(runs)
    phase["ratio"] = statistics.median(
        run["rps"] * verify / CORES for run, verify in zip(runs, verifies, strict=True)
    )
    phase["verify_seconds"] = statistics.median(verifies)
    phase["hash_only_rps"] = statistics.median(ceilings)
    phase["of_hash_only"] = statistics.median(
        run["rps"] / ceiling for run, ceiling in zip(runs, ceilings, strict=True)
    )
    print(
        f"  sign-in {phase['rps']:.1f}/s, one verification {phase['verify_seconds'] * 1000:.1f} ms,"
        f" {CORES} processes only hashing {phase['hash_only_rps']:.1f}/s"
    )
    return phase


def scale_phase(app: Server, admin: dict) -> dict:
    return {
        "vaccinations": median_phase(
            [
                run_wrk(app.url + PENDING, PHASE, connections=2, env=admin, server=app.cpu)
                for _ in range(ROUNDS)
            ]
        ),
        "centers": median_phase(
            [run_wrk(app.url + CITY, PHASE, connections=2, server=app.cpu) for _ in range(ROUNDS)]
        ),
        "sessions": sessions_phase(app),
    }


def sessions_phase(app: Server) -> dict:
    """The public session search of one city (page 1), as a citizen's app opens it."""
    return median_phase(
        [
            run_wrk(app.url + SESSIONS_CITY, PHASE, connections=2, server=app.cpu)
            for _ in range(ROUNDS)
        ]
    )


def soak(app: Server, env: dict) -> dict:
    """Mixed load for SOAK seconds, each worker's RSS sampled every 5 s meanwhile."""
    outcome = {}
    load = threading.Thread(
        target=lambda: outcome.update(run_wrk(app.url + "/", SOAK, script="mixed.lua", env=env))
    )
    load.start()
    samples = []
    while load.is_alive():
        samples.append((time.monotonic(), app.worker_rss_kib()))
        load.join(timeout=5)
    outcome["non2xx"] += outcome.pop("socket_errors")
    return {"load": outcome, "rss": samples}


def booking_phase(app: Server, env: dict) -> dict:
    """The booking rush on the small database, then what the database holds."""
    people, sessions, bearer_tokens = booking.prepare(DATABASE_URL, env)
    outcome = booking.rush(app.url, bearer_tokens, sessions, app.cpu)
    outcome.update(booking.audit(DATABASE_URL, sessions))
    print(
        f"  {outcome['rps']:.0f} bookings/s, {outcome['booked']} booked, {outcome['full']} full,"
        f" {outcome['other']} other; database: {outcome['booked_count']} of"
        f" {outcome['capacity']} places, {outcome['appointment_rows']} appointments"
    )
    return outcome


def production_env() -> dict:
    """The shipped production configuration (worker recycling included), with fresh secrets."""
    return {
        **os.environ,
        "APP_ENV": "production",
        "DATABASE_URL": DATABASE_URL,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "CERT_SIGNING_KEY": generate_signing_key(),
        "AUDIT_KEY": secrets.token_urlsafe(48),
        # Personal columns are encrypted at rest (backend/privacy): production refuses to start
        # without a data key. 32 random bytes, URL-safe base64, like the README's example.
        "DATA_ENCRYPTION_KEY": secrets.token_urlsafe(32),
        "METRICS_TOKEN": secrets.token_urlsafe(24),
        # The bench signs in an officer made by `users create-admin`, who has no authenticator:
        # the staff two-factor gate (on by default in production) would refuse its calls.
        "REQUIRE_STAFF_MFA": "false",
        "FLASK_APP": "wsgi:app",
        "PYTHONPATH": str(ROOT),
    }


def unthrottled(env: dict) -> dict:
    """For phases that sign in or read from one address far past the per-address limits."""
    return {**env, "RATELIMIT_ENABLED": "false"}


def main() -> None:
    require_wrk()
    OUT.mkdir(exist_ok=True)
    log = OUT / "gunicorn.log"
    log.unlink(missing_ok=True)
    env = production_env()
    print(f"fresh database {make_url(DATABASE_URL).database}; seeding 10,000 registrations")
    fresh_database(DATABASE_URL)
    flask = str(BIN / "flask")
    sh(flask, "db", "upgrade", env=env)
    sh(flask, "demo", "seed", *SMALL, env=env)
    sh(flask, "demo", "sessions", "--count", SESSIONS_SMALL, env=env)
    sh(
        flask,
        "users",
        "create-admin",
        "--email",
        ADMIN[0],
        "--name",
        "Bench Officer",
        "--password",
        ADMIN[1],
        env=env,
    )
    print("comparing worker models (floor, /health, /users/me)")
    models = compare_models(env, log)
    # The targets are judged on the shipped settings (gunicorn.conf.py: sync, 2 workers); the
    # other models are measured beside them for comparison only.
    chosen = os.environ.get("BENCH_WORKER_CLASS") or "sync"
    print(f"worker model for the rest: {WORKER_MODELS[chosen].name}")
    app = Server("wsgi:app", 8202, WORKER_MODELS[chosen], unthrottled(env), log)
    try:
        admin = {"BENCH_AUTH": sign_in(app.url, *ADMIN)}
        form = urllib.parse.urlencode({"username": "demo2@example.org", "password": PASSWORD})
        token_env = {
            "BENCH_METHOD": "POST",
            "BENCH_BODY": form,
            "BENCH_CONTENT_TYPE": "application/x-www-form-urlencoded",
        }
        sign_ins = sign_in_phase(app, token_env)
        small = scale_phase(app, admin)
        places = booking.SESSIONS * booking.CAPACITY
        print(f"booking rush: {booking.PEOPLE} people, {places} places")
        bookings = booking_phase(app, env)
        print("seeding to 1,000,000 registrations, 10,000 centers and 1,000,000 sessions")
        sh(flask, "demo", "seed", *LARGE, env=env)
        sh(flask, "demo", "sessions", "--count", SESSIONS_LARGE, env=env)
        large = scale_phase(app, admin)
        print(f"mixed load for {SOAK} s")
        soak_env = {
            **env,
            "BENCH_AUTH": sign_in(app.url, "demo3@example.org", PASSWORD),
            "BENCH_ADMIN_AUTH": admin["BENCH_AUTH"],
            "BENCH_SIGN_IN_FORM": form,
        }
        mixed = soak(app, soak_env)
    finally:
        app.stop()
    figures = {
        "models": models,
        "chosen": chosen,
        "verify_seconds": sign_ins["verify_seconds"],
        "cores": CORES,
        "sign_in": sign_ins,
        "booking": bookings,
        "small": small,
        "large": large,
        "soak": mixed,
        "settings": {"phase": PHASE, "rounds": ROUNDS, "soak": SOAK},
        "commands": COMMANDS,
    }
    (OUT / "figures.json").write_text(json.dumps(figures, indent=1))
    passed = report.publish(figures)
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
