"""Compiled inner loops (numba) where numpy has no linear-time equivalent.

The as-of join walks prints and quotes once in time order, remembering the latest quote of
every instrument: O(prints + quotes), no sort by instrument. This is what a live consumer of
the feed does, done over a whole tape at once.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _asof_walk(left_ts, left_code, right_ts, right_code, n_codes):  # pragma: no cover - compiled
    latest = np.full(n_codes, -1, dtype=np.int64)
    out = np.empty(len(left_ts), dtype=np.int64)
    j = 0
    n_right = len(right_ts)
    for i in range(len(left_ts)):
        t = left_ts[i]
        while j < n_right and right_ts[j] <= t:
            code = right_code[j]
            if code >= 0:
                latest[code] = j
            j += 1
        code = left_code[i]
        out[i] = latest[code] if code >= 0 else -1
    return out


def _time_sorted(ts: np.ndarray) -> np.ndarray | None:
    """None if already in time order, else the stable order that sorts it."""
    if len(ts) < 2 or bool(np.all(ts[1:] >= ts[:-1])):
        return None
    return np.argsort(ts, kind="stable")


def asof_join(left_ts: np.ndarray, left_code: np.ndarray, right_ts: np.ndarray, right_code: np.ndarray) -> np.ndarray:
    """For each left row, the index of the last right row with the same code and
    ts <= left ts, or -1. Codes are small integers (-1 = unknown instrument); neither side
    needs to be sorted (feeds usually are, which keeps this linear)."""
    if len(left_ts) == 0:
        return np.zeros(0, dtype=np.int64)
    n_codes = int(max(left_code.max(initial=-1), right_code.max(initial=-1))) + 1
    if n_codes == 0 or len(right_ts) == 0:
        return np.full(len(left_ts), -1, dtype=np.int64)
    left_order, right_order = _time_sorted(left_ts), _time_sorted(right_ts)
    lt, lc = (left_ts, left_code) if left_order is None else (left_ts[left_order], left_code[left_order])
    rt, rc = (right_ts, right_code) if right_order is None else (right_ts[right_order], right_code[right_order])
    idx = _asof_walk(*(a.astype(np.int64, copy=False) for a in (lt, lc, rt, rc)), n_codes)
    if right_order is not None:
        idx = np.where(idx >= 0, right_order[np.maximum(idx, 0)], -1)
    if left_order is None:
        return idx
    out = np.empty_like(idx)
    out[left_order] = idx
    return out
