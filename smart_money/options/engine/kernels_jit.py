"""Compiled inner loops (numba) for large inputs, where numpy has no linear-time equivalent or
would build many temporaries. Imported only when an input is large enough to pay for numba's
start (see `kernels`, whose numpy/Python versions give exactly the same results).

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


_MIX_1, _MIX_2, _GOLDEN = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB), np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, nogil=True)
def _splitmix64(z):  # pragma: no cover - compiled
    z = z + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX_1
    z = (z ^ (z >> np.uint64(27))) * _MIX_2
    return z ^ (z >> np.uint64(31))


@njit(cache=True, nogil=True)
def fold_words(data, offsets, seed_high, seed_low, multiplier):  # pragma: no cover - compiled
    """Two hashes per string of an Arrow-style (bytes, offsets) array: each string's bytes,
    trailing NULs dropped, read as little-endian 64-bit words (the last one zero-padded) and
    folded with splitmix64."""
    n = len(offsets) - 1
    high = np.empty(n, dtype=np.uint64)
    low = np.empty(n, dtype=np.uint64)
    for i in range(n):
        start, end = offsets[i], offsets[i + 1]
        while end > start and data[end - 1] == 0:
            end -= 1
        h, lo = seed_high, seed_low
        for word_start in range(start, end, 8):
            word = np.uint64(0)
            for b in range(min(8, end - word_start)):
                word |= np.uint64(data[word_start + b]) << np.uint64(8 * b)
            h = _splitmix64(h ^ word)
            lo = _splitmix64(lo + word * multiplier)
        high[i] = h
        low[i] = lo
    return high, low


@njit(cache=True, nogil=True)
def leg_anchors(und, start, contract, size, window, min_ratio, max_ratio):  # pragma: no cover - compiled
    """The anchor packet of each packet, for packets sorted by (underlying, start, contract):
    within a chain of packets of one underlying less than `window` apart, the earliest
    unassigned packet anchors; later ones join it if they start within `window` of it, trade
    a contract not yet in it and have a size ratio to it within [min_ratio, max_ratio]."""
    n = len(start)
    anchor_of = np.arange(n)
    remaining = np.empty(n, dtype=np.int64)
    rest = np.empty(n, dtype=np.int64)
    lo = 0
    while lo < n:
        hi = lo + 1
        while hi < n and und[hi] == und[hi - 1] and start[hi] - start[hi - 1] < window:
            hi += 1
        m = hi - lo
        for k in range(m):
            remaining[k] = lo + k
        while m > 1:
            anchor = remaining[0]
            seen = {contract[anchor]}
            r = 0
            for k in range(1, m):
                j = remaining[k]
                ratio = size[j] / size[anchor]
                if start[j] - start[anchor] < window and min_ratio <= ratio <= max_ratio and contract[j] not in seen:
                    anchor_of[j] = anchor
                    seen.add(contract[j])
                else:
                    rest[r] = j
                    r += 1
            remaining[:r] = rest[:r]
            m = r
        lo = hi
    return anchor_of
