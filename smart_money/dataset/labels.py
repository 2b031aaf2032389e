"""14-day labels: did the adjusted close rise by more than 5 % (plan option A)?

return_14d runs from the sample-date close to the close of the first session on or after
sample + 14 calendar days, on adjusted closes (splits and dividends do not move it). Variants:
the mirror label (fell by more than 5 %), used to show a model is directional and not a
volatility detector, and the market-relative return (excess over the market index, the price
half of plan option B). Samples whose end price is not known yet are `pending`.

Volatility-neutral targets (shared notes, signal-research.md): the return in excess of the
stock's matched benchmark (the equal-weight average of its size x prior-return bucket on the
sample date, dataset/benchmarks.py) over the same window, for the 14-day window and for 21
sessions; its sign (`label_excess_sign_*`, 1 when the stock beat its bucket) and the excess
divided by the trailing 60-session volatility scaled to the window (`excess_return_scaled_*`).
Volatility alone cannot rank these: a volatile stock is as likely to trail its bucket as to beat
it. The 21-session columns are NA until the 21st session after the sample date has a price.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import numpy as np
import pandas as pd

from smart_money.data import calendar as cal
from smart_money.dataset.benchmarks import bucket_ids, bucket_means, prior_return, size_characteristic
from smart_money.dataset.features import PriceMatrix, members_at

THRESHOLD = 0.05
MAX_STALE_SESSIONS = 5  # a halted stock's next print within a week still resolves its label

LABEL_COLUMNS = (
    "symbol", "sample_date", "label_end_date", "status", "close_start", "close_end", "return_14d",
    "label", "label_mirror", "market_return_14d", "excess_return_14d", "label_market_relative",
    "realized_volatility_14d",
    # volatility-neutral targets
    "trailing_volatility_60d", "excess_return_matched_14d", "label_excess_sign_14d", "excess_return_scaled_14d",
    "return_21s", "excess_return_matched_21s", "label_excess_sign_21s", "excess_return_scaled_21s",
)  # fmt: skip
EXCESS_SESSIONS = 21
TRAILING_VOL_SESSIONS = 60


def compute_labels(
    prices: pd.DataFrame, universe: pd.DataFrame, sample_dates: Iterable[pd.Timestamp], market_index: str
) -> pd.DataFrame:
    px = PriceMatrix(prices)
    last_known = px.dates.max() if len(px.dates) else pd.NaT
    m_col = px.column.get(market_index)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_adj = np.log(np.where(px.adj > 0, px.adj, np.nan))
    size = size_characteristic(px.close, px.volume, px.shares)
    prior = prior_return(log_adj)
    frames = []
    for t in sample_dates:
        t = pd.Timestamp(t)
        end = cal.label_end_date(t)
        symbols = members_at(universe, t)
        frame = pd.DataFrame({"symbol": symbols, "sample_date": t, "label_end_date": end})
        cols = symbols.map(px.column).to_numpy(dtype=float)
        has_col = ~np.isnan(cols)
        cidx = np.where(has_col, cols, 0).astype(int)
        r0 = px.row_on_or_before(t)
        start = np.full(len(symbols), np.nan)
        if r0 >= 0 and px.dates[r0] == t:
            start = np.where(has_col, px.adj[r0, cidx], np.nan)
        end_row = int(px.dates.searchsorted(end, side="left"))
        finish = np.full(len(symbols), np.nan)
        for offset in range(MAX_STALE_SESSIONS + 1):  # first print at or after the end session
            row = end_row + offset
            if row >= len(px.dates):
                break
            value = np.where(has_col, px.adj[row, cidx], np.nan)
            finish = np.where(np.isnan(finish), value, finish)
        market = np.nan
        if m_col is not None and r0 >= 0 and end_row < len(px.dates):
            market = px.adj[end_row, m_col] / px.adj[r0, m_col] - 1.0
        window = (
            px.log_returns[r0 + 1 : end_row + 1]
            if r0 >= 0 and end_row < len(px.dates)
            else np.empty((0, len(px.symbols)))
        )
        with np.errstate(invalid="ignore"):
            realized = np.sqrt(np.nansum(window**2, axis=0)) if len(window) else np.full(len(px.symbols), np.nan)
        realized_vol = np.where(has_col, realized[cidx], np.nan)
        pending = pd.isna(last_known) or last_known < end
        ret = finish / start - 1.0
        frame["close_start"] = start
        frame["close_end"] = finish
        frame["return_14d"] = ret
        frame["market_return_14d"] = market
        frame["realized_volatility_14d"] = np.where(np.isnan(finish) | np.isnan(start), np.nan, realized_vol)
        frame["excess_return_14d"] = ret - market
        frame["status"] = np.where(
            np.isnan(start),
            "no_price",
            np.where(pending, "pending", np.where(np.isnan(finish), "no_price", "resolved")),
        )
        resolved = frame["status"] == "resolved"
        frame["label"] = pd.array(np.where(resolved, ret > THRESHOLD, pd.NA), dtype="Int8")
        frame["label_mirror"] = pd.array(np.where(resolved, ret < -THRESHOLD, pd.NA), dtype="Int8")
        frame["label_market_relative"] = pd.array(
            np.where(resolved & ~np.isnan(frame["excess_return_14d"]), frame["excess_return_14d"] > THRESHOLD, pd.NA),
            dtype="Int8",
        )
        _add_excess_targets(frame, px, log_adj, size, prior, r0, end_row, t, universe, has_col, cidx, resolved)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=list(LABEL_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(LABEL_COLUMNS)]


def _first_print(px: PriceMatrix, row: int) -> np.ndarray:
    """(symbols,) adjusted close of the first print at or after `row` within MAX_STALE_SESSIONS."""
    out = np.full(len(px.symbols), np.nan)
    for offset in range(MAX_STALE_SESSIONS + 1):
        if row + offset >= len(px.dates):
            break
        out = np.where(np.isnan(out), px.adj[row + offset], out)
    return out


def _add_excess_targets(
    frame: pd.DataFrame,
    px: PriceMatrix,
    log_adj: np.ndarray,
    size: np.ndarray,
    prior: np.ndarray,
    r0: int,
    end_row: int,
    t: pd.Timestamp,
    universe: pd.DataFrame,
    has_col: np.ndarray,
    cidx: np.ndarray,
    resolved: pd.Series,
) -> None:
    """Excess returns over the matched bucket (14 days and 21 sessions), their signs and their
    volatility-scaled values, in place. The bucket cross-section is every member stock with a
    close on the sample date."""
    n = len(frame)
    empty = np.full(n, np.nan)
    columns = {name: empty.copy() for name in LABEL_COLUMNS[13:]}
    if r0 >= 0 and px.dates[r0] == t:
        members = np.zeros(len(px.symbols), dtype=bool)
        member_cols = [px.column[s] for s in members_at(universe, t) if s in px.column]
        members[member_cols] = True
        start = np.where(members, px.adj[r0], np.nan)
        buckets = bucket_ids(
            np.where(members, size[r0], np.nan)[None, :], np.where(members, prior[r0], np.nan)[None, :]
        )
        window = log_adj[max(r0 - TRAILING_VOL_SESSIONS, 0) : r0 + 1]
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            steps = np.diff(window, axis=0)
            count = np.sum(~np.isnan(steps), axis=0)
            sigma = np.where(count >= 40, np.nanstd(steps, axis=0, ddof=1), np.nan)
        columns["trailing_volatility_60d"] = np.where(has_col, sigma[cidx], np.nan)
        for suffix, end, sessions, known in (
            ("14d", end_row, end_row - r0, resolved.to_numpy()),
            ("21s", r0 + EXCESS_SESSIONS, EXCESS_SESSIONS, np.full(n, r0 + EXCESS_SESSIONS < len(px.dates))),
        ):
            if end >= len(px.dates):
                continue
            ret = _first_print(px, end) / start - 1.0
            bench = bucket_means(ret[None, :], buckets, int(buckets.max()) + 1 if (buckets >= 0).any() else 1)[0]
            own_bucket = buckets[0][cidx]
            excess = ret[cidx] - np.where(own_bucket >= 0, bench[np.clip(own_bucket, 0, None)], np.nan)
            excess = np.where(has_col & known, excess, np.nan)
            with np.errstate(invalid="ignore", divide="ignore"):
                scaled = excess / (columns["trailing_volatility_60d"] * np.sqrt(max(sessions, 1)))
            if suffix == "21s":
                columns["return_21s"] = np.where(has_col, ret[cidx], np.nan)
            columns[f"excess_return_matched_{suffix}"] = excess
            columns[f"excess_return_scaled_{suffix}"] = scaled
    for name, values in columns.items():
        if name.startswith("label_excess_sign"):
            excess = columns[name.replace("label_excess_sign", "excess_return_matched")]
            frame[name] = pd.array(np.where(np.isnan(excess), pd.NA, excess > 0), dtype="Int8")
        else:
            frame[name] = values
