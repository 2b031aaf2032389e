"""Raw layer for N months x M symbols on the simulated source.

Reports, measured in one process: world generation (the simulator alone), the core pull of all
five tables for the whole range without Dagster, and the same range materialized through the
Dagster job (one run); the ratio of the last two is the orchestration overhead.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from datetime import date

import dagster as dg
import pandas as pd

warnings.filterwarnings("ignore")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--symbols", type=int, default=500)
    args = parser.parse_args()

    from smart_money.data import calendar as cal
    from smart_money.data.raw_pull import pull_raw, pull_universe
    from smart_money.data.schemas import TABLES
    from smart_money.definitions import CODE_LOCATION
    from smart_money.orchestration.runner import run_monthly_graph
    from smart_money.settings import Settings
    from smart_money.sources import open_source

    start = date(2022, 1, 1)
    end = cal.add_months(pd.Timestamp(start), args.months - 1).date()
    settings = Settings.from_env().with_overrides(start=start, end=end, symbols=args.symbols)

    t0 = time.perf_counter()
    source = open_source(settings)
    bundle = source.bundle
    bundle.insiders, bundle.congress, bundle.thirteen_f, bundle.etfs, bundle.etf_prices  # noqa: B018
    generate_s = time.perf_counter() - t0

    months = cal.months_between(pd.Timestamp(start), pd.Timestamp(end))
    t0 = time.perf_counter()
    universe, _ = pull_universe(source, settings.symbols)
    rows = 0
    for table in TABLES:
        symbols = universe["symbol"] if table == "prices" else universe.loc[universe["asset_type"] == "stock", "symbol"]
        rows += len(pull_raw(source, table, symbols.tolist(), months, months[0]).outcome.valid)
    core_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    raw_layer = ["universe", *(f"raw_{table}" for table in TABLES)]
    summary = run_monthly_graph(CODE_LOCATION, settings, instance=dg.DagsterInstance.ephemeral(), assets=raw_layer)
    dagster_s = time.perf_counter() - t0
    assert summary.success, summary.error

    print(
        json.dumps(
            {
                "months": args.months,
                "symbols": args.symbols,
                "rows": rows,
                "world_generation_s": round(generate_s, 3),
                "core_pull_all_tables_s": round(core_s, 3),
                "dagster_run_s": round(dagster_s, 3),
                "io_checks_orchestration_share": round(max(dagster_s - core_s, 0.0) / dagster_s, 3),
                "rows_per_s_dagster": round(rows / dagster_s),
            }
        )
    )


if __name__ == "__main__":
    main()
