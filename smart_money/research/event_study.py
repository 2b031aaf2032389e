"""Event time: buy-and-hold abnormal returns (BHAR) after each disclosure event.

For an event entered at row e (the first close after its public time) the abnormal return over h
sessions is the stock's buy-and-hold return from e to e+h minus its benchmark's over the same
sessions: the equal-weight universe, the matched size x prior-return bucket (formed at e), or the
market index. The day-0 move (row e-1, the last close at or before the public time, to e) is
reported apart: it is not tradable on close-to-close data.

Statistics per family, benchmark and horizon: mean, median, share positive, a 1/99 % winsorised
mean, t-statistics with standard errors clustered by entry date and two-way by date x firm
(statsmodels, Cameron-Gelbach-Miller), a date-bootstrap 95 % interval, and a non-overlapping
variant (a firm's event counts only if the firm had no event of the family in the h sessions
before). Everything is gathered from the panel by index arrays; benchmarks are computed once
per row.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
import statsmodels.api as sm
from threadpoolctl import ThreadpoolController

from smart_money.research.panel import ReturnPanel

HORIZONS = (1, 5, 10, 21, 63)
CURVE_LAGS = np.arange(0, 64)
BENCHMARKS = ("equal_weight", "matched", "market_index")
WINSOR = 0.01
BOOTSTRAP = 1000
SIZE_LABELS = ("small", "mid", "large")


@dataclass
class EventReturns:
    """Per event: where it entered and its returns (columns `car_<benchmark>_<h>` and
    `day0_<benchmark>`), plus `status`: ok | no_prices (no price file) | after_panel (public after
    the last price) | no_entry_price (no close on the entry session)."""

    frame: pd.DataFrame
    curves: dict[tuple[str, str], pd.DataFrame]  # (family, benchmark) -> lag, mean, band


def _gather_benchmark(bench: dict[str, np.ndarray], name: str, rows: np.ndarray, buckets: np.ndarray) -> np.ndarray:
    values = bench[name]
    r = np.clip(rows, 0, values.shape[0] - 1)
    if name == "matched":
        out = values[r, np.clip(buckets, 0, None)]
        return np.where((buckets >= 0)[:, None], out, np.nan)
    return values[r]


def event_returns(panel: ReturnPanel, events: pd.DataFrame) -> EventReturns:
    """Entry rows and abnormal returns of every event (vectorised over events)."""
    n = len(panel.dates)
    rows = panel.entry_rows(events["known_at"])
    cols = panel.columns_of(events["symbol"])
    safe_r, safe_c = np.clip(rows, 0, n - 1), np.clip(cols, 0, len(panel.symbols) - 1)
    priced = (cols >= 0) & (rows < n) & panel.has_price[safe_r, safe_c]
    status = np.select(
        [cols < 0, rows >= n, ~priced], ["no_prices", "after_panel", "no_entry_price"], default="ok"
    ).astype(object)
    out = events.reset_index(drop=True).copy()
    out["entry_row"] = rows
    out["entry_date"] = pd.DatetimeIndex(panel.dates[safe_r]).where(rows < n, pd.NaT)
    out["status"] = status
    lags = np.asarray(sorted(set(HORIZONS) | set(CURVE_LAGS.tolist()) | {1}))
    horizon_index = {h: int(np.searchsorted(lags, h)) for h in HORIZONS}
    bench = panel.benchmarks(lags)
    buckets = np.where(priced, panel.buckets[safe_r, safe_c], -1)
    stock = np.where(priced[:, None], panel.stock_returns(safe_r, safe_c, lags), np.nan)
    # day 0: from the last close at or before the public time (row e-1) to the entry close
    pre = safe_r - 1
    pre_ok = priced & (pre >= 0) & panel.has_price[np.clip(pre, 0, None), safe_c]
    stock0 = np.where(pre_ok, panel.stock_returns(np.clip(pre, 0, None), safe_c, np.array([1]))[:, 0], np.nan)
    pre_buckets = np.where(pre_ok, panel.buckets[np.clip(pre, 0, None), safe_c], -1)
    last_print = np.where(panel.has_price.any(axis=0), n - 1 - np.argmax(panel.has_price[::-1], axis=0), -1)
    out["last_price_row"] = np.where(cols >= 0, last_print[safe_c], -1)
    out["size_bucket"] = _size_terciles(panel, safe_r, safe_c, priced)
    curves: dict[tuple[str, str], pd.DataFrame] = {}
    one = int(np.searchsorted(lags, 1))
    for name in BENCHMARKS:
        benchmark = _gather_benchmark(bench, name, safe_r, buckets)
        car = stock - benchmark
        for h, j in horizon_index.items():
            out[f"car_{name}_{h}"] = car[:, j]
        b0 = _gather_benchmark(bench, name, np.clip(pre, 0, None), pre_buckets)[:, one]
        out[f"day0_{name}"] = stock0 - b0
        for family, idx in out.groupby("family").indices.items():
            curves[(family, name)] = _curve(car[idx][:, : len(CURVE_LAGS)], out["entry_row"].to_numpy()[idx])
    return EventReturns(out, curves)


def _size_terciles(panel: ReturnPanel, rows: np.ndarray, cols: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """small / mid / large by the entry session's cross-sectional size terciles (computed once per
    session the events enter on, not once per event)."""
    sessions, at = np.unique(rows, return_inverse=True)
    size = panel.size[sessions]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lo = np.nanquantile(size, 1 / 3, axis=1)[at]
        hi = np.nanquantile(size, 2 / 3, axis=1)[at]
    own = panel.size[rows, cols]
    label = np.where(own <= lo, "small", np.where(own <= hi, "mid", "large")).astype(object)
    return np.where(ok & ~np.isnan(own), label, None)


def _curve(car: np.ndarray, rows: np.ndarray) -> pd.DataFrame:
    """Mean abnormal return per lag with a +-1.96 date-clustered standard error band."""
    means, lows, highs, counts = [], [], [], []
    for j in range(car.shape[1]):
        x = car[:, j]
        ok = ~np.isnan(x)
        mean, se = _clustered_mean(x[ok], rows[ok])
        means.append(mean)
        lows.append(mean - 1.96 * se)
        highs.append(mean + 1.96 * se)
        counts.append(int(ok.sum()))
    return pd.DataFrame({"lag": CURVE_LAGS, "mean": means, "low": lows, "high": highs, "n": counts})


def _clustered_mean(x: np.ndarray, groups: np.ndarray) -> tuple[float, float]:
    """Mean and its cluster-robust standard error (clusters = groups; CR1 correction)."""
    n = len(x)
    if n == 0:
        return float("nan"), float("nan")
    mean = float(x.mean())
    codes, g = pd.factorize(groups)
    if len(g) < 2:
        return mean, float("nan")
    sums = np.bincount(codes, weights=x - mean)
    correction = len(g) / (len(g) - 1)  # CR1 for a mean: G / (G - 1) x (n - 1) / (n - k), k = 1
    return mean, float(np.sqrt(correction * np.sum(sums**2)) / n)


# -- statistics --------------------------------------------------------------------------------------
def winsorized_mean(x: np.ndarray, q: float = WINSOR) -> float:
    if not len(x):
        return float("nan")
    lo, hi = np.quantile(x, [q, 1 - q])
    return float(np.clip(x, lo, hi).mean())


def cluster_t(x: np.ndarray, groups: np.ndarray) -> float:
    """t of the mean with statsmodels' cluster-robust covariance; `groups` 1-D (one-way) or
    (n, 2) (two-way); NaN with fewer than two clusters per dimension."""
    return cluster_ts(x, [groups])[0]


def cluster_ts(x: np.ndarray, groupings: list[np.ndarray]) -> list[float]:
    """`cluster_t(x, groups)` for each of `groupings`, from one OLS fit of `x` on a constant (the
    robust covariance is computed from the fit's residuals, as `fit(cov_type="cluster")` does)."""
    usable = [np.asarray(groups) for groups in groupings]
    if len(x) < 3 or np.allclose(x, x[0]):
        return [float("nan")] * len(usable)
    fit = None
    out = []
    for groups in usable:
        dims = groups.reshape(len(x), -1)
        if any(len(np.unique(dims[:, j])) < 2 for j in range(dims.shape[1])):
            out.append(float("nan"))
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = fit if fit is not None else sm.OLS(x, np.ones((len(x), 1))).fit()
            robust = fit.get_robustcov_results(cov_type="cluster", groups=groups)
        out.append(float(robust.tvalues[0]))
    return out


def date_bootstrap_interval(
    x: np.ndarray, dates: np.ndarray, n_boot: int, rng: np.random.Generator
) -> tuple[float, float]:
    """95 % interval of the mean resampling entry dates with replacement (all of a date's events
    together), vectorised through per-date sums and counts."""
    codes, uniques = pd.factorize(dates)
    k = len(uniques)
    if k < 2 or n_boot <= 0:
        return float("nan"), float("nan")
    sums = np.bincount(codes, weights=x, minlength=k)
    counts = np.bincount(codes, minlength=k).astype(float)
    draws = rng.integers(0, k, size=(n_boot, k))
    weights = np.bincount((draws + np.arange(n_boot)[:, None] * k).ravel(), minlength=n_boot * k).reshape(n_boot, k)
    with _one_blas_thread():
        means = (weights @ sums) / np.maximum(weights @ counts, 1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


@cache
def _blas_controller() -> ThreadpoolController:
    return ThreadpoolController()


def _one_blas_thread():
    """BLAS on one thread for the bootstrap's (n_boot x dates) @ (dates,) products: each output
    element is the same dot product whatever the thread count (identical results), and threads
    cost ten times what they give on two busy cores. (Not around statsmodels' fits: their
    decompositions' last digits do depend on the thread count.)"""
    return _blas_controller().limit(limits=1, user_api="blas")


def summarize(
    x: np.ndarray, dates: np.ndarray, firms: np.ndarray, n_boot: int, rng: np.random.Generator
) -> dict[str, float]:
    """Every statistic of one sample of abnormal returns (in basis points where a return)."""
    ok = ~np.isnan(x)
    x, dates, firms = x[ok], dates[ok], firms[ok]
    if not len(x):
        keys = ("mean_car_bp", "median_car_bp", "winsorized_mean_car_bp", "frac_positive", "t_date", "t_two_way")
        return {"n_events": 0, "n_dates": 0, "n_firms": 0, **dict.fromkeys(keys, float("nan")),
                "ci_low_bp": float("nan"), "ci_high_bp": float("nan")}  # fmt: skip
    date_codes = pd.factorize(dates)[0]
    firm_codes = pd.factorize(firms)[0]
    low, high = date_bootstrap_interval(x, dates, n_boot, rng)
    t_date, t_two_way = cluster_ts(x, [date_codes, np.column_stack([date_codes, firm_codes])])
    return {
        "n_events": int(len(x)),
        "n_dates": int(date_codes.max() + 1),
        "n_firms": int(firm_codes.max() + 1),
        "mean_car_bp": float(x.mean() * 1e4),
        "median_car_bp": float(np.median(x) * 1e4),
        "winsorized_mean_car_bp": winsorized_mean(x) * 1e4,
        "frac_positive": float((x > 0).mean()),
        "t_date": t_date,
        "t_two_way": t_two_way,
        "ci_low_bp": low * 1e4,
        "ci_high_bp": high * 1e4,
    }


def non_overlapping(frame: pd.DataFrame, horizon: int) -> np.ndarray:
    """Mask of events whose firm had no earlier event of the same family in the `horizon` sessions
    before (the first event of each burst)."""
    return _gap_to_previous(frame).non_overlapping(horizon)


@dataclass
class _PreviousEvent:
    """Per event (in the frame's order): its entry row and the entry row of the firm's previous
    event of the same family (NaN for the first), so the mask of any horizon is one comparison."""

    entry_row: np.ndarray
    previous: np.ndarray

    def non_overlapping(self, horizon: int) -> np.ndarray:
        keep = np.isnan(self.previous) | (self.entry_row - self.previous >= horizon)
        return keep


def _gap_to_previous(frame: pd.DataFrame) -> _PreviousEvent:
    order = frame.sort_values(["family", "symbol", "entry_row"], kind="stable")
    previous = order.groupby(["family", "symbol"])["entry_row"].shift(1).reindex(frame.index)
    return _PreviousEvent(frame["entry_row"].to_numpy(dtype=float), previous.to_numpy(dtype=float))


def study_rows(returns: pd.DataFrame, n_boot: int = BOOTSTRAP, seed: int = 0) -> list[dict]:
    """One row per (family, benchmark, window, horizon): window `post_entry` for each horizon and
    `day0` (horizon 0) for the day-0 move."""
    rng = np.random.default_rng(seed)
    ok = returns[returns["status"] == "ok"]
    rows: list[dict] = []
    for family, group in ok.groupby("family", sort=False):
        dates = group["entry_date"].to_numpy()
        firms = group["symbol"].to_numpy()
        gaps = _gap_to_previous(group)  # the same for every benchmark and horizon
        for benchmark in BENCHMARKS:
            day0 = group[f"day0_{benchmark}"].to_numpy(dtype=float)
            rows.append(
                {
                    "family": family,
                    "benchmark": benchmark,
                    "window": "day0",
                    "horizon_sessions": 0,
                    **summarize(day0, dates, firms, n_boot, rng),
                }
            )
            for h in HORIZONS:
                x = group[f"car_{benchmark}_{h}"].to_numpy(dtype=float)
                row = {
                    "family": family,
                    "benchmark": benchmark,
                    "window": "post_entry",
                    "horizon_sessions": h,
                    **summarize(x, dates, firms, n_boot, rng),
                }
                keep = gaps.non_overlapping(h) & ~np.isnan(x)
                row["n_nonoverlapping"] = int(keep.sum())
                row["mean_car_nonoverlapping_bp"] = float(x[keep].mean() * 1e4) if keep.any() else float("nan")
                row["t_date_nonoverlapping"] = (
                    cluster_t(x[keep], pd.factorize(dates[keep])[0]) if keep.any() else float("nan")
                )
                rows.append(row)
    return rows


def breakdown_rows(returns: pd.DataFrame, horizons: tuple[int, ...] = (21, 63)) -> list[dict]:
    """By entry year and by size tercile: n, mean, median and date-clustered t per family,
    benchmark (equal-weight, matched) and horizon."""
    ok = returns[returns["status"] == "ok"].assign(year=lambda f: f["entry_date"].dt.year.astype(str))
    rows = []
    for by in ("year", "size_bucket"):
        for (family, group_value), group in ok.groupby(["family", by], sort=True):
            for benchmark in ("equal_weight", "matched"):
                for h in horizons:
                    x = group[f"car_{benchmark}_{h}"].to_numpy(dtype=float)
                    valid = ~np.isnan(x)
                    if not valid.any():
                        continue
                    rows.append(
                        {
                            "family": family,
                            "by": "year" if by == "year" else "size",
                            "group": str(group_value),
                            "benchmark": benchmark,
                            "horizon_sessions": h,
                            "n_events": int(valid.sum()),
                            "mean_car_bp": float(x[valid].mean() * 1e4),
                            "median_car_bp": float(np.median(x[valid]) * 1e4),
                            "t_date": cluster_t(x[valid], pd.factorize(group["entry_date"].to_numpy()[valid])[0]),
                        }
                    )
    return rows


def coverage_rows(returns: pd.DataFrame, n_sessions: int) -> list[dict]:
    """Per family: events, how many have prices, and how many leave the panel early (their stock
    stops trading within 63 sessions of entry: survivorship) or too late for a horizon."""
    rows = []
    for family, group in returns.groupby("family", sort=False):
        ok = group[group["status"] == "ok"]
        stops = (ok["last_price_row"] < ok["entry_row"] + max(HORIZONS)) & (
            ok["last_price_row"] < n_sessions - 1
        )  # stopped trading inside the panel
        rows.append(
            {
                "family": family,
                "events": int(len(group)),
                "with_prices": int(len(ok)),
                **{
                    f"status_{s}": int((group["status"] == s).sum())
                    for s in ("no_prices", "after_panel", "no_entry_price")
                },
                "stopped_trading_within_63": int(stops.sum()),
                "incomplete_63": int(ok[f"car_equal_weight_{max(HORIZONS)}"].isna().sum()),
                "symbols": int(group["symbol"].nunique()),
                "symbols_without_prices": int(group.loc[group["status"] == "no_prices", "symbol"].nunique()),
            }
        )
    return rows


def placebo_events(panel: ReturnPanel, like: pd.DataFrame, count: int, seed: int = 7) -> pd.DataFrame:
    """`count` random (stock, session) pairs of the panel's universe with a close, over the rows the
    real events entered on, dressed as events public at the end of the previous session (so they
    enter at the drawn session through the same code path)."""
    ok = like[like["status"] == "ok"]
    if ok.empty or count <= 0:
        return pd.DataFrame(columns=["family", "symbol", "known_at", "actor_ids", "event_id"])
    lo, hi = int(max(ok["entry_row"].min(), 1)), int(ok["entry_row"].max())
    cells = np.argwhere(panel.has_price[lo : hi + 1])
    rng = np.random.default_rng(seed)
    pick = cells[rng.choice(len(cells), size=min(count, len(cells)), replace=False)]
    rows, cols = pick[:, 0] + lo, pick[:, 1]
    known = panel.dates[rows - 1] + pd.Timedelta(hours=23, minutes=59, seconds=59)
    return pd.DataFrame(
        {
            "family": "placebo",
            "symbol": panel.symbols[cols],
            "known_at": known,
            "event_date": panel.dates[rows - 1],
            "actor_ids": "placebo",
            "event_id": [f"placebo-{i}" for i in range(len(rows))],
        }
    )
