"""Can the instrument see an effect on these data? Plant one and measure it.

Before concluding "no effect" on real records, the study must show it would have seen one of a
given size with the same events, prices and noise. `planted_check` takes a family's events (the
first of each firm's burst: no other event of the firm in the horizon before), adds a known
abnormal log return to those stocks, spread evenly over the `horizon` sessions after entry (and
kept after), and runs the same study on the planted prices and on the original ones: the measured
difference must recover the planted effect (less its 1/N share in the equal-weight benchmark),
and the planted family's interval tells whether an effect of that size would have shown.
Vectorised: one difference array over the session x symbol panel.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from smart_money.research.event_study import non_overlapping
from smart_money.research.panel import ReturnPanel
from smart_money.research.study import StudyConfig, run_signal_study


def planted_prices(
    prices: pd.DataFrame, panel: ReturnPanel, rows: np.ndarray, cols: np.ndarray, effect: float, horizon: int
) -> pd.DataFrame:
    """`prices` with adj_close of each (entry row, column) stock raised by log(1 + effect),
    spread evenly over the `horizon` sessions after the entry row."""
    step = np.log1p(effect) / horizon
    diff = np.zeros((len(panel.dates) + horizon + 2, len(panel.symbols)))
    np.add.at(diff, (rows + 1, cols), step)
    np.add.at(diff, (rows + 1 + horizon, cols), -step)
    increments = np.cumsum(diff, axis=0)[: len(panel.dates)]
    factor = np.exp(np.cumsum(increments, axis=0))
    wide = pd.DataFrame(factor, index=panel.dates, columns=panel.symbols)
    long = wide.stack().rename("factor").reset_index()
    long.columns = ["date", "symbol", "factor"]
    out = prices.merge(long, on=["date", "symbol"], how="left")
    out["adj_close"] = out["adj_close"] * out["factor"].fillna(1.0)
    return out.drop(columns="factor")


def planted_check(
    events: pd.DataFrame,
    prices: pd.DataFrame,
    stocks: list[str] | None,
    market_index: str | None,
    family: str,
    effect_bp: float,
    horizon: int = 21,
    config: StudyConfig | None = None,
) -> dict:
    """The family's first-of-burst events measured on the original and on the planted prices
    (equal-weight and matched benchmarks at `horizon`)."""
    config = config or StudyConfig(bootstrap=300, placebo_count=0)
    panel = ReturnPanel(prices, stocks, market_index)
    chosen = events[events["family"] == family].reset_index(drop=True)
    rows = panel.entry_rows(chosen["known_at"])
    cols = panel.columns_of(chosen["symbol"])
    n = len(panel.dates)
    ok = (cols >= 0) & (rows + horizon < n)
    ok[ok] &= panel.has_price[rows[ok], cols[ok]]
    chosen = chosen[ok].assign(entry_row=rows[ok])
    first = chosen[non_overlapping(chosen, horizon)].drop(columns="entry_row").assign(family=f"planted_{family}")
    r, c = panel.entry_rows(first["known_at"]), panel.columns_of(first["symbol"])
    planted = planted_prices(prices, panel, r, c, effect_bp / 1e4, horizon)
    out = {"family": family, "planted_bp": effect_bp, "horizon_sessions": horizon, "events": int(len(first))}
    for label, frame in (("original", prices), ("planted", planted)):
        study = run_signal_study(first, frame, stocks, market_index, config)
        for row in study.event_study:
            if (
                row["family"] == first["family"].iloc[0]
                and row["window"] == "post_entry"
                and row["horizon_sessions"] == horizon
                and row["benchmark"] in ("equal_weight", "matched")
            ):
                for key in ("mean_car_bp", "ci_low_bp", "ci_high_bp", "t_date"):
                    out[f"{label}_{row['benchmark']}_{key}"] = row[key]
    for benchmark in ("equal_weight", "matched"):
        out[f"recovered_{benchmark}_bp"] = (
            out[f"planted_{benchmark}_mean_car_bp"] - out[f"original_{benchmark}_mean_car_bp"]
        )
    return out
