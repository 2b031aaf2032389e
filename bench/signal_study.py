"""The signal study's cost: `research.study.study_from_source` on the simulated market (500
symbols x 36 months by default) or on the public records (2012-01 .. 2022-12, every stock with a
price file), with the time of each step (pulling the raw tables, building the events, the return
panel, abnormal returns, event-study statistics, calendar time).

Side by side in the same process: the abnormal returns of a sample of events computed by a plain
per-event loop over the price table (the reference the vectorised gather replaces), timed per
event, and checked equal. Prints one JSON line; `skipped` when the records folder is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[1]
LOOP_SAMPLE = 300
PLACEBO_KEYS = ("benchmark", "horizon_sessions", "n_events", "mean_car_bp", "ci_low_bp", "ci_high_bp", "t_date")


def loop_reference(prices: pd.DataFrame, events: pd.DataFrame, horizon: int) -> np.ndarray:
    """Equal-weight BHAR per event by a plain loop over the price table (no clipping, no
    delisting rule: compared on events whose window has every price)."""
    wide = prices.pivot(index="date", columns="symbol", values="adj_close").sort_index()
    closes = wide.index + pd.Timedelta(hours=16)
    out = []
    for symbol, known_at in zip(events["symbol"], events["known_at"]):
        entry = int(closes.searchsorted(known_at, side="right"))
        if entry + horizon >= len(wide) or symbol not in wide:
            out.append(np.nan)
            continue
        start, end = wide.iloc[entry], wide.iloc[entry + horizon]
        stock = end[symbol] / start[symbol] - 1
        ok = start.notna() & end.notna()
        out.append(stock - (end[ok] / start[ok] - 1).mean())
    return np.asarray(out, dtype=float)


def recovery_table(source, study, ok: pd.DataFrame) -> list[dict]:
    """Per family and horizon: the abnormal return the simulator injected behind the events (its
    latent state, sources/simulated/truth.py) beside the measured equal-weight BHAR and its
    interval."""
    rows = pd.DataFrame(study.event_study)
    post = rows[(rows["window"] == "post_entry") & (rows["benchmark"] == "equal_weight")]
    injected = source.injected_abnormal_returns(ok, [21, 63])
    out = []
    for horizon in (21, 63):
        measured = ok[f"car_equal_weight_{horizon}"]
        truth = injected.loc[measured.notna(), f"injected_{horizon}"].groupby(ok["family"]).mean() * 1e4
        for family, value in truth.items():
            row = post[(post["family"] == family) & (post["horizon_sessions"] == horizon)].iloc[0]
            out.append(
                {
                    "family": family,
                    "horizon_sessions": horizon,
                    "n_events": int(row["n_events"]),
                    "injected_bp": round(float(value), 1),
                    "measured_bp": round(float(row["mean_car_bp"]), 1),
                    "ci_low_bp": round(float(row["ci_low_bp"]), 1),
                    "ci_high_bp": round(float(row["ci_high_bp"]), 1),
                    "t_date": round(float(row["t_date"]), 2),
                    "injected_within_interval": bool(row["ci_low_bp"] <= value <= row["ci_high_bp"]),
                }
            )
    return out


def main(case: str, symbols: int, months: int) -> dict:
    from smart_money.data import calendar as cal
    from smart_money.research.events import build_events
    from smart_money.research.study import StudyConfig, pull_tables, run_signal_study
    from smart_money.sources import simulated_source
    from smart_money.sources.public_records import PublicRecordsSource

    if case == "public_records":
        folder = Path(os.environ.get("SMART_MONEY_PUBLIC_RECORDS_DIR") or ROOT.parent / "shared" / "realdata")
        if not folder.is_dir():
            return {"skipped": f"{folder} is not available"}
        source = PublicRecordsSource(folder)
        first, last, size = pd.Timestamp("2012-01-01"), pd.Timestamp("2022-12-01"), 5000
    else:
        source = simulated_source(symbols, 7, 1.0)
        last = pd.Timestamp("2024-12-01")
        first, size = cal.add_months(last, -(months - 1)), symbols
    marks: list[tuple[str, float]] = []
    started = time.perf_counter()

    def progress(step: str) -> None:
        marks.append((step.split(":")[0], time.perf_counter() - started))

    month_list = cal.months_between(first, last)
    pulled = pull_tables(source, size, month_list, progress)
    events = build_events(pulled.tables, source.default_hedge_funds(), month_list[0], cal.add_months(last, 1))
    progress("events")
    stocks = pulled.universe.loc[pulled.universe["asset_type"] == "stock", "symbol"].drop_duplicates().tolist()
    study = run_signal_study(events, pulled.prices, stocks, source.market_index(), StudyConfig(), progress)
    total = time.perf_counter() - started
    steps, previous = {}, 0.0
    for name, at in marks:
        key = name.replace(" ", "_")
        steps[key] = round(steps.get(key, 0.0) + at - previous, 3)
        previous = at
    ok = study.returns[(study.returns["status"] == "ok") & (study.returns["family"] != "placebo")]
    sample = ok.sample(min(LOOP_SAMPLE, len(ok)), random_state=0)
    start = time.perf_counter()
    reference = loop_reference(pulled.prices[pulled.prices["symbol"].isin(stocks)], sample, 21)
    loop_s = time.perf_counter() - start
    vectorised = sample["car_equal_weight_21"].to_numpy()
    both = ~np.isnan(reference) & ~np.isnan(vectorised)
    returns_s = steps.get("abnormal_returns", float("nan"))
    recovery = recovery_table(source, study, ok) if case == "simulated" else None
    placebo = [
        {k: (round(v, 2) if isinstance(v, float) else v) for k, v in row.items() if k in PLACEBO_KEYS}
        for row in study.event_study
        if row["family"] == "placebo" and row["window"] == "post_entry" and row["horizon_sessions"] in (21, 63)
    ]
    return {
        "placebo": placebo,
        "recovery": recovery,
        "case": case,
        "months": f"{first:%Y-%m}..{last:%Y-%m}",
        "stocks": len(stocks),
        "sessions": study.info["sessions"],
        "events": int(len(events)),
        "events_with_prices": study.info["events_with_prices"],
        "placebo_events": study.info["placebo_events"],
        "families": int(events["family"].nunique()),
        "steps_s": steps,
        "total_s": round(total, 3),
        "study_without_pulling_s": round(total - sum(v for k, v in steps.items() if k.startswith("pulled")), 3),
        "loop_reference_events": int(len(sample)),
        "loop_reference_s_per_event": round(loop_s / max(len(sample), 1), 5),
        "vectorised_abnormal_returns_s_per_event": round(returns_s / max(len(study.returns), 1), 6),
        "loop_reference_max_abs_difference": float(np.max(np.abs(reference[both] - vectorised[both])))
        if both.any()
        else None,
        "loop_reference_compared": int(both.sum()),
        # the loop neither clips absurd prints nor holds a delisted stock as cash nor carries a
        # missing day's price: the events it disagrees on are those
        "loop_reference_identical_share": round(float(np.mean(np.abs(reference[both] - vectorised[both]) < 1e-9)), 4)
        if both.any()
        else None,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", choices=("simulated", "public_records"), default="simulated")
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--months", type=int, default=36)
    args = parser.parse_args()
    print(json.dumps(main(args.case, args.symbols, args.months)))
