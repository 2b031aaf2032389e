"""Training + evaluation + registration on the full default dataset (simulated source).

Materializes everything up to `dataset_splits` first (not timed here; see bench.raw_layer and
bench.features), then times each model asset as its own in-process run: `trained_model`,
`evaluation_report` (with its default independent simulated universes) and `registered_model`.
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

UPSTREAM = [
    "universe", "raw_insider_trades", "raw_institutional_holdings", "raw_congress_trades", "raw_etf_holdings",
    "raw_prices", "features", "labels", "training_dataset", "dataset_splits",
]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--start", default="2022-01")
    parser.add_argument("--end", default="2026-10")
    args = parser.parse_args()

    from smart_money.definitions import CODE_LOCATION
    from smart_money.model.registry import Registry
    from smart_money.orchestration.runner import run_monthly_graph
    from smart_money.settings import Settings, parse_month

    settings = Settings.from_env().with_overrides(
        start=parse_month(args.start, "--start"), end=parse_month(args.end, "--end"), symbols=args.symbols
    )
    instance = dg.DagsterInstance.ephemeral()
    start = time.perf_counter()
    assert run_monthly_graph(CODE_LOCATION, settings, instance, assets=UPSTREAM).success
    upstream_s = time.perf_counter() - start
    timings = {}
    for asset in ("trained_model", "evaluation_report", "registered_model"):
        start = time.perf_counter()
        summary = run_monthly_graph(CODE_LOCATION, settings, instance, assets=[asset])
        assert summary.success, summary.error
        timings[f"{asset}_s"] = round(time.perf_counter() - start, 2)
    entry = Registry(settings.models_dir).index()["versions"][-1]
    print(
        json.dumps(
            {
                "symbols": args.symbols,
                "months": f"{args.start}..{args.end}",
                "upstream_s": round(upstream_s, 2),
                **timings,
                "model_total_s": round(sum(timings.values()), 2),
                "version": entry["version"],
                "status": entry["status"],
                "test_roc_auc": round(entry["metrics"]["roc_auc"], 4),
                "generated": str(date.today()),
                "rows": int(
                    pd.read_parquet(
                        settings.data_dir / "assets" / "training_dataset.parquet", columns=["symbol"]
                    ).shape[0]
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
