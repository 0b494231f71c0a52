"""CPU time of the server side, read from /proc: gunicorn's tree and PostgreSQL's tree.

A master's `cutime + cstime` hold the CPU of the children it has reaped, so the sum of a
master's own, its reaped children's and its live children's CPU counts workers recycled during
a phase, and PostgreSQL backends that closed (the postmaster reaps them), exactly once.
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


class ServerCpu:
    """CPU seconds used by the app server (and PostgreSQL) between `start()` and `stop()`."""

    def __init__(self, gunicorn_pid: int):
        self.gunicorn_pid = gunicorn_pid
        self.postmaster = postmaster_pid()

    def sample(self) -> tuple[float, float]:
        database = tree_seconds(self.postmaster) if self.postmaster else 0.0
        return tree_seconds(self.gunicorn_pid), database

    def start(self) -> None:
        self._start = self.sample()

    def stop(self) -> dict:
        app, database = self.sample()
        return {"app_cpu_s": app - self._start[0], "db_cpu_s": database - self._start[1]}
