"""Reading the public records of ../shared/realdata (or SMART_MONEY_PUBLIC_RECORDS_DIR) for the
real-data window, 2019-01 .. 2022-06 with the look-back, for the first N stocks.

Side by side in one process:
1. the universe (a date-span scan of every price file) vs parsing every price file fully;
2. the Form 4 archive read for the window (only the quarter files it can need are parsed) vs
   the whole archive;
then each table's fetch for the window, and the whole in-memory dataset pipeline
(`dataset.pipeline.dataset_from_source`: every table, features, labels). Prints one JSON line;
reports `skipped` with the reason when the folder is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import pandas as pd

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[1]
FIRST, LAST = pd.Timestamp("2019-01-01"), pd.Timestamp("2022-06-01")


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main(symbols: int) -> dict:
    from smart_money.data import calendar as cal
    from smart_money.data.raw_pull import LOOKBACK_MONTHS
    from smart_money.dataset.features import UniverseRules
    from smart_money.dataset.pipeline import dataset_from_source
    from smart_money.sources.public_records import PublicRecordsSource, form4, prices

    folder = Path(os.environ.get("SMART_MONEY_PUBLIC_RECORDS_DIR") or ROOT.parent / "shared" / "realdata")
    if not folder.is_dir():
        return {"skipped": f"{folder} is not available"}
    out: dict[str, object] = {"records": str(folder), "symbols": symbols, "months": "2019-01..2022-06"}

    source = PublicRecordsSource(folder)
    universe, out["universe_span_scan_s"] = timed(source.universe)
    files = [f.path for f in source.price_files.values()]
    _, out["parse_every_price_file_s"] = timed(lambda: sum(len(prices.read(p)[0]) for p in files))
    out["price_files"] = len(files)
    out["universe_scan_speedup"] = round(out["parse_every_price_file_s"] / out["universe_span_scan_s"], 2)

    archive = next(iter(source.files.form4), None)
    if archive is not None:
        start = cal.add_months(FIRST, -LOOKBACK_MONTHS)
        window, out["form4_window_read_s"] = timed(lambda: form4.read(archive, start, LAST + pd.offsets.MonthEnd(1)))
        whole, out["form4_whole_archive_read_s"] = timed(lambda: form4.read(archive))
        out["form4_window_rows"], out["form4_whole_rows"] = len(window.frame), len(whole.frame)
        out["form4_window_speedup"] = round(out["form4_whole_archive_read_s"] / out["form4_window_read_s"], 2)

    stocks = universe.loc[universe["asset_type"] == "stock", "symbol"].head(symbols).tolist()
    lower, upper = cal.add_months(FIRST, -LOOKBACK_MONTHS), cal.add_months(LAST, 1) + pd.Timedelta(days=7)
    fresh = PublicRecordsSource(folder)
    fresh.universe()
    for table in ("insider_trades", "institutional_holdings", "congress_trades", "etf_holdings", "prices"):
        wanted = stocks + ["SPY"] if table == "prices" else stocks
        result, seconds = timed(lambda table=table, wanted=wanted: fresh.fetch(table, wanted, lower, upper))
        out[f"fetch_{table}_s"] = round(seconds, 2)
        out[f"fetch_{table}_rows"] = len(result.frame)

    pipeline_source = PublicRecordsSource(folder)
    data, out["dataset_pipeline_s"] = timed(
        lambda: dataset_from_source(pipeline_source, symbols, FIRST, LAST, rules=UniverseRules(None, False))
    )
    out["dataset_rows"] = data.counts["rows"]
    out["dataset_rows_per_s"] = round(data.counts["rows"] / out["dataset_pipeline_s"], 1)
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--symbols", type=int, default=700)
    print(json.dumps(main(parser.parse_args().symbols)))
