"""The stack's HAProxy starts under the open-file limit it inherits (2.6+ refuses to otherwise)."""

import os
import shutil
import subprocess

import pytest

from scripts.stack_files import haproxy_cfg
from tests.server import free_port

SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
# A common default for services and CI runners: 1,024 open files, at most 4,096.
LOW_LIMIT = "--nofile=1024:4096"


@pytest.fixture
def haproxy():
    path = shutil.which("haproxy", path=SBIN_PATH)
    if path is None or shutil.which("prlimit") is None:
        pytest.skip("needs haproxy and prlimit (make stack-tools)")
    return path


def run_for_a_while(argv: list[str]) -> tuple[int | None, str]:
    """(exit status or None if still running after 2 s, output) of a program, then stop it."""
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        status = process.wait(timeout=2)
    except subprocess.TimeoutExpired:
        status = None
        process.terminate()
    output, _ = process.communicate(timeout=10)
    return status, output.decode(errors="replace")


def test_haproxy_starts_where_at_most_4096_files_may_be_open(haproxy, tmp_path):
    config = tmp_path / "haproxy.cfg"
    # The config as `make stack` writes it from a process under that limit.
    config.write_text(haproxy_cfg(free_port(), [free_port()], free_port(), max_files=4096))
    status, output = run_for_a_while(["prlimit", LOW_LIMIT, haproxy, "-f", str(config)])
    assert status is None, output


def test_a_fixed_maxconn_of_4000_would_not_start_there(haproxy, tmp_path):
    # What the stack wrote before: HAProxy asks for 8,020 files and exits at once.
    config = tmp_path / "haproxy.cfg"
    config.write_text(haproxy_cfg(free_port(), [free_port()], free_port(), max_files=10**6))
    status, output = run_for_a_while(["prlimit", LOW_LIMIT, haproxy, "-f", str(config)])
    assert status == 1 and "Cannot raise FD limit" in output
