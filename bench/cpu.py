"""CPU time of the server side, read from /proc: gunicorn's tree and the bench database's
PostgreSQL backends.

A master's `cutime + cstime` hold the CPU of the children it has reaped, so the sum of a
master's own, its reaped children's and its live children's CPU counts workers recycled during
a phase exactly once. PostgreSQL is counted per backend serving the bench's database (its
process title names the database): the whole postmaster tree would also count every other
database's clients on a shared host (a floor that never connects measured 135-300 us of
"PostgreSQL" per request while other test runs used the server). The app's pools keep their
backends for the whole phase; one that closes mid-phase loses its share.
"""

from __future__ import annotations

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def tree_seconds(master: int) -> float:
    """CPU seconds of `master`, its reaped children and its live children (one level)."""
    fields = _stat(master)
    if fields is None:
        return 0.0
    ticks = sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    for child in _children(master):
        child_fields = _stat(child)
        if child_fields is not None:
            ticks += int(child_fields[11]) + int(child_fields[12])
    return ticks / TICK


def postmaster_pid() -> int | None:
    """The local PostgreSQL server's main process (the parent of its checkpointer)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if command.startswith(b"postgres: ") and b"checkpointer" in command:
            fields = _stat(int(entry.name))
            return int(fields[1]) if fields else None
    return None


def backend_seconds(postmaster: int, database: str) -> dict[int, float]:
    """CPU seconds of each live PostgreSQL backend connected to `database`."""
    seconds = {}
    for pid in _children(postmaster):
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").split()
        except OSError:
            continue
        # "postgres: [CLUSTER:] USER DATABASE HOST(PORT) STATE" (Debian names the cluster)
        words = [word.decode(errors="replace") for word in title[1:]]
        if words and words[0].endswith(":"):
            words = words[1:]
        if len(words) > 1 and words[1] == database:
            fields = _stat(pid)
            if fields is not None:
                seconds[pid] = (int(fields[11]) + int(fields[12])) / TICK
    return seconds


class ServerCpu:
    """CPU seconds used by the app server (and its database's backends) between `start()` and
    `stop()`."""

    def __init__(self, gunicorn_pid: int, database: str | None):
        self.gunicorn_pid = gunicorn_pid
        self.database = database
        self.postmaster = postmaster_pid() if database else None

    def sample(self) -> tuple[float, dict[int, float]]:
        backends = backend_seconds(self.postmaster, self.database) if self.postmaster else {}
        return tree_seconds(self.gunicorn_pid), backends

    def start(self) -> None:
        self._start = self.sample()

    def stop(self) -> dict:
        app, backends = self.sample()
        database = sum(cpu - self._start[1].get(pid, 0.0) for pid, cpu in backends.items())
        return {"app_cpu_s": app - self._start[0], "db_cpu_s": database}
