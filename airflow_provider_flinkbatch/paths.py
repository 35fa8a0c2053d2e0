"""Where the provider keeps files on the local machine (runner jars, the local cluster's state)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$FLINKBATCH_HOME`` or ``~/.cache/airflow-provider-flinkbatch``, created on first use."""
    root = os.environ.get("FLINKBATCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "airflow-provider-flinkbatch"
    )
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path
