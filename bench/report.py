"""The benchmark's verdict: one table of the five targets, docs/benchmarks.md and a chart."""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
CHART = ROOT / "docs" / "benchmark-chart.png"
NOTES = Path(__file__).resolve().parent / "notes.md"


def rss_growth(samples: list) -> dict[int, float]:
    """Per worker: (max - min) / min of its RSS over the last half of the soak."""
    if not samples:
        return {}
    start, end = samples[0][0], samples[-1][0]
    last_half = [sizes for moment, sizes in samples if moment >= (start + end) / 2]
    growth = {}
    for pid in {pid for sizes in last_half for pid in sizes}:
        values = [sizes[pid] for sizes in last_half if pid in sizes]
        growth[int(pid)] = (max(values) - min(values)) / min(values)
    return growth


def _ceiling(figures: dict) -> str:
    """The sign-ins against what the hash alone allows on this machine."""
    sign_in = figures["sign_in"]
    if "hash_only_rps" not in sign_in:
        return ""
    return (
        f"{figures['cores']} processes doing nothing but verifications, timed before each round, "
        f"reach {sign_in['hash_only_rps']:.1f}/s (median), "
        f"{sign_in['hash_only_rps'] * figures['verify_seconds'] / figures['cores']:.2f}x "
        "cores/verify (below 1.00x in minutes when two hashes at once contend for the caches "
        "and memory bandwidth). The sign-ins "
        f"reach {sign_in['of_hash_only']:.2f}x of that ceiling.\n\n"
    )


def targets(figures: dict) -> list[tuple[str, str, str, bool]]:
    """(target, measured, required, passed) for each target of docs/benchmarks.md."""
    phases = figures["models"][figures["chosen"]]["phases"]
    me, health = phases["me"], phases["health"]
    expected = figures["cores"] / figures["verify_seconds"]
    sign_in = figures["sign_in"].get("ratio", figures["sign_in"]["rps"] / expected)
    scale = {
        name: figures["large"][name]["p50_ms"] / figures["small"][name]["p50_ms"]
        for name in ("vaccinations", "centers", "sessions")
        if name in figures["small"]
    }
    growth = rss_growth(figures["soak"]["rss"])
    worst = max(growth.values(), default=float("inf"))
    errors = sum(phase["non2xx"] for phase in _phases(figures))
    busiest = max(phase.get("wrk_thread_busy_max", 0) for phase in _phases(figures))
    recycling = figures["models"][figures["chosen"]].get("recycling", {})
    return [
        (
            "1a GET /users/me vs floor",
            f"{me['ratio']:.2f}x req/s ({me.get('cpu_ratio', 0):.2f}x by CPU per request)",
            ">= 0.45x",
            me["ratio"] >= 0.45,
        ),
        (
            "1b GET /health vs floor",
            f"{health['ratio']:.2f}x req/s ({health.get('cpu_ratio', 0):.2f}x by CPU per request)",
            ">= 0.75x",
            health["ratio"] >= 0.75,
        ),
        (
            "1c GET /users/me p99, worst round, 16 connections",
            f"{me.get('p99_worst_ms', me['p99_ms']):.1f} ms",
            "< 25 ms",
            me.get("p99_worst_ms", me["p99_ms"]) < 25,
        ),
        (
            "2 POST /auth/token vs cores/verify",
            f"{sign_in:.2f}x ({figures['sign_in']['rps']:.1f} of {expected:.1f}/s)",
            ">= 0.85x",
            sign_in >= 0.85,
        ),
        (
            "3 p50 at 1M / at 10k rows (registrations, centers, sessions)",
            ", ".join(f"{name} {ratio:.2f}x" for name, ratio in scale.items()),
            "<= 2x each",
            max(scale.values()) <= 2,
        ),
        (
            "4 worker RSS, last half of soak",
            f"max spread {worst * 100:.1f}% over {len(growth)} workers",
            "<= 10%",
            worst <= 0.10 and len(growth) > 0,
        ),
        ("5 non-2xx answers", f"{errors}", "0", errors == 0),
        _booking_target(figures.get("booking")),
        (
            "6 worker recycling (max_requests), share of app CPU at load",
            f"{recycling.get('share', 0) * 100:.2f}% ({recycling.get('recycles', 0)} recycles,"
            f" {recycling.get('boot_cpu_ms', 0):.0f} ms of CPU each)",
            "< 1%",
            recycling.get("share", 1) < 0.01,
        ),
        (
            "7 load generator not the bottleneck",
            f"busiest wrk thread {busiest * 100:.0f}% of a core",
            "< 50%",
            busiest < 0.5,
        ),
    ]


def _booking_target(rush: dict | None) -> tuple[str, str, str, bool]:
    """Never overbooked: as many 201s as places taken, as appointment rows, within capacity."""
    name = "8 booking rush: bookings = places taken = rows <= capacity, no 5xx"
    if rush is None:
        return name, "not run", "exact", False
    exact = rush["booked"] == rush["booked_count"] == rush["appointment_rows"]
    held = exact and rush["booked_count"] <= rush["capacity"] and not rush["overbooked_sessions"]
    measured = (
        f"{rush['attempts']} attempts: {rush['booked']} booked, {rush['full']} full,"
        f" {rush['other']} other; {rush['booked_count']} of {rush['capacity']} places taken,"
        f" {rush['appointment_rows']} rows; {rush['rps']:.0f}/s,"
        f" {rush['server_cpu_us'] / 1000:.1f} ms server CPU per attempt"
    )
    return name, measured, "exact", held and rush["non2xx"] == 0


def _phases(figures: dict) -> list[dict]:
    phases = [p for model in figures["models"].values() for p in model["phases"].values()]
    phases += [figures["sign_in"], figures["soak"]["load"]]
    return phases + [*figures["small"].values(), *figures["large"].values()]


def endpoint_rows(figures: dict) -> list[tuple[str, dict]]:
    phases = figures["models"][figures["chosen"]]["phases"]
    return [
        ("floor GET /", phases["floor"]),
        ("GET /health", phases["health"]),
        ("GET /users/me", phases["me"]),
        ("POST /auth/token", figures["sign_in"]),
        ("GET /vaccinations?status=pending (10k)", figures["small"]["vaccinations"]),
        ("GET /vaccinations?status=pending (1M)", figures["large"]["vaccinations"]),
        ("GET /centers?city= (100 centers)", figures["small"]["centers"]),
        ("GET /centers?city= (10k centers)", figures["large"]["centers"]),
        *(
            [
                ("GET /sessions?city= (10k sessions)", figures["small"]["sessions"]),
                ("GET /sessions?city= (1M sessions)", figures["large"]["sessions"]),
            ]
            if "sessions" in figures["small"]
            else []
        ),
        *([("POST /appointments (rush)", figures["booking"])] if "booking" in figures else []),
        ("mixed soak", figures["soak"]["load"]),
    ]


def _cpu(phase: dict) -> str:
    if "server_cpu_us" not in phase:
        return "-"
    return f"{phase['server_cpu_us']:.0f} ({phase['app_cpu_us']:.0f} + {phase['db_cpu_us']:.0f})"


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        line.split(":", 1)[1].strip()
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    postgres = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    return f"nproc {nproc}; {cpu}; memory {memory}; Python {platform.python_version()}; {postgres}"


def table(rows: list[tuple]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    return "\n".join(
        lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows[1:]]
    )


def chart(figures: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = endpoint_rows(figures)
    names = [name for name, _ in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.5))
    left.barh(names, [phase["rps"] for _, phase in rows], color="#3b7dd8")
    left.set_xscale("log")
    left.set_xlabel("requests per second (log scale)")
    left.set_title("Throughput")
    right.barh(names, [phase["p99_ms"] for _, phase in rows], color="#d8703b")
    right.set_xlabel("p99 latency, ms")
    right.set_title("p99 latency")
    right.set_yticklabels([])
    for axis in (left, right):
        axis.invert_yaxis()
        axis.grid(axis="x", alpha=0.3)
    fig.suptitle(
        f"make bench, {figures['models'][figures['chosen']]['name']}, {figures['cores']} cores"
    )
    fig.tight_layout()
    fig.savefig(CHART, dpi=100)


def publish(figures: dict) -> bool:
    """Print the table, write docs/benchmarks.md and the chart; True when every target passed."""
    results = targets(figures)
    verdict = [("target", "measured", "required", "result")]
    verdict += [(name, got, want, "PASS" if ok else "FAIL") for name, got, want, ok in results]
    print("\n" + table(verdict) + "\n")
    models = [
        (
            "worker model",
            "floor req/s",
            "/health req/s",
            "/users/me req/s",
            "/health ratio",
            "/users/me ratio",
            "floor CPU µs/req",
            "/health CPU µs/req",
            "/users/me CPU µs/req",
            "/health CPU ratio",
            "/users/me CPU ratio",
        )
    ]
    for model in figures["models"].values():
        p = model["phases"]
        models.append(
            (
                model["name"],
                f"{p['floor']['rps']:.0f}",
                f"{p['health']['rps']:.0f}",
                f"{p['me']['rps']:.0f}",
                f"{p['health']['ratio']:.2f}",
                f"{p['me']['ratio']:.2f}",
                _cpu(p["floor"]),
                _cpu(p["health"]),
                _cpu(p["me"]),
                f"{p['health'].get('cpu_ratio', 0):.2f}",
                f"{p['me'].get('cpu_ratio', 0):.2f}",
            )
        )
    endpoints = [
        (
            "endpoint",
            "req/s",
            "p50 ms",
            "p99 ms",
            "server CPU µs/req (app + PostgreSQL)",
            "wrk CPU, share of machine",
            "requests",
            "non-2xx",
        )
    ]
    endpoints += [
        (
            name,
            f"{p['rps']:.1f}",
            f"{p['p50_ms']:.2f}",
            f"{p['p99_ms']:.2f}",
            _cpu(p),
            f"{p['wrk_cpu_share'] * 100:.0f}%" if "wrk_cpu_share" in p else "-",
            p["requests"],
            p["non2xx"],
        )
        for name, p in endpoint_rows(figures)
    ]
    settings = figures["settings"]
    chart(figures)
    DOC.write_text(
        "# Benchmarks\n\nWritten by `make bench` (bench/run.py); do not edit by hand — edit "
        "bench/notes.md, which is copied in below.\n\n"
        f"## Targets\n\n{table(verdict)}\n\n![throughput and p99 per endpoint]"
        f"(benchmark-chart.png)\n\n## Per endpoint ({figures['models'][figures['chosen']]['name']})"
        f"\n\n{table(endpoints)}\n\n## Worker models\n\nSame gunicorn.conf.py, the worker "
        "flags on the command line; each figure is the median of "
        f"{settings['rounds']} interleaved {settings['phase']} s runs (floor, /health, /users/me, "
        f"floor, ...), ratios per round.\n\n{table(models)}\n\n"
        f"## Machine\n\n{machine()}.\n\nOne argon2id verification (19 MiB, t=2): "
        f"{figures['verify_seconds'] * 1000:.1f} ms (median), measured in this process before each "
        "sign-in round; the sign-in ratio is the median of the rounds' ratios.\n\n"
        + _ceiling(figures)
        + "## Commands\n\n```\nmake bench    # = .venv/bin/python -m bench.run\n"
        + "\n".join(figures["commands"])
        + "\ngunicorn -c gunicorn.conf.py --bind 127.0.0.1:PORT -k MODEL --workers 2 "
        "[--threads 4] wsgi:app  # and bench.floor:app\n"
        f"wrk -t2 -c16 -d{settings['phase']}s --timeout 10s -s bench/wrk/report.lua URL"
        "  # floor, /health, /users/me\n"
        f"wrk -t2 -c4 -d{settings['phase'] * 2}s ... URL/auth/token  # sign-in, POST form\n"
        f"wrk -t2 -c2 -d{settings['phase']}s ... URL/vaccinations?status=pending  # and /centers\n"
        f"wrk -t2 -c16 -d{settings['soak']}s -s bench/wrk/mixed.lua URL  # the soak\n```\n\n"
        + (NOTES.read_text() if NOTES.exists() else "")
    )
    return all(ok for *_, ok in results)


if __name__ == "__main__":
    # Re-publish the last run's figures (bench/results/figures.json) without measuring again.
    import json

    figures = json.loads((ROOT / "bench" / "results" / "figures.json").read_text())
    figures["commands"] = [command.replace(f"{ROOT}/", "") for command in figures["commands"]]
    publish(figures)
