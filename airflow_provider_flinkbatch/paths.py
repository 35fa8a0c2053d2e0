"""Where the provider keeps files on the local machine (runner jars, the local cluster's state).

One rule, used by ``scripts/demo.sh``, every ``flinkbatch`` command and the operator alike, so a
command pasted into a plain shell acts on the cluster the demo started (not on a second one):

1. ``$FLINKBATCH_HOME`` when set;
2. else the nearest ``.flinkbatch/`` folder in the current directory or one of its parents (the project's
   state, as ``scripts/demo.sh`` creates it in the repository root), found like git finds ``.git``;
3. else the ``.flinkbatch/`` folder next to the virtualenv this Python runs from (``<project>/.venv``),
   when it exists, so ``/path/to/project/.venv/bin/flinkbatch`` finds it from any directory;
4. else ``~/.cache/airflow-provider-flinkbatch`` (``$XDG_CACHE_HOME``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

STATE_FOLDER = ".flinkbatch"


def home_and_reason() -> tuple[Path, str]:
    """The state folder and, in a few words, why it was chosen (``flinkbatch local status`` prints it)."""
    env = os.environ.get("FLINKBATCH_HOME")
    if env:
        return Path(env), "$FLINKBATCH_HOME"
    cwd = Path.cwd()
    for folder in (cwd, *cwd.parents):
        candidate = folder / STATE_FOLDER
        if candidate.is_dir():
            return candidate, f"the nearest {STATE_FOLDER}/ from the current directory"
    beside_venv = Path(sys.prefix).parent / STATE_FOLDER
    if sys.prefix != sys.base_prefix and beside_venv.is_dir():
        return beside_venv, f"the {STATE_FOLDER}/ next to the virtualenv {sys.prefix}"
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    root = os.path.join(cache, "airflow-provider-flinkbatch")
    return Path(root), f"the default (no $FLINKBATCH_HOME, no {STATE_FOLDER}/ found)"


def cache_dir() -> Path:
    """The state folder (see the module docstring), created on first use."""
    path, _ = home_and_reason()
    path.mkdir(parents=True, exist_ok=True)
    return path
