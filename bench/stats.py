"""`make bench-stats` (also run by `make bench`): statistics with a million doses given.

Seeds a fresh PostgreSQL database (BENCH_STATS_DATABASE_URL) with 20,000 citizens, 1,000
centers and 1,000,000 approved doses over the last 365 days in one INSERT ... SELECT FROM
generate_series, recounts the dose tallies (`flask stats rebuild-tallies`, as after any bulk
import), VACUUM ANALYZE, then measures GET /stats/doses for each grouping and GET /stats/public
under the shipped gunicorn settings, and the public figures' uncached computation in-process.
Target: p50 under 100 ms. Seeded doses have no certificates: this database serves statistics only.
`python -m bench.stats --reuse` measures again without seeding.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import psycopg2
from sqlalchemy.engine import make_url

from bench.load import require_wrk, run_wrk
from bench.run import (
    ADMIN,
    OUT,
    PHASE,
    ROUNDS,
    fresh_database,
    median_phase,
    production_env,
    sh,
    sign_in,
    unthrottled,
)
from bench.server import BIN, WORKER_MODELS, Server

DATABASE_URL = os.environ.get(
    "BENCH_STATS_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/vaccination_bench_stats"
)
DOSES = 1_000_000
TARGET_MS = 100
GROUPS = ("day", "center", "city", "vaccine", "dose_number")
SEED_DOSES = (
    "SET statement_timeout = 0;"
    "INSERT INTO vaccinations (user_id, vaccine_id, center_id, dose_number, status,"
    " vaccination_date, batch, administered_at, reviewed_at, created_at)"
    " SELECT u.lo + (i * 7919) %% (u.hi - u.lo + 1), v.ids[1 + i %% cardinality(v.ids)],"
    "  c.lo + (i * 104729) %% (c.hi - c.lo + 1), 1 + i %% 3, 'approved',"
    "  CURRENT_DATE - CAST((i * 7) %% 365 AS integer), 'LOT-' || (i %% 500),"
    "  now() - make_interval(days => CAST((i * 7) %% 365 AS integer)),"
    "  now() - make_interval(days => CAST((i * 7) %% 365 AS integer)),"
    "  now() - make_interval(days => CAST((i * 7) %% 365 AS integer))"
    " FROM generate_series(0::bigint, %(doses)s - 1) AS i,"
    "  (SELECT min(id) AS lo, max(id) AS hi FROM users WHERE role_id = 1) AS u,"
    "  (SELECT min(id) AS lo, max(id) AS hi FROM centers) AS c,"
    "  (SELECT array_agg(id ORDER BY id) AS ids FROM vaccines) AS v"
)


def seed(env: dict) -> None:
    fresh_database(DATABASE_URL)
    flask = str(BIN / "flask")
    sh(flask, "db", "upgrade", env=env)
    sh(
        flask,
        "demo",
        "seed",
        "--users",
        "20000",
        "--vaccinations",
        "0",
        "--centers",
        "1000",
        env=env,
    )
    parts = make_url(DATABASE_URL)
    connection = psycopg2.connect(
        host=parts.host,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname=parts.database,
    )
    with connection, connection.cursor() as cursor:
        cursor.execute(SEED_DOSES, {"doses": DOSES})
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE vaccinations")
    sh(flask, "stats", "rebuild-tallies", env=env)
    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM ANALYZE dose_tallies_by_center, dose_tallies_by_center_month,"
            " dose_tallies_by_vaccine"
        )
    connection.close()
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


def uncached_public_ms(env: dict, times: int = 20) -> dict:
    """The public figures computed (not served from the per-worker cache) `times` times."""
    os.environ.update(env)  # the production settings the server ran with
    from backend import create_app
    from backend.stats import services

    app = create_app()
    samples = []
    with app.app_context():
        for _ in range(times):
            start = time.perf_counter()
            services.public_counts()
            samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {"p50_ms": statistics.median(samples), "p99_ms": samples[-1]}


def main() -> None:
    require_wrk()
    OUT.mkdir(exist_ok=True)
    env = {**production_env(), "DATABASE_URL": DATABASE_URL}
    started = time.monotonic()
    if "--reuse" in sys.argv:  # measure again on the database a previous run seeded
        print(f"reusing {make_url(DATABASE_URL).database}")
    else:
        print(f"fresh database {make_url(DATABASE_URL).database}; seeding {DOSES:,} doses given")
        seed(env)
        print(f"  seeded in {time.monotonic() - started:.0f} s")
    app = Server("wsgi:app", 8203, WORKER_MODELS["sync"], unthrottled(env), OUT / "stats.log")
    results = {}
    try:
        admin = {"BENCH_AUTH": sign_in(app.url, *ADMIN)}
        for group in GROUPS:
            url = f"{app.url}/stats/doses?group_by={group}"
            runs = [run_wrk(url, PHASE, connections=2, env=admin) for _ in range(ROUNDS)]
            results[f"doses?group_by={group}"] = median_phase(runs)
        runs = [run_wrk(app.url + "/stats/public", PHASE, connections=2) for _ in range(ROUNDS)]
        results["public (served)"] = median_phase(runs)
    finally:
        app.stop()
    results["public (computed)"] = uncached_public_ms(env)
    passed = True
    print(f"{'GET /stats/...':<28}{'p50 ms':>9}{'p99 ms':>9}  target p50 < {TARGET_MS} ms")
    for name, phase in results.items():
        ok = phase["p50_ms"] < TARGET_MS and not phase.get("non2xx")
        passed &= ok
        print(
            f"{name:<28}{phase['p50_ms']:>9.1f}{phase['p99_ms']:>9.1f}  {'pass' if ok else 'FAIL'}"
        )
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
