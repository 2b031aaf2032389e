"""Command-line settings: SMART_MONEY_DEBUG (the `--debug` of `smart-money`)."""

from __future__ import annotations

import os
from collections.abc import Mapping

DEBUG_VARIABLE = "SMART_MONEY_DEBUG"


def debug_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """SMART_MONEY_DEBUG set to anything but empty, 0, false, off or no: a failing command shows
    its full traceback instead of one line."""
    env = os.environ if environ is None else environ
    return env.get(DEBUG_VARIABLE, "").strip().lower() not in ("", "0", "false", "off", "no")
