"""`make bench-peers`'s table: printed, and written to docs/benchmarks-peers.md."""

from __future__ import annotations

import json
import subprocess

from bench.report import ROOT, _cpu, machine, table

DOC = ROOT / "docs" / "benchmarks-peers.md"
PEERS_PYTHON = ROOT / ".venv-peers" / "bin" / "python"
PACKAGES = (
    "fastapi",
    "fastapi-users",
    "fastapi-users-db-sqlalchemy",
    "uvicorn",
    "uvloop",
    "httptools",
    "asyncpg",
    "pwdlib",
    "Flask-Security-Too",
    "Flask",
    "Flask-SQLAlchemy",
    "psycopg2-binary",
    "argon2-cffi",
    "gunicorn",
    "SQLAlchemy",
)
SERVED = {
    "ours": "gunicorn sync, 2 workers (gunicorn.conf.py as shipped), Flask + flask-smorest, "
    "psycopg2, JWT bearer",
    "fastapi-users": "uvicorn --workers 2 (uvloop, httptools), SQLAlchemy async + asyncpg, "
    "JWT bearer",
    "Flask-Security-Too": "gunicorn sync, 2 workers (gunicorn's defaults), Flask-SQLAlchemy + "
    "psycopg2, Authentication-Token header",
}


def peer_versions() -> dict[str, str]:
    """The installed versions of the peers' main packages, asked of .venv-peers itself."""
    code = (
        "import importlib.metadata as m, json, sys; "
        "print(json.dumps({p: m.version(p) for p in sys.argv[1:]}))"
    )
    answer = subprocess.run(
        [str(PEERS_PYTHON), "-c", code, *PACKAGES], capture_output=True, text=True, check=True
    )
    return json.loads(answer.stdout)


def rows(results: dict) -> list[tuple]:
    header = (
        "app",
        "req/s",
        "p50 ms",
        "p99 ms",
        "server CPU µs/req (app + PostgreSQL)",
        "non-2xx",
        "our lead, req/s",
        "our lead, CPU per request",
    )
    lines = [header]
    for name, phase in results.items():
        lead = "-" if name == "ours" else f"{phase['lead']:.2f}x"
        cpu_lead = "-" if name == "ours" else f"{phase['cpu_lead']:.2f}x"
        lines.append(
            (
                name,
                f"{phase['rps']:.0f}",
                f"{phase['p50_ms']:.2f}",
                f"{phase['p99_ms']:.2f}",
                _cpu(phase),
                phase["non2xx"],
                lead,
                cpu_lead,
            )
        )
    return lines


def publish(figures: dict) -> None:
    """Print the table and write docs/benchmarks-peers.md."""
    results, settings = figures["results"], figures["settings"]
    summary = table(rows(results))
    print("\n" + summary + "\n")
    busiest = max(phase["wrk_thread_busy_max"] for phase in results.values())
    served = table([("app", "served by")] + [(name, SERVED[name]) for name in results])
    versions = ", ".join(f"{name} {version}" for name, version in figures["versions"].items())
    DOC.write_text(
        "# Benchmarks: our `GET /users/me` beside the peers\n\n"
        "Written by `make bench-peers` (bench/peers/run.py); do not edit by hand.\n\n"
        f"Each figure is the median of {settings['rounds']} round(s), each a {settings['phase']} s "
        "run of every app in turn (ours, fastapi-users, Flask-Security-Too), after a 1 s warm-up "
        "of each; wrk -t2 -c16 with no "
        "per-response script; a lead is the median of the rounds' ratios (req/s: ours over "
        "theirs; CPU per request: theirs over ours). Server CPU is the server's process tree "
        "and the PostgreSQL backends of its own database, from /proc. Busiest wrk thread: "
        f"{busiest * 100:.0f}% of a core.\n\n"
        f"{summary}\n\n## The contenders\n\nEach has its own database on the same PostgreSQL "
        "and one signed-in user; the peers run from .venv-peers (requirements-peers.txt), "
        "their apps in bench/peers/.\n\n"
        f"{served}\n\nPeers' versions: {versions}.\n\n"
        "Two settings differ from the peers' documentation, both in the peer's favour: "
        "fastapi-users' engine gets `pool_size=16` (the default 5 is below the 16 connections, "
        "so a worker kept opening and closing overflow connections: 146 new PostgreSQL sessions "
        "in 3 s); Flask-Security's quickstart `pool_pre_ping` is left off (a round trip per "
        "request; ours has it off too).\n\n"
        f"## Machine\n\n{machine()}.\n\n## Commands\n\n```\n"
        "make bench-peers    # = .venv/bin/python -m bench.peers.run\n"
        + "\n".join(figures["commands"])
        + f"\nwrk -t2 -c16 -d{settings['phase']}s --timeout 10s -s bench/wrk/report.lua URL"
        "  # each /me, interleaved\n```\n"
    )


if __name__ == "__main__":
    # Re-publish the last run's figures (bench/results/peers.json) without measuring again.
    publish(json.loads((ROOT / "bench" / "results" / "peers.json").read_text()))
