"""Looking a job up after its submission's answer was lost (issue 20, item 4), for every target.

The job's identity is known before submitting (its id, the YARN tag, the resource name), so when the
answer to a submission never came (the CLI timed out or died, the API server's create timed out) the
job may exist anyway. The target looks it up for a short grace, since the control plane may show it a
moment later, and either follows it or says clearly that it is not there (``SubmissionAnswerLost``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: Seconds a job whose submission's answer was lost is looked for before saying it is not there.
LOST_ANSWER_GRACE = 30.0
_INTERVAL = 1.0


def look_again(find: Callable[[], T | None], grace: float = LOST_ANSWER_GRACE) -> T | None:
    """``find()`` until it returns something or ``grace`` seconds have passed (then ``None``)."""
    deadline = time.monotonic() + grace
    while True:
        found = find()
        if found is not None or time.monotonic() >= deadline:
            return found
        time.sleep(_INTERVAL)
