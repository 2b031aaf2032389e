"""Calendar time: monthly-rebalanced portfolios of stocks with a recent event.

At each month's last session f, the portfolio of a family holds, equal-weight, every stock whose
event of the family entered (first close after its public time) at or before f and within the
past H sessions; it is held buy-and-hold to the next month's last session. Its monthly return
minus the benchmark's (the equal-weight universe, or the average of the holdings' matched size x
prior-return buckets formed at f) is the monthly abnormal return; alpha is its mean, with a
Newey-West t-statistic (statsmodels HAC, 3 lags). Months without holdings are counted and left
out. Long-short portfolios (a buying family minus its opposite) use the months where both legs
hold something.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm

from smart_money.dataset.benchmarks import bucket_means
from smart_money.research.families import LONG_SHORT
from smart_money.research.panel import ReturnPanel

HOLDING_SESSIONS = (21, 63)
NEWEY_WEST_LAGS = 3
CT_BENCHMARKS = ("equal_weight", "matched")


def month_ends(panel: ReturnPanel) -> np.ndarray:
    """Rows of each calendar month's last session in the panel."""
    months = panel.dates.to_period("M")
    return np.flatnonzero(np.r_[months[1:] != months[:-1], True])


def monthly_returns(panel: ReturnPanel, returns: pd.DataFrame, holding: int) -> pd.DataFrame:
    """Per family and formation month: holdings, portfolio return and benchmark returns."""
    ends = month_ends(panel)
    ok = returns[returns["status"] == "ok"]
    first_entry = ok["entry_row"].min() if len(ok) else 0
    frames = []
    for i in range(len(ends) - 1):
        f, g = int(ends[i]), int(ends[i + 1])
        if f < first_entry:
            continue
        stock = panel.period_returns(f, g)
        buckets = panel.buckets[f]
        matched_by_bucket = bucket_means(stock[None, :], buckets[None, :], panel.n_buckets)[0]
        ew = float(np.nanmean(stock)) if np.isfinite(stock).any() else np.nan
        recent = ok[(ok["entry_row"] <= f) & (ok["entry_row"] > f - holding)]
        for family, group in recent.groupby("family", sort=False):
            cols = np.unique(group["symbol"].map(panel.column).to_numpy(dtype=np.int64))
            r = stock[cols]
            held = ~np.isnan(r)
            if not held.any():
                continue
            b = buckets[cols][held]
            matched = matched_by_bucket[np.clip(b, 0, None)]
            matched = np.where(b >= 0, matched, np.nan)
            frames.append(
                {
                    "family": family,
                    "month": panel.dates[g].to_period("M").to_timestamp(),
                    "holdings": int(held.sum()),
                    "portfolio": float(r[held].mean()),
                    "equal_weight": ew,
                    # holdings without a bucket are benchmarked by the equal-weight universe
                    "matched": float(np.where(np.isnan(matched), ew, matched).mean()),
                }
            )
    columns = ["family", "month", "holdings", "portfolio", "equal_weight", "matched"]
    return pd.DataFrame(frames, columns=columns)


def newey_west(series: np.ndarray, lags: int = NEWEY_WEST_LAGS) -> tuple[float, float]:
    """Mean and its Newey-West t-statistic (NaN with fewer than 3 observations)."""
    x = np.asarray(series, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) < 3 or np.allclose(x, x[0]):
        return (float(x.mean()) if len(x) else float("nan")), float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.OLS(x, np.ones((len(x), 1))).fit(cov_type="HAC", cov_kwds={"maxlags": min(lags, len(x) - 1)})
    return float(fit.params[0]), float(fit.tvalues[0])


def calendar_time(
    panel: ReturnPanel, returns: pd.DataFrame, holdings: tuple[int, ...] = HOLDING_SESSIONS
) -> tuple[list[dict], pd.DataFrame]:
    """Rows {family, holding_sessions, benchmark, months, alpha_pct_month, t_newey_west,
    empty_months, mean_holdings} for every family and long-short pair, and the monthly excess
    returns behind them (for the cumulative plots)."""
    ends = month_ends(panel)
    ok = returns[returns["status"] == "ok"]
    rows, series = [], []
    for holding in holdings:
        monthly = monthly_returns(panel, returns, holding)
        months_total = _months_in_range(panel, ends, ok)
        excess = {}
        for family, group in monthly.groupby("family", sort=False):
            for benchmark in CT_BENCHMARKS:
                values = (group["portfolio"] - group[benchmark]).to_numpy()
                excess[(family, benchmark)] = pd.Series(values, index=group["month"].to_numpy())
                rows.append(_row(family, holding, benchmark, values, months_total, group["holdings"].mean()))
        for name, (long, short) in LONG_SHORT.items():
            for benchmark in CT_BENCHMARKS:
                a, b = excess.get((long, benchmark)), excess.get((short, benchmark))
                if a is None or b is None:
                    continue
                both = a.index.intersection(b.index)
                if not len(both):
                    continue
                spread = (a[both] - b[both]).to_numpy()
                excess[(name, benchmark)] = pd.Series(spread, index=both)
                rows.append(_row(name, holding, benchmark, spread, months_total, float("nan")))
        for (family, benchmark), s in excess.items():
            series.append(
                pd.DataFrame(
                    {
                        "family": family,
                        "holding_sessions": holding,
                        "benchmark": benchmark,
                        "month": s.index,
                        "excess": s.to_numpy(),
                    }
                )
            )
    table = (
        pd.concat(series, ignore_index=True)
        if series
        else pd.DataFrame(columns=["family", "holding_sessions", "benchmark", "month", "excess"])
    )
    return rows, table


def _months_in_range(panel: ReturnPanel, ends: np.ndarray, ok: pd.DataFrame) -> int:
    if ok.empty:
        return 0
    first = ok["entry_row"].min()
    return int(sum(1 for i in range(len(ends) - 1) if ends[i] >= first))


def _row(family: str, holding: int, benchmark: str, values: np.ndarray, months_total: int, holdings: float) -> dict:
    mean, t = newey_west(values)
    return {
        "family": family,
        "holding_sessions": holding,
        "benchmark": benchmark,
        "months": int(np.isfinite(values).sum()),
        "empty_months": int(max(months_total - np.isfinite(values).sum(), 0)),
        "alpha_pct_month": mean * 100.0,
        "t_newey_west": t,
        "mean_holdings": float(holdings),
    }
