"""Features + labels for N months x M symbols on the simulated source.

1. materializes the raw layer (not timed here; see bench.raw_layer);
2. in a fresh process, materializes `features` and `labels` for the whole range through Dagster
   (one run) and reports its wall time and peak memory;
3. measures, side by side on the same inputs, the vectorised features per sample against the
   plain per-(symbol, date) reference loop used as the correctness oracle in the tests;
4. with `--baseline REV` (issue 18), times compute_features and compute_labels on the same
   inputs with the code at REV and with today's, in fresh processes alternating (median CPU of
   `--repeats`), and checks that both give the same frames bit for bit.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import date
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")


def settings_for(months: int, symbols: int):
    from smart_money.data import calendar as cal
    from smart_money.settings import Settings

    start = date(2022, 1, 1)
    end = cal.add_months(pd.Timestamp(start), months - 1).date()
    return Settings.from_env().with_overrides(start=start, end=end, symbols=symbols)


def run_assets(settings, assets: list[str]) -> float:
    from smart_money.definitions import build_definitions
    from smart_money.orchestration.partitions import monthly_partitions
    from smart_money.orchestration.runner import RANGE_END_TAG, RANGE_START_TAG

    keys = monthly_partitions(settings).get_partition_keys()
    job = build_definitions(settings).resolve_job_def("monthly_refresh_job")
    start = time.perf_counter()
    result = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        tags={RANGE_START_TAG: keys[0], RANGE_END_TAG: keys[-1]},
        asset_selection=[dg.AssetKey(a) for a in assets],
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    assert result.success
    return time.perf_counter() - start


def stage_dataset(months: int, symbols: int) -> None:
    settings = settings_for(months, symbols)
    wall = run_assets(settings, ["features", "labels"])
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {"dagster_features_labels_s": round(wall, 3), "features_labels_process_peak_rss_mb": round(peak_mb, 1)}
        )
    )


def speed_ratio(settings, n_reference: int, baseline: str | None = None, repeats: int = 3) -> dict:
    from smart_money.data import calendar as cal
    from smart_money.data.raw_pull import combine_partitions
    from smart_money.data.storage import read_parquet
    from smart_money.dataset.features import FeatureInputs, UniverseRules, compute_features
    from smart_money.sources import open_source
    from smart_money_tests.support.reference_features import Reference

    root = settings.data_dir / "assets"

    def load(asset: str, table: str) -> pd.DataFrame:
        frames = [read_parquet(p) for p in sorted((root / asset).glob("*.parquet"))]
        return combine_partitions(pd.concat(frames, ignore_index=True), table)

    source = open_source(settings)
    inputs = FeatureInputs(
        universe=read_parquet(root / "universe.parquet"),
        insider_trades=load("raw_insider_trades", "insider_trades"),
        institutional_holdings=load("raw_institutional_holdings", "institutional_holdings"),
        congress_trades=load("raw_congress_trades", "congress_trades"),
        etf_holdings=load("raw_etf_holdings", "etf_holdings"),
        prices=load("raw_prices", "prices"),
        hedge_funds=frozenset(source.default_hedge_funds()),
        market_index=source.market_index(),
    )
    months = cal.months_between(pd.Timestamp(settings.start), pd.Timestamp(settings.last_month()))
    dates = [cal.sample_date(m) for m in months]
    start = time.perf_counter()
    frame = compute_features(inputs, dates, UniverseRules())
    vectorised_s = time.perf_counter() - start
    per_sample_vectorised = vectorised_s / len(frame)

    reference = Reference(inputs)  # index building is excluded: only the per-sample loop is timed
    rng = np.random.default_rng(0)
    picks = frame.iloc[rng.choice(len(frame), size=n_reference, replace=False)]
    start = time.perf_counter()
    for row in picks.itertuples(index=False):
        reference.features(row.symbol, row.sample_date)
    per_sample_reference = (time.perf_counter() - start) / n_reference
    result = {
        "samples": len(frame),
        "vectorised_features_s": round(vectorised_s, 3),
        "vectorised_ms_per_sample": round(1e3 * per_sample_vectorised, 4),
        "reference_loop_ms_per_sample": round(1e3 * per_sample_reference, 2),
        "reference_samples_timed": n_reference,
        "speedup_vs_reference_loop": round(per_sample_reference / per_sample_vectorised, 1),
    }
    if baseline:
        result.update(side_by_side(inputs, dates, baseline, repeats))
    return result


# run in a fresh process with PYTHONPATH=<a tree>: that tree's compute_features and compute_labels
SIDE_BY_SIDE = """
import json, pickle, sys, time
import pandas as pd
from smart_money.dataset.features import FeatureInputs, UniverseRules, compute_features
from smart_money.dataset.labels import compute_labels
with open(sys.argv[1], "rb") as f:
    fields, dates = pickle.load(f)
inputs = FeatureInputs(**fields)
start = time.process_time()
features = compute_features(inputs, dates, UniverseRules())
features_cpu = time.process_time() - start
start = time.process_time()
labels = compute_labels(inputs.prices, inputs.universe, dates, inputs.market_index)
labels_cpu = time.process_time() - start
pd.to_pickle((features, labels), sys.argv[2])
print(json.dumps({"features_cpu_s": features_cpu, "labels_cpu_s": labels_cpu}))
"""


def side_by_side(inputs, dates: list, baseline: str, repeats: int) -> dict:
    from bench.baseline import ROOT, extract, revision_name

    with tempfile.TemporaryDirectory() as scratch:
        trees = {"current": ROOT, "baseline": extract(baseline, Path(scratch) / "baseline")}
        pickled = Path(scratch) / "inputs.pkl"
        with open(pickled, "wb") as f:
            pickle.dump((dict(inputs.__dict__), dates), f)
        cpu: dict[str, dict[str, list[float]]] = {tree: {"features": [], "labels": []} for tree in trees}
        for _ in range(repeats):
            for tree, path in trees.items():
                out = Path(scratch) / f"{tree}.pkl"
                child = subprocess.run(
                    [sys.executable, "-c", SIDE_BY_SIDE, str(pickled), str(out)],
                    cwd=scratch,
                    env={**os.environ, "PYTHONPATH": str(path)},
                    capture_output=True,
                    text=True,
                    check=True,
                )
                times = json.loads(child.stdout.strip().splitlines()[-1])
                cpu[tree]["features"].append(times["features_cpu_s"])
                cpu[tree]["labels"].append(times["labels_cpu_s"])
        (features, labels), (old_features, old_labels) = (
            pd.read_pickle(Path(scratch) / f"{tree}.pkl") for tree in trees
        )
    identical = {}
    for name, new, old in (("features", features, old_features), ("labels", labels, old_labels)):
        try:
            pd.testing.assert_frame_equal(new, old, check_exact=True)
            identical[name] = True
        except AssertionError:
            identical[name] = False
    result: dict = {"baseline": revision_name(baseline), "side_by_side_repeats": repeats}
    for name in ("features", "labels"):
        new, old = statistics.median(cpu["current"][name]), statistics.median(cpu["baseline"][name])
        result.update(
            {
                f"{name}_cpu_s": round(new, 3),
                f"baseline_{name}_cpu_s": round(old, 3),
                f"{name}_speedup_cpu": round(old / new, 2),
                f"{name}_identical_to_baseline": identical[name],
            }
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--reference-samples", type=int, default=20)
    parser.add_argument("--stage", choices=["all", "dataset"], default="all")
    parser.add_argument("--baseline", help="git revision whose compute_features/compute_labels to time side by side")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.stage == "dataset":
        stage_dataset(args.months, args.symbols)
        return

    settings = settings_for(args.months, args.symbols)
    run_assets(
        settings,
        [
            "universe",
            "raw_insider_trades",
            "raw_institutional_holdings",
            "raw_congress_trades",
            "raw_etf_holdings",
            "raw_prices",
        ],
    )
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.features",
            "--stage",
            "dataset",
            "--months",
            str(args.months),
            "--symbols",
            str(args.symbols),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    result = {"months": args.months, "symbols": args.symbols, **json.loads(child.stdout.strip().splitlines()[-1])}
    result.update(speed_ratio(settings, args.reference_samples, args.baseline, args.repeats))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
