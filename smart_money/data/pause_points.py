"""Named points where a run can be told to stop and wait, so crash tests can kill it there.

With SMART_MONEY_PAUSE_AT unset (always, outside tests) `pause_point` does nothing. Set to a
point's name, the process prints `paused at <name> (pid N)` on stderr when it gets there and
sleeps SMART_MONEY_PAUSE_SECONDS (default 600) before going on, so a test can SIGKILL it at
exactly that point (smart_money_tests/orchestration/test_crash_safety.py). The points:

- `after:<asset>`: the IO manager has stored the asset's output (every partition of the run);
- `registry:<folder>:copied`: a registration has written every file of the new version into its
  temporary folder, and has not moved it into place yet;
- `registry:<folder>:renamed`: the version folder is in place and the index not yet updated.

docs/operations.md describes what a kill at each leaves and how the next run recovers.
"""

from __future__ import annotations

import os
import sys
import time

PAUSE_AT = "SMART_MONEY_PAUSE_AT"
PAUSE_SECONDS = "SMART_MONEY_PAUSE_SECONDS"


def pause_point(name: str) -> None:
    """Wait here if SMART_MONEY_PAUSE_AT names this point (a test kills the process meanwhile)."""
    if os.environ.get(PAUSE_AT) != name:
        return
    print(f"paused at {name} (pid {os.getpid()})", file=sys.stderr, flush=True)
    time.sleep(float(os.environ.get(PAUSE_SECONDS, "600")))
