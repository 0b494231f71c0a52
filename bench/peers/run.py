"""`make bench-peers`: our `GET /users/me` against fastapi-users and Flask-Security-Too.

Each contender has its own database on the same PostgreSQL, 2 workers, as its users would serve
it: ours from .venv under the shipped gunicorn.conf.py, the peers from .venv-peers
(requirements-peers.txt) under `uvicorn --workers 2` and `gunicorn --workers 2`. Rounds are
interleaved (ours, fastapi-users, Flask-Security, ours, ...), wrk -t2 -c16 each.

Settings (environment): BENCH_PEERS_DATABASE_URL (ours; the peers' databases sit beside it),
BENCH_PHASE_SECONDS (5), BENCH_ROUNDS (3).
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from bench.cpu import ServerCpu
from bench.load import require_wrk, run_wrk
from bench.peers import report
from bench.run import (
    COMMANDS,
    OUT,
    PASSWORD,
    PHASE,
    ROUNDS,
    fresh_database,
    median_phase,
    production_env,
    sh,
    sign_in,
)
from bench.server import BIN, HOST, ROOT, WORKER_MODELS, Server, stop

DATABASE_URL = os.environ.get(
    "BENCH_PEERS_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/vaccination_peer_ours"
)
PEERS_BIN = ROOT / ".venv-peers" / "bin"
PEERS_DIR = Path(__file__).resolve().parent
# Enough citizens that ours reads one row among many; /users/me reads one row by key anyway.
SMALL = ("--users", "1000", "--vaccinations", "1000", "--centers", "10")
PEER_USER = ("peer@example.org", "peer-password-2024")


class PeerServer:
    """A peer's server (uvicorn or gunicorn master) started from bench/peers in .venv-peers.

    From that folder, gunicorn does not find our gunicorn.conf.py: the peer runs on its own
    defaults, as its users' would.
    """

    def __init__(self, command: list[str], port: int, env: dict, log: Path, database: str):
        self.url = f"http://{HOST}:{port}"
        COMMANDS.append(" ".join(command).replace(f"{ROOT}/", "") + "  # in bench/peers")
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            command, cwd=PEERS_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        try:
            self._wait_until_up()
            self.cpu = ServerCpu(self.process.pid, database)
        except BaseException:  # no object for the caller to stop: stop what was started here
            self.stop()
            raise

    def _wait_until_up(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.process.args[0]} exited early; see {self.log.name}")
            try:
                urllib.request.urlopen(self.url + "/", timeout=2).close()
            except urllib.error.HTTPError:
                pass  # any answer (a 404 here) means it is listening
            except OSError:
                time.sleep(0.2)
                continue
            time.sleep(2)  # let the second worker finish booting
            return
        raise SystemExit(f"{self.process.args[0]} did not answer on {self.url}")

    def stop(self) -> None:
        stop(self.process, self.log)


@dataclass
class Contender:
    """One app under load: where its `/me` route is, the wrk settings that reach it."""

    name: str
    url: str
    cpu: ServerCpu
    wrk_env: dict
    runs: list[dict] = field(default_factory=list)


def peer_url(driver: str, database: str) -> str:
    """A database beside ours, on the same PostgreSQL server, for a peer's driver."""
    url = make_url(DATABASE_URL).set(drivername=driver, database=database)
    return url.render_as_string(hide_password=False)


def post(url: str, data: bytes, content_type: str) -> dict:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def fastapi_users_token(base: str) -> str:
    """Register the peer's user, then log in: both through fastapi-users' own routes."""
    email, password = PEER_USER
    body = json.dumps({"email": email, "password": password}).encode()
    post(base + "/auth/register", body, "application/json")
    form = urllib.parse.urlencode({"username": email, "password": password}).encode()
    answer = post(base + "/auth/jwt/login", form, "application/x-www-form-urlencoded")
    return answer["access_token"]


def flask_security_token(base: str) -> str:
    """Log in through Flask-Security's JSON /login, asking for the authentication token."""
    email, password = PEER_USER
    body = json.dumps({"email": email, "password": password}).encode()
    answer = post(base + "/login?include_auth_token", body, "application/json")
    return answer["response"]["user"]["authentication_token"]


def start_peers(log: Path) -> tuple[PeerServer, PeerServer]:
    """Fresh databases, tables and the one user, then both peers' servers."""
    fastapi_db, fss_db = "vaccination_peer_fastapi", "vaccination_peer_fss"
    secret = secrets.token_urlsafe(32)
    fastapi_env = {
        **os.environ,
        "PEER_DATABASE_URL": peer_url("postgresql+asyncpg", fastapi_db),
        "PEER_SECRET_KEY": secret,
    }
    fss_env = {**fastapi_env, "PEER_DATABASE_URL": peer_url("postgresql+psycopg2", fss_db)}
    for env in (fastapi_env, fss_env):
        fresh_database(env["PEER_DATABASE_URL"])
    python = str(PEERS_BIN / "python")
    subprocess.run([python, "fastapi_users_app.py"], cwd=PEERS_DIR, env=fastapi_env, check=True)
    subprocess.run(
        [python, "flask_security_app.py", *PEER_USER], cwd=PEERS_DIR, env=fss_env, check=True
    )
    uvicorn = [str(PEERS_BIN / "uvicorn"), "fastapi_users_app:app", "--host", HOST]
    fastapi = PeerServer(
        [*uvicorn, "--port", "8212", "--workers", "2"], 8212, fastapi_env, log, fastapi_db
    )
    try:
        gunicorn = [str(PEERS_BIN / "gunicorn"), "--workers", "2", "--bind", f"{HOST}:8213"]
        # gunicorn 27's control socket is one path per user: it would remove another
        # instance's (ours disables it in gunicorn.conf.py for the same reason).
        gunicorn += ["--no-control-socket", "flask_security_app:app"]
        fss = PeerServer(gunicorn, 8213, fss_env, log, fss_db)
    except BaseException:
        fastapi.stop()
        raise
    return fastapi, fss


def seed_ours() -> dict:
    """Our database as `make bench` makes it, smaller; the shipped production settings."""
    env = {**production_env(), "DATABASE_URL": DATABASE_URL}
    fresh_database(DATABASE_URL)
    flask = str(BIN / "flask")
    sh(flask, "db", "upgrade", env=env)
    sh(flask, "demo", "seed", *SMALL, env=env)
    return env


def measure(contenders: list[Contender]) -> None:
    """A 1 s warm-up each (pools filled, every worker answering), then interleaved rounds."""
    for contender in contenders:
        warm = run_wrk(contender.url, 1, env=contender.wrk_env)
        if warm["non2xx"] or warm["socket_errors"]:
            raise SystemExit(f"{contender.name}: {warm['non2xx']} non-2xx answers at warm-up")
    for number in range(1, ROUNDS + 1):
        for contender in contenders:
            contender.runs.append(
                run_wrk(contender.url, PHASE, env=contender.wrk_env, server=contender.cpu)
            )
        print(
            f"  round {number}: "
            + ", ".join(f"{c.name} {c.runs[-1]['rps']:.0f}/s" for c in contenders)
        )


def summarize(contenders: list[Contender]) -> dict:
    """Medians per contender; our lead over each peer, the median of the rounds' ratios."""
    ours = contenders[0]
    results = {}
    for contender in contenders:
        phase = median_phase(contender.runs)
        pairs = list(zip(ours.runs, contender.runs, strict=True))
        phase["lead"] = statistics.median(mine["rps"] / theirs["rps"] for mine, theirs in pairs)
        phase["cpu_lead"] = statistics.median(
            theirs["server_cpu_us"] / mine["server_cpu_us"] for mine, theirs in pairs
        )
        phase["rounds"] = contender.runs
        results[contender.name] = phase
    return results


def main() -> None:
    require_wrk()
    if not (PEERS_BIN / "python").exists():
        raise SystemExit("make bench-peers installs .venv-peers (requirements-peers.txt) first")
    OUT.mkdir(exist_ok=True)
    log = OUT / "peers.log"
    log.unlink(missing_ok=True)
    print(f"fresh databases: {make_url(DATABASE_URL).database} (ours), and the peers'")
    env = seed_ours()
    fastapi, fss = start_peers(log)
    ours = None
    try:
        ours = Server("wsgi:app", 8211, WORKER_MODELS["sync"], env, log)
        COMMANDS.append(
            f"gunicorn -c gunicorn.conf.py --bind {HOST}:8211 -k sync --workers 2 wsgi:app"
        )
        contenders = [
            Contender(
                "ours",
                ours.url + "/users/me",
                ours.cpu,
                {"BENCH_AUTH": sign_in(ours.url, "demo1@example.org", PASSWORD)},
            ),
            Contender(
                "fastapi-users",
                fastapi.url + "/users/me",
                fastapi.cpu,
                {"BENCH_AUTH": fastapi_users_token(fastapi.url)},
            ),
            Contender(
                "Flask-Security-Too",
                fss.url + "/me",
                fss.cpu,
                {
                    "BENCH_AUTH": flask_security_token(fss.url),
                    "BENCH_AUTH_HEADER": "Authentication-Token",
                },
            ),
        ]
        print(f"{ROUNDS} interleaved rounds of {PHASE} s, wrk -t2 -c16")
        measure(contenders)
    finally:
        for server in (ours, fastapi, fss):
            if server is not None:
                server.stop()
    figures = {
        "results": summarize(contenders),
        "versions": report.peer_versions(),
        "settings": {"phase": PHASE, "rounds": ROUNDS},
        "commands": COMMANDS,
    }
    (OUT / "peers.json").write_text(json.dumps(figures, indent=1))
    report.publish(figures)


if __name__ == "__main__":
    main()
