"""Characteristic-matched benchmarks: size and prior-return buckets per session, shared by the
excess-return labels (dataset/labels.py) and the event study (research/).

On each session d every stock with a close is placed in one of `n_size` x `n_prior` buckets by
cross-sectional quantiles of two characteristics known at d's close:

- size: log market cap (close x shares outstanding) when the session's cross-section has shares
  outstanding for at least 80 % of its stocks, else log mean dollar volume over the past 20
  sessions (public price files carry no shares outstanding);
- prior return: the log return over the past 126 sessions (six months).

A stock lacking either characteristic has no bucket (-1). A matched benchmark is the equal-weight
buy-and-hold return of the stock's bucket from d (Barber & Lyon 1997: characteristic-matched,
not rebalanced daily).
"""

from __future__ import annotations

import numpy as np

N_SIZE_BUCKETS = 5
N_PRIOR_BUCKETS = 5
PRIOR_RETURN_SESSIONS = 126
DOLLAR_VOLUME_SESSIONS = 20
MARKET_CAP_COVERAGE = 0.8


def rolling_mean(x: np.ndarray, window: int, min_count: int) -> np.ndarray:
    """Trailing mean over `window` rows (NaN ignored; NaN with fewer than min_count values)."""
    values = np.nan_to_num(x, nan=0.0)
    counts = (~np.isnan(x)).astype(float)
    csum = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(values, axis=0)])
    ccount = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(counts, axis=0)])
    lo = np.clip(np.arange(1, len(x) + 1) - window, 0, None)
    total = csum[1:] - csum[lo]
    n = ccount[1:] - ccount[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n >= min_count, total / n, np.nan)


def size_characteristic(close: np.ndarray, volume: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """(sessions x symbols) log size: market cap where the session's coverage allows, else log
    20-session mean dollar volume."""
    with np.errstate(invalid="ignore", divide="ignore"):
        cap = np.log(np.where((close > 0) & (shares > 0), close * shares, np.nan))
        dollar = rolling_mean(close * volume, DOLLAR_VOLUME_SESSIONS, DOLLAR_VOLUME_SESSIONS // 2)
        dollar = np.log(np.where(dollar > 0, dollar, np.nan))
    has_close = ~np.isnan(close)
    coverage = (~np.isnan(cap) & has_close).sum(axis=1) / np.maximum(has_close.sum(axis=1), 1)
    use_cap = coverage >= MARKET_CAP_COVERAGE
    out = np.where(use_cap[:, None], cap, dollar)
    return np.where(has_close, out, np.nan)


def prior_return(log_price: np.ndarray, sessions: int = PRIOR_RETURN_SESSIONS) -> np.ndarray:
    """(sessions x symbols) log return over the past `sessions` rows (NaN without history)."""
    out = np.full(log_price.shape, np.nan)
    if len(log_price) > sessions:
        out[sessions:] = log_price[sessions:] - log_price[:-sessions]
    return out


def quantile_codes(values: np.ndarray, n: int) -> np.ndarray:
    """Per row, the quantile group 0..n-1 of each value among the row's valid values (-1: NaN)."""
    out = np.full(values.shape, -1, dtype=np.int64)
    valid = ~np.isnan(values)
    counts = valid.sum(axis=1)
    # rank within the row: NaN sorted last by argsort
    order = np.argsort(np.where(valid, values, np.inf), axis=1, kind="stable")
    ranks = np.empty_like(order)
    rows = np.arange(values.shape[0])[:, None]
    ranks[rows, order] = np.arange(values.shape[1])[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        group = np.floor(ranks * n / np.maximum(counts, 1)[:, None]).astype(np.int64)
    out[valid] = np.minimum(group, n - 1)[valid]
    return out


def bucket_ids(
    size: np.ndarray, prior: np.ndarray, n_size: int = N_SIZE_BUCKETS, n_prior: int = N_PRIOR_BUCKETS
) -> np.ndarray:
    """(sessions x symbols) bucket id size_group * n_prior + prior_group, -1 without both
    characteristics. Groups are quantiles among the stocks that have both."""
    both = ~np.isnan(size) & ~np.isnan(prior)
    s = quantile_codes(np.where(both, size, np.nan), n_size)
    p = quantile_codes(np.where(both, prior, np.nan), n_prior)
    return np.where(both, s * n_prior + p, -1)


def bucket_means(values: np.ndarray, buckets: np.ndarray, n_buckets: int) -> np.ndarray:
    """(rows x n_buckets) mean of `values` per row and bucket (NaN values and bucket -1 skipped;
    NaN for an empty bucket)."""
    rows = np.broadcast_to(np.arange(values.shape[0])[:, None], values.shape)
    ok = (buckets >= 0) & ~np.isnan(values)
    flat = rows[ok] * n_buckets + buckets[ok]
    size = values.shape[0] * n_buckets
    sums = np.bincount(flat, weights=values[ok], minlength=size)
    counts = np.bincount(flat, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sums / counts).reshape(values.shape[0], n_buckets)
