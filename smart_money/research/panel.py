"""One session x symbol panel of adjusted closes, built once, from which every return of the study
is read by index arithmetic (no per-event loop over prices).

- Daily log returns of adjusted closes, clipped to +-log(4) (absurd prints: a +300 % or -75 %
  session is clipped, a bad print and its reversal cancel), cumulated into `cum` so that the
  buy-and-hold return from row d to row d+k is exp(cum[d+k] - cum[d]) - 1.
- A missing day inside a stock's life carries the last price (the next print holds the move);
  after its last print a stock is held as cash (return 0): a delisting neither vanishes from the
  benchmark nor inflates it. Rows before its first print are NaN.
- `has_price[d, s]`: the stock printed a close on session d (needed to enter or be held at d).
- Entry: the first session whose 16:00 close is strictly after the public time; the last close at
  or before the public time is the row before it (the day-0 move runs between the two).
"""

from __future__ import annotations

from datetime import time

import numpy as np
import pandas as pd

from smart_money.dataset.benchmarks import (
    N_PRIOR_BUCKETS,
    N_SIZE_BUCKETS,
    bucket_ids,
    bucket_means,
    prior_return,
    size_characteristic,
)

CLOSE_TIME = time(16, 0)
LOG_CLIP = float(np.log(4.0))


class ReturnPanel:
    def __init__(
        self,
        prices: pd.DataFrame,
        stocks: list[str] | None = None,
        market_index: str | None = None,
        n_size: int = N_SIZE_BUCKETS,
        n_prior: int = N_PRIOR_BUCKETS,
    ):
        prices = prices.drop_duplicates(["symbol", "date"], keep="last")
        symbols = sorted(set(prices["symbol"]) - {market_index}) if stocks is None else list(stocks)
        wide = prices.pivot(index="date", columns="symbol")
        self.dates = pd.DatetimeIndex(wide.index).normalize()
        self.symbols = pd.Index(symbols)
        self.column = {s: i for i, s in enumerate(self.symbols)}

        def matrix(name: str, columns) -> np.ndarray:
            if name not in wide:
                return np.full((len(self.dates), len(columns)), np.nan)
            return wide[name].reindex(columns=columns).to_numpy(dtype=float)

        adj = matrix("adj_close", self.symbols)
        close = matrix("close", self.symbols)
        self.has_price = ~np.isnan(adj) & (adj > 0)
        self.cum = self._cumulative(adj)
        self.close_times = self.dates + pd.Timedelta(hours=CLOSE_TIME.hour, minutes=CLOSE_TIME.minute)
        self.n_size, self.n_prior = n_size, n_prior
        self.n_buckets = n_size * n_prior
        self.size = size_characteristic(
            close, matrix("volume", self.symbols), matrix("shares_outstanding", self.symbols)
        )
        self.size = np.where(self.has_price, self.size, np.nan)
        self.prior = np.where(self.has_price, prior_return(self.cum), np.nan)
        self.buckets = bucket_ids(self.size, self.prior, n_size, n_prior)
        self.market = None
        if market_index is not None and market_index in set(prices["symbol"]):
            m = matrix("adj_close", pd.Index([market_index]))
            self.market = self._cumulative(m)[:, 0]
        self.market_index = market_index
        self._benchmarks: dict[tuple[int, ...], dict[str, np.ndarray]] = {}

    @staticmethod
    def _cumulative(adj: np.ndarray) -> np.ndarray:
        """Cumulative clipped log returns; NaN before a stock's first print, flat after its last."""
        with np.errstate(invalid="ignore", divide="ignore"):
            log_price = np.log(np.where(adj > 0, adj, np.nan))
        filled = pd.DataFrame(log_price).ffill().to_numpy()
        steps = np.diff(filled, axis=0, prepend=np.nan)
        started = ~np.isnan(filled)
        steps = np.where(started, np.nan_to_num(steps, nan=0.0), np.nan)
        steps = np.clip(steps, -LOG_CLIP, LOG_CLIP)
        cum = np.cumsum(np.nan_to_num(steps, nan=0.0), axis=0)
        return np.where(started, cum, np.nan)

    # -- entries ---------------------------------------------------------------------------------
    def entry_rows(self, known_at: pd.Series | pd.DatetimeIndex) -> np.ndarray:
        """Row of the first close strictly after each public time (len(dates) when none)."""
        return self.close_times.searchsorted(pd.DatetimeIndex(known_at), side="right")

    def columns_of(self, symbols: pd.Series) -> np.ndarray:
        """Column of each symbol (-1 when the panel has no prices for it)."""
        return pd.Series(symbols).map(self.column).fillna(-1).to_numpy(dtype=np.int64)

    # -- returns ----------------------------------------------------------------------------------
    def stock_returns(self, rows: np.ndarray, cols: np.ndarray, lags: np.ndarray) -> np.ndarray:
        """(events x lags) buy-and-hold return of each stock from its row to row + lag (NaN when the
        window leaves the panel or the stock has no price at the row)."""
        rows, cols = np.asarray(rows), np.asarray(cols)
        end = rows[:, None] + lags[None, :]
        ok = (rows[:, None] >= 0) & (cols[:, None] >= 0) & (end < len(self.dates)) & (rows[:, None] < len(self.dates))
        r = np.clip(rows, 0, len(self.dates) - 1)[:, None]
        e = np.clip(end, 0, len(self.dates) - 1)
        c = np.clip(cols, 0, len(self.symbols) - 1)[:, None]
        out = np.expm1(self.cum[e, c] - self.cum[r, c])
        return np.where(ok & self.has_price[r, c], out, np.nan)

    def _lagged(self, lag: int) -> np.ndarray:
        """(rows x symbols) buy-and-hold return from each row over `lag` rows, for stocks with a
        price at the row (NaN past the panel's end)."""
        out = np.full(self.cum.shape, np.nan)
        if lag < len(self.dates):
            out[: len(self.dates) - lag] = np.expm1(self.cum[lag:] - self.cum[: len(self.dates) - lag])
        return np.where(self.has_price, out, np.nan)

    def benchmarks(self, lags: np.ndarray) -> dict[str, np.ndarray]:
        """Benchmark returns from every row over every lag, computed once:
        `equal_weight` (rows x lags), `matched` (rows x buckets x lags), `market_index` (rows x lags,
        NaN without an index). Cached per set of lags."""
        key = tuple(int(lag) for lag in lags)
        if key not in self._benchmarks:
            self._benchmarks[key] = self._compute_benchmarks(np.asarray(key))
        return self._benchmarks[key]

    def _compute_benchmarks(self, lags: np.ndarray) -> dict[str, np.ndarray]:
        n = len(self.dates)
        ew = np.full((n, len(lags)), np.nan)
        matched = np.full((n, self.n_buckets, len(lags)), np.nan)
        market = np.full((n, len(lags)), np.nan)
        for j, lag in enumerate(lags):
            values = self._lagged(int(lag))
            with np.errstate(invalid="ignore"):
                count = (~np.isnan(values)).sum(axis=1)
                ew[:, j] = np.where(count > 0, np.nansum(values, axis=1) / np.maximum(count, 1), np.nan)
            matched[:, :, j] = bucket_means(values, self.buckets, self.n_buckets)
            if self.market is not None and lag < n:
                market[: n - lag, j] = np.expm1(self.market[lag:] - self.market[: n - lag])
        return {"equal_weight": ew, "matched": matched, "market_index": market}

    def period_returns(self, start_row: int, end_row: int) -> np.ndarray:
        """(symbols,) buy-and-hold return from start_row to end_row for stocks with a price at
        start_row (NaN otherwise)."""
        out = np.expm1(self.cum[end_row] - self.cum[start_row])
        return np.where(self.has_price[start_row], out, np.nan)
