"""Scoring a registered model on any source, universe and period, without retraining: how a user
checks a model out of sample, and how the project checks itself (`smart-money evaluate`).

The metrics are the ones metadata.json keeps for the test split (`metrics.HEADLINE_KEYS`),
computed the same way: the Brier reference and the operating threshold are the ones fixed when
the model was evaluated (training base rate, validation top decile), never refitted on the new
rows. Baselines are scored on the same samples; none of them is retrained either:

- `base_rate`: the model's training base rate for every sample;
- `volatility_prior`: the registered model's own volatility forecast through its prior, i.e.
  the model without its smart-money classifier (what the smart-money features must add to);
- `volatility_20d`, `return_1m`: raw feature values as scores (ranking metrics only: they are
  not probabilities).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd

from smart_money.data.raw_pull import pull_universe
from smart_money.dataset.features import UniverseRules
from smart_money.dataset.pipeline import dataset_from_source
from smart_money.evaluation.flow_evaluation import metric_frame
from smart_money.evaluation.metrics import HEADLINE_KEYS, evaluate_predictions
from smart_money.model.flow_model import FlowModel
from smart_money.model.registry import Registry
from smart_money.settings import Settings
from smart_money.sources import open_source

RANKING_KEYS = ("roc_auc", "per_date_auc", "top_decile_precision", "rank_ic_mean")
RAW_SCORE_BASELINES = ("volatility_20d", "return_1m")


class NothingToScore(ValueError):
    """The source, symbols and period give no labelled sample to score."""


def score_registered_model(
    model: FlowModel, evaluation: dict, dataset: pd.DataFrame, bootstrap: int = 200
) -> dict[str, object]:
    """Metrics of `model` on the labelled samples of `dataset` (a training-dataset frame from any
    source), with baselines on the same samples. `evaluation` is the model's evaluation.json."""
    if dataset.empty:
        raise NothingToScore(
            "no labelled samples to score: check the symbols and the period (labels need 14 days of later prices)"
        )
    base_rate = float(evaluation["base_rate_train"])
    threshold = float(evaluation["operating_threshold"])
    predicted = model.predict_frame(dataset)
    frame = metric_frame(dataset, predicted["probability"].to_numpy())
    metrics = evaluate_predictions(frame, base_rate, threshold, bootstrap)
    out: dict[str, object] = {key: metrics.get(key) for key in HEADLINE_KEYS}
    out |= {key: metrics.get(key) for key in ("roc_auc_ci", "rank_ic_mean", "rank_ic_t", "n_dates")}
    out["n_samples"] = int(len(dataset))
    out["n_symbols"] = int(dataset["symbol"].nunique())
    out["first_sample_date"] = str(pd.Timestamp(dataset["sample_date"].min()).date())
    out["last_sample_date"] = str(pd.Timestamp(dataset["sample_date"].max()).date())
    out["reference_base_rate"] = base_rate
    out["threshold"] = threshold

    baselines: dict[str, dict[str, object]] = {}
    constant = evaluate_predictions(metric_frame(dataset, np.full(len(dataset), base_rate)), base_rate, threshold, 0)
    baselines["base_rate"] = {key: constant.get(key) for key in HEADLINE_KEYS if key != "ece_ci"}
    if "prior" in predicted:
        prior = evaluate_predictions(metric_frame(dataset, predicted["prior"].to_numpy()), base_rate, threshold, 0)
        baselines["volatility_prior"] = {key: prior.get(key) for key in HEADLINE_KEYS if key != "ece_ci"} | {
            "rank_ic_mean": prior["rank_ic_mean"]
        }
    for name in RAW_SCORE_BASELINES:
        usable = dataset[name].notna()
        if usable.sum() < 2:
            continue
        raw = evaluate_predictions(
            metric_frame(dataset[usable], dataset.loc[usable, name].to_numpy(dtype=float)), base_rate, threshold, 0
        )
        baselines[name] = {key: raw[key] for key in RANKING_KEYS} | {"n": int(usable.sum())}
    out["baselines"] = baselines

    falls = evaluate_predictions(
        metric_frame(dataset, predicted["probability"].to_numpy(), "label_mirror"), base_rate, threshold, 0
    )
    out["direction"] = {
        "score_per_date_auc_on_rises": metrics["per_date_auc"],
        "score_per_date_auc_on_falls": falls["per_date_auc"],
        "directional": bool(metrics["per_date_auc"] > falls["per_date_auc"] + 0.01),
    }
    return out


SCORING_STEPS = 3  # what `score_registered_version` reports to its `progress`


def score_registered_version(
    settings: Settings, version: str, bootstrap: int = 200, progress: Callable[[str], None] | None = None
) -> dict[str, object]:
    """`smart-money evaluate`: the registered `version` ('1.0.2', 'champion' or 'latest', files
    verified) scored on the configured source, symbols and months. What `score_registered_model`
    returns, with the model's version, status and training data, the source, the months and the
    dataset counts. `progress` hears of each of its SCORING_STEPS steps as it ends."""
    say = progress or (lambda _: None)
    source = open_source(settings)  # a records folder that cannot be read fails here, before the model
    if not isinstance(settings.symbols, int):
        pull_universe(source, settings.symbols)  # unknown tickers too (the source keeps its universe)
    registry = Registry(settings.models_location)
    model, metadata = registry.load_model(registry.resolve(version))
    evaluation = json.loads((registry.folder(metadata["version"]) / "evaluation.json").read_text())
    say(f"model v{metadata['version']} loaded ({metadata['status']})")
    first, last = pd.Timestamp(settings.start), pd.Timestamp(settings.last_month())
    data = dataset_from_source(
        source,
        settings.symbols,
        first,
        last,
        rules=UniverseRules(settings.min_inst_ownership_pct, settings.require_insider_activity),
        hedge_funds=settings.hedge_funds,
    )
    say(f"dataset: {len(data.dataset):,} samples")
    scored = score_registered_model(model, evaluation, data.dataset, bootstrap)
    say(f"scored with {bootstrap} bootstrap draws")
    return {
        "model_version": metadata["version"],
        "model_status": metadata["status"],
        "model_data": metadata["data"],
        "source": settings.source,
        "months": [f"{first:%Y-%m}", f"{last:%Y-%m}"],
        **scored,
        "dataset_counts": data.counts,
    }
