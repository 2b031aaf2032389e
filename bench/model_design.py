"""The model-design study behind docs/model.md: why the flow model has its shape.

Builds the default simulated dataset (seed 7), trains several variants on its chronological
train/validation split, and scores each on (a) the same world's test split and (b) independent
simulated universes (other seeds, other market paths) against the exact public posterior.

    python -m bench.model_design [--symbols 500] [--worlds 4] [--world-symbols 250]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", default="2022-01-01")
    parser.add_argument("--end", default="2026-10-01")
    parser.add_argument("--worlds", type=int, default=4)
    parser.add_argument("--world-symbols", type=int, default=250)
    parser.add_argument("--strength", type=float, default=1.0)
    args = parser.parse_args()

    from smart_money.dataset.catalogue import DATE_LEVEL_FEATURES, FEATURES, MISSING_INDICATORS
    from smart_money.dataset.pipeline import dataset_from_source
    from smart_money.dataset.splits import SplitSpec, build_splits
    from smart_money.evaluation.flow_evaluation import holdout
    from smart_money.evaluation.independent_universes import independent_universes
    from smart_money.evaluation.metrics import ece_against, ece_equal_count, per_date, safe_auc
    from smart_money.model.flow_model import TrainConfig, train_flow_model, volatility_samples
    from smart_money.sources.simulated import SimulatedSource, SimulationParams

    t0 = time.perf_counter()
    first, last = pd.Timestamp(args.start), pd.Timestamp(args.end)
    source = SimulatedSource(
        args.symbols, args.seed, SimulationParams(strength=args.strength), horizon=last + pd.DateOffset(months=3)
    )
    built = dataset_from_source(source, args.symbols, first, last)
    dataset = built.dataset
    oracle = source.oracle(dataset[["symbol", "sample_date"]])
    dataset["oracle_public"] = oracle["oracle_public"].to_numpy()
    parts = holdout(dataset, build_splits(dataset, SplitSpec()))
    samples = volatility_samples(
        built.inputs.prices, source.market_index(), dataset["sample_date"].min(), parts["val"]["sample_date"].min()
    )
    worlds = independent_universes(source, args.worlds, args.world_symbols, first, last)
    worlds["sample_date_key"] = worlds["world"].astype(str) + "|" + worlds["sample_date"].astype(str)
    setup_s = time.perf_counter() - t0

    everything = tuple(f for f in FEATURES if f not in MISSING_INDICATORS)
    no_dates = tuple(f for f in everything if f not in DATE_LEVEL_FEATURES)
    variants = {
        "plan classifier, every feature": TrainConfig(use_prior=False, features=everything, calibration="none"),
        "plan classifier, no date-level features": TrainConfig(use_prior=False, features=no_dates, calibration="none"),
        "flow model, classifier on every feature": TrainConfig(features=no_dates),
        "flow model (default)": TrainConfig(),
        "flow model, isotonic calibration on validation": TrainConfig(calibration="isotonic"),
        "flow model, prior from monthly rows only": TrainConfig(),
    }

    def scores(name: str, frame: pd.DataFrame, p: np.ndarray, key: str) -> dict[str, float]:
        y = frame["label"].astype(int).to_numpy()
        rows = frame.assign(p=p, y=y, sample_date=frame[key])
        return {
            "roc_auc": safe_auc(y, p),
            "per_date_auc": float(per_date(rows, lambda g: safe_auc(g["y"].to_numpy(), g["p"].to_numpy())).mean()),
            "ece": ece_equal_count(y, p),
            "ece_vs_oracle": ece_against(frame["oracle_public"].to_numpy(), p),
        }

    results: dict[str, dict] = {}
    for name, config in variants.items():
        start = time.perf_counter()
        vol = None if "monthly rows only" in name else samples
        trained = train_flow_model(parts["train"], parts["val"], config, vol)
        model = trained.model
        results[name] = {
            "classifier_trees": trained.best_iteration,
            "same_world_test": scores(name, parts["test"], model.predict_proba(parts["test"]), "sample_date"),
            "independent_universes": scores(name, worlds, model.predict_proba(worlds), "sample_date_key"),
            "train_s": round(time.perf_counter() - start, 2),
        }
    for name, column in (
        ("raw volatility_60d (a score, not a probability)", "volatility_60d"),
        ("oracle_public", "oracle_public"),
    ):
        results[name] = {
            "same_world_test": scores(name, parts["test"], parts["test"][column].to_numpy(), "sample_date"),
            "independent_universes": scores(name, worlds, worlds[column].to_numpy(), "sample_date_key"),
        }
        if column == "volatility_60d":
            for part in results[name].values():
                part["ece"] = part["ece_vs_oracle"] = float("nan")
    print(
        json.dumps(
            {
                "symbols": args.symbols,
                "strength": args.strength,
                "test_rows": len(parts["test"]),
                "independent_rows": len(worlds),
                "independent_worlds": args.worlds,
                "setup_s": round(setup_s, 1),
                "variants": results,
            }
        )
    )


if __name__ == "__main__":
    main()
