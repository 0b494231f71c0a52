"""A real gunicorn server on loopback for tests that need several worker processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import typing
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from config import TESTING_DATA_ENCRYPTION_KEY, generate_signing_key

ROOT = Path(__file__).resolve().parent.parent
CERT_SIGNING_KEY = generate_signing_key()
METRICS_TOKEN = "gunicorn-test-metrics-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server(str):
    """The base URL of a running server (so f"{server}/path" works), with its process."""

    process: subprocess.Popen
    log: typing.IO[bytes]

    def output(self) -> str:
        """What gunicorn has written to stderr so far."""
        # pread leaves the offset alone: gunicorn shares it and keeps appending at it.
        fd = self.log.fileno()
        return os.pread(fd, os.fstat(fd).st_size, 0).decode(errors="replace")


@contextmanager
def gunicorn(database_url: str, *, workers: int = 4, **environ):
    """Serve wsgi:app with the production configuration; yields the Server (its base URL)."""
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": "gunicorn-test-secret-key-0123456789abcdef",
        "DATABASE_URL": database_url,
        "CERT_SIGNING_KEY": CERT_SIGNING_KEY,
        "AUDIT_KEY": "gunicorn-test-audit-key-0123456789abcdef",
        "METRICS_TOKEN": METRICS_TOKEN,
        # The tests' own key: the server reads rows the tests write, and the other way round.
        "DATA_ENCRYPTION_KEY": TESTING_DATA_ENCRYPTION_KEY,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        # These tests send bursts from one address; the throttling tests cover the limits.
        "RATELIMIT_ENABLED": "false",
        **environ,
    }
    # Logs go to a file: a pipe nobody reads fills up and blocks the workers.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = Server(f"http://127.0.0.1:{port}")
    base.process, base.log = process, log
    try:
        _wait_until_up(base, process, log)
        yield base
    except BaseException:
        log.seek(0)  # shown by pytest with the failure: what the server said
        sys.stderr.write(log.read().decode(errors="replace")[-5000:])
        raise
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_up(base: str, process: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"gunicorn exited: {log.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=1):
                return
        except OSError:  # not listening yet, or still booting
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start within 30 s")


def request(
    method: str,
    url: str,
    body: dict | None = None,
    headers: dict | None = None,
    data: bytes | None = None,
):
    """(status, parsed JSON body) of one HTTP request; errors are answers, not exceptions."""
    if body is not None:
        data = json.dumps(body).encode()
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    req = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read() or b"null")
