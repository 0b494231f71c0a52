"""gunicorn.conf.py: a worker forks with the preloaded app frozen out of its garbage collector."""

import gc
import runpy
from pathlib import Path

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def test_pre_fork_freezes_what_the_master_built(monkeypatch, tmp_path):
    # Reading the settings would otherwise point this process's metrics at a shared directory.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    settings = runpy.run_path(str(CONF))
    try:
        settings["pre_fork"](None, None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
