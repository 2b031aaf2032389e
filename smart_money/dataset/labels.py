"""14-day labels: did the adjusted close rise by more than 5 % (plan option A)?

return_14d runs from the sample-date close to the close of the first session on or after
sample + 14 calendar days, on adjusted closes (splits and dividends do not move it). Variants:
the mirror label (fell by more than 5 %), used to show a model is directional and not a
volatility detector, and the market-relative return (excess over the market index, the price
half of plan option B). Samples whose end price is not known yet are `pending`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from smart_money.data import calendar as cal
from smart_money.dataset.features import PriceMatrix, members_at

THRESHOLD = 0.05
MAX_STALE_SESSIONS = 5  # a halted stock's next print within a week still resolves its label

LABEL_COLUMNS = (
    "symbol", "sample_date", "label_end_date", "status", "close_start", "close_end", "return_14d",
    "label", "label_mirror", "market_return_14d", "excess_return_14d", "label_market_relative",
    "realized_volatility_14d",
)  # fmt: skip


def compute_labels(
    prices: pd.DataFrame, universe: pd.DataFrame, sample_dates: Iterable[pd.Timestamp], market_index: str
) -> pd.DataFrame:
    px = PriceMatrix(prices)
    last_known = px.dates.max() if len(px.dates) else pd.NaT
    m_col = px.column.get(market_index)
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
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=list(LABEL_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(LABEL_COLUMNS)]
