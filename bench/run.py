"""`make bench`: seed PostgreSQL, serve the production config under gunicorn, load it, report.

Settings (environment): BENCH_DATABASE_URL, BENCH_PHASE_SECONDS (5), BENCH_ROUNDS (3),
BENCH_SOAK_SECONDS (600), BENCH_WORKER_CLASS (sync or gthread; default: the faster /users/me).
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

from bench import report
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


def median_phase(runs: list[dict]) -> dict:
    merged = {
        key: statistics.median(run[key] for run in runs) for key in ("rps", "p50_ms", "p99_ms")
    }
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
            for _ in range(ROUNDS):
                runs["floor"].append(run_wrk(floor.url + "/", PHASE))
                runs["health"].append(run_wrk(app.url + "/health", PHASE))
                runs["me"].append(run_wrk(app.url + "/users/me", PHASE, env=auth))
        finally:
            floor.stop()
            app.stop()
        phases = {name: median_phase(items) for name, items in runs.items()}
        for name in ("health", "me"):
            ratios = [
                run["rps"] / base["rps"]
                for run, base in zip(runs[name], runs["floor"], strict=True)
            ]
            phases[name]["ratio"] = statistics.median(ratios)
        results[key] = {"name": model.name, "phases": phases}
        print(f"  {model.name}: " + ", ".join(f"{n} {p['rps']:.0f}/s" for n, p in phases.items()))
    return results


def sign_in_phase(app: Server, token_env: dict) -> dict:
    """Sign-ins, each round after a fresh measure of one verification (the host's speed drifts)."""
    runs, verifies, ceilings = [], [], []
    for _ in range(ROUNDS):
        verifies.append(verification_seconds())
        ceilings.append(hash_only_rate())
        runs.append(run_wrk(app.url + "/auth/token", PHASE * 2, connections=4, env=token_env))
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
            [run_wrk(app.url + PENDING, PHASE, connections=2, env=admin) for _ in range(ROUNDS)]
        ),
        "centers": median_phase(
            [run_wrk(app.url + CITY, PHASE, connections=2) for _ in range(ROUNDS)]
        ),
    }


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


def production_env() -> dict:
    """The production configuration for the bench's servers, with fresh secrets."""
    return {
        **os.environ,
        "APP_ENV": "production",
        "DATABASE_URL": DATABASE_URL,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "CERT_SIGNING_KEY": generate_signing_key(),
        "METRICS_TOKEN": secrets.token_urlsafe(24),
        "RATELIMIT_ENABLED": "false",
        # Worker recycling (max_requests) would replace workers during the soak and hide a leak.
        "MAX_REQUESTS": "0",
        "FLASK_APP": "wsgi:app",
        "PYTHONPATH": str(ROOT),
    }


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
    chosen = os.environ.get("BENCH_WORKER_CLASS") or max(
        models, key=lambda key: models[key]["phases"]["me"]["rps"]
    )
    print(f"worker model for the rest: {WORKER_MODELS[chosen].name}")
    app = Server("wsgi:app", 8202, WORKER_MODELS[chosen], env, log)
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
        print("seeding to 1,000,000 registrations and 10,000 centers")
        sh(flask, "demo", "seed", *LARGE, env=env)
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
