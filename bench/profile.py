"""Profile one worker under load: `python -m bench.profile [PATH]` (default /users/me).

Needs the database `make bench` left behind (BENCH_DATABASE_URL). Starts the production config
under gunicorn (sync, 2 workers), drives PATH with wrk for 10 s (/auth/token: sign-ins),
records one worker with py-spy, and prints the functions with the largest inclusive share of
samples. The raw samples are kept in bench/results/profile.txt (folded stacks, for flamegraph
tools).
"""

from __future__ import annotations

import subprocess
import sys
import urllib.parse
from collections import Counter

from bench.load import run_wrk
from bench.run import OUT, PASSWORD, production_env, sign_in
from bench.server import BIN, ROOT, WORKER_MODELS, Server


def frame_name(frame: str) -> str:
    function, _, place = frame.partition(" (")
    return f"{function} ({place.split(':')[0].rsplit('/', 1)[-1]}"


def summary(folded: str, top: int = 40) -> list[tuple[float, str]]:
    """(share of samples, function) for the functions on the most stacks."""
    total, inclusive = 0, Counter()
    for line in folded.splitlines():
        stack, _, count = line.rpartition(" ")
        total += int(count)
        for name in {frame_name(frame) for frame in stack.split(";")}:
            inclusive[name] += int(count)
    return [(count / total, name) for name, count in inclusive.most_common(top)]


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else "/users/me"
    OUT.mkdir(exist_ok=True)
    env = production_env()
    app = Server("wsgi:app", 8203, WORKER_MODELS["sync"], env, OUT / "profile-gunicorn.log")
    try:
        if path == "/auth/token":  # sign-ins: the form the bench posts
            form = urllib.parse.urlencode({"username": "demo2@example.org", "password": PASSWORD})
            load = {"BENCH_METHOD": "POST", "BENCH_BODY": form}
            load["BENCH_CONTENT_TYPE"] = "application/x-www-form-urlencoded"
        else:
            load = {"BENCH_AUTH": sign_in(app.url, "demo1@example.org", PASSWORD)}
        output = OUT / "profile.txt"
        spy = subprocess.Popen(
            [
                str(BIN / "py-spy"),
                "record",
                "-p",
                str(app.worker_pids()[0]),
                "-d",
                "10",
                "-r",
                "200",
                "-f",
                "raw",
                "-o",
                str(output),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        print(run_wrk(app.url + path, 10, connections=4 if "BENCH_BODY" in load else 16, env=load))
        spy.wait()
    finally:
        app.stop()
    for share, name in summary(output.read_text()):
        print(f"{share * 100:5.1f}%  {name}")


if __name__ == "__main__":
    main()
