"""The engine's inner loops: exact numpy/Python versions for ordinary inputs, and the compiled
ones (`kernels_jit`, numba) for large inputs only, so scoring a file does not pay numba's
import and first-call start (about half a second). Both versions give identical results (the
tests compare them); the sizes below only choose the faster one.
"""

from __future__ import annotations

import importlib

import numpy as np

JIT_MIN_ROWS = 400_000  # as-of join: prints + quotes
JIT_MIN_PACKETS = 20_000  # multi-leg grouping


def _jit():
    """The compiled kernels, imported on first use (numba is heavy to import and start)."""
    return importlib.import_module("smart_money.options.engine.kernels_jit")


def asof_join(left_ts: np.ndarray, left_code: np.ndarray, right_ts: np.ndarray, right_code: np.ndarray) -> np.ndarray:
    """For each left row, the index of the last right row with the same code and
    ts <= left ts (among equal times, the last in input order), or -1. Codes are small
    integers (-1 = unknown instrument); neither side needs to be sorted."""
    if len(left_ts) + len(right_ts) >= JIT_MIN_ROWS:
        return _jit().asof_join(left_ts, left_code, right_ts, right_code)
    left_ts, left_code = np.asarray(left_ts, np.int64), np.asarray(left_code, np.int64)
    right_ts, right_code = np.asarray(right_ts, np.int64), np.asarray(right_code, np.int64)
    out = np.full(len(left_ts), -1, dtype=np.int64)
    known = np.flatnonzero(right_code >= 0)
    if len(left_ts) == 0 or len(known) == 0:
        return out
    # rank times jointly, then search (code, rank) keys: right rows sorted by code, time and
    # input order, so the last match among equal times is the last in input order
    ranks = np.unique(np.concatenate([left_ts, right_ts[known]]), return_inverse=True)[1]
    n_ranks = int(ranks.max()) + 1
    left_key = left_code * n_ranks + ranks[: len(left_ts)]
    right_key = right_code[known] * n_ranks + ranks[len(left_ts) :]
    order = np.argsort(right_key, kind="stable")
    sorted_key = right_key[order]
    pos = np.searchsorted(sorted_key, left_key, side="right") - 1
    hit = (pos >= 0) & (left_code >= 0)
    hit[hit] = right_code[known][order][pos[hit]] == left_code[hit]
    out[hit] = known[order][pos[hit]]
    return out


_MIX_1, _MIX_2, _GOLDEN = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB), np.uint64(0x9E3779B97F4A7C15)


def _splitmix64(z: np.ndarray) -> np.ndarray:
    z = z + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX_1
    z = (z ^ (z >> np.uint64(27))) * _MIX_2
    return z ^ (z >> np.uint64(31))


# MASKS[k] keeps the low k bytes of a little-endian word (k = 8: all of it)
_BYTE_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], dtype=np.uint64)


def fold_words(data, offsets, seed_high, seed_low, multiplier):
    """Two hashes per string of an Arrow-style (bytes, offsets) array: each string's bytes,
    trailing NULs dropped, read as little-endian 64-bit words (the last one zero-padded) and
    folded with splitmix64. Vectorised over strings, one pass per word position: the words are
    read in place through an unaligned 8-byte view of the bytes (no per-byte matrix), strings
    sorted longest first so each pass works on a prefix."""
    data = np.asarray(data, dtype=np.uint8)
    offsets = np.asarray(offsets, dtype=np.int64)
    n = len(offsets) - 1
    high = np.full(max(n, 0), seed_high, dtype=np.uint64)
    low = np.full(max(n, 0), seed_low, dtype=np.uint64)
    if n <= 0:
        return high, low
    starts = offsets[:-1]
    lengths = np.diff(offsets)
    while True:  # trailing NULs are not significant (rare: usually one pass)
        nul = lengths > 0
        nul[nul] = data[starts[nul] + lengths[nul] - 1] == 0
        if not nul.any():
            break
        lengths = lengths - nul
    padded = np.zeros(len(data) + 8, dtype=np.uint8)
    padded[: len(data)] = data
    word_at = np.ndarray((len(padded) - 7,), dtype="<u8", buffer=padded, strides=(1,))  # word at each byte
    order = np.argsort(-lengths, kind="stable")
    ordered_lengths, ordered_starts = lengths[order], starts[order]
    h, lo = high[order], low[order]
    multiplier = np.uint64(multiplier)
    with np.errstate(over="ignore"):
        for w in range(int(-(-ordered_lengths[0] // 8))):
            m = int(np.count_nonzero(ordered_lengths > 8 * w))  # strings with a word here: a prefix
            word = word_at[ordered_starts[:m] + 8 * w] & _BYTE_MASKS[np.minimum(ordered_lengths[:m] - 8 * w, 8)]
            h[:m] = _splitmix64(h[:m] ^ word)
            lo[:m] = _splitmix64(lo[:m] + word * multiplier)
    high[order], low[order] = h, lo
    return high, low


def leg_anchors(und, start, contract, size, window, min_ratio, max_ratio):
    """The anchor packet of each packet, for packets sorted by (underlying, start, contract):
    within a chain of packets of one underlying less than `window` apart, the earliest
    unassigned packet anchors; later ones join it if they start within `window` of it, trade
    a contract not yet in it and have a size ratio to it within [min_ratio, max_ratio]."""
    n = len(start)
    if n >= JIT_MIN_PACKETS:
        return _jit().leg_anchors(und, start, contract, size, window, min_ratio, max_ratio)
    anchor_of = np.arange(n)
    if n < 2:
        return anchor_of
    und, start = np.asarray(und), np.asarray(start)
    breaks = np.flatnonzero((und[1:] != und[:-1]) | (start[1:] - start[:-1] >= window)) + 1
    bounds = np.concatenate([[0], breaks, [n]])
    chains = np.flatnonzero(np.diff(bounds) > 1)
    if not len(chains):
        return anchor_of
    start_l, contract_l, size_l = start.tolist(), np.asarray(contract).tolist(), np.asarray(size).tolist()
    anchors = anchor_of.tolist()
    for c in chains.tolist():
        remaining = list(range(int(bounds[c]), int(bounds[c + 1])))
        while len(remaining) > 1:
            anchor = remaining[0]
            seen = {contract_l[anchor]}
            rest = []
            for j in remaining[1:]:
                ratio = size_l[j] / size_l[anchor]
                if (
                    start_l[j] - start_l[anchor] < window
                    and min_ratio <= ratio <= max_ratio
                    and contract_l[j] not in seen
                ):
                    anchors[j] = anchor
                    seen.add(contract_l[j])
                else:
                    rest.append(j)
            remaining = rest
    return np.asarray(anchors, dtype=np.int64)
