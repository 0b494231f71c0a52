"""Start and stop gunicorn for a phase, and read its workers' resident memory."""

from __future__ import annotations

import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from bench.cpu import ServerCpu, tree_seconds

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
HOST = "127.0.0.1"


@dataclass(frozen=True)
class WorkerModel:
    """A gunicorn worker setting, passed on the command line beside gunicorn.conf.py."""

    name: str
    args: tuple[str, ...]


WORKER_MODELS = {
    "sync": WorkerModel("sync, 2 workers", ("-k", "sync", "--workers", "2")),
    "sync4": WorkerModel("sync, 4 workers", ("-k", "sync", "--workers", "4")),
    "gthread": WorkerModel(
        "gthread, 2 workers x 4 threads", ("-k", "gthread", "--workers", "2", "--threads", "4")
    ),
}


class Server:
    """One gunicorn master serving `app` on 127.0.0.1:`port`."""

    def __init__(self, app: str, port: int, model: WorkerModel, env: dict, log: Path):
        self.url = f"http://{HOST}:{port}"
        command = [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py")]
        command += ["--bind", f"{HOST}:{port}", *model.args, app]
        self.log_path = log
        self.log = log.open("ab")
        self.log_start = self.log.tell()
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        self._wait_until_up("/health" if app == "wsgi:app" else "/")
        database = make_url(env["DATABASE_URL"]).database if env.get("DATABASE_URL") else None
        self.cpu = ServerCpu(self.process.pid, database)
        # What one worker costs to start (with preload_app: the fork and post_fork): the least
        # CPU any worker has used by now (one of them answered the start-up check).
        self.boot_cpu_s = min(tree_seconds(pid) for pid in self.worker_pids())

    def _wait_until_up(self, path: str, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited early; see {self.log.name}")
            try:
                with urllib.request.urlopen(self.url + path, timeout=2) as response:
                    if response.status == 200:
                        time.sleep(1)  # let every worker finish booting
                        return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer on {self.url}; see {self.log.name}")

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def recycles(self) -> int:
        """Workers replaced by max_requests since this server started (gunicorn logs each)."""
        self.log.flush()
        with self.log_path.open("rb") as log:
            log.seek(self.log_start)
            return log.read().count(b"Autorestarting worker")

    def worker_rss_kib(self) -> dict[int, int]:
        """Resident memory of each worker, in KiB (VmRSS from /proc)."""
        sizes = {}
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except FileNotFoundError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    sizes[pid] = int(line.split()[1])
        return sizes

    def stop(self) -> None:
        stop(self.process, self.log)


def stop(process: subprocess.Popen, log) -> None:
    """SIGTERM (gunicorn's graceful stop), SIGKILL after 30 s; then close its log."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    log.close()
