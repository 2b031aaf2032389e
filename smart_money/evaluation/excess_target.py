"""The flow model on a volatility-neutral target: the sign of the 14-day return in excess of the
matched size x prior-return bucket (dataset/labels.py, `label_excess_sign_14d`).

Same pipeline as the plan's model (model/flow_model.py: normalizer, LightGBM with the plan's
parameters and early stopping on validation, calibration on the validation window), with two
differences that follow from the target: no volatility prior (volatility does not tell whether a
stock beats its bucket, so the classifier starts from the training base rate), and rank IC is
measured against the excess return. The gates are the plan's (evaluation/gates.py) on a summary
of the same shape; baselines are retrained on the same target. It registers in its own registry
beside the plan's (models/smart-money-flow-excess/), so the plan's versions and champion never
move.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from smart_money.dataset.splits import TEST, TRAIN, VAL
from smart_money.evaluation.flow_evaluation import (
    BASELINES,
    LEAKAGE_AUC,
    EvalConfig,
    fit_plain_classifier,
    holdout,
    operating_threshold,
    shuffle_within_dates,
)
from smart_money.evaluation.metrics import HEADLINE_KEYS, evaluate_predictions, paired_auc_difference, safe_auc
from smart_money.model.flow_model import FlowModel, TrainConfig, feature_importance, train_flow_model
from smart_money.model.registry import frame_hash

EXCESS_LABEL = "label_excess_sign_14d"
EXCESS_RETURN = "excess_return_matched_14d"
EXCESS_MODEL_ID = "smart_money_flow_excess"
EXCESS_REGISTRY_FOLDER = "smart-money-flow-excess"


def excess_train_config(base: TrainConfig | None = None) -> TrainConfig:
    """The plan's training configuration on the excess-sign target, without the volatility prior."""
    base = base or TrainConfig()
    return TrainConfig(**{**base.__dict__, "label": EXCESS_LABEL, "use_prior": False})


def with_excess_label(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows whose excess-sign label is known (a stock without a matched bucket has none)."""
    return frame[frame[EXCESS_LABEL].notna()].reset_index(drop=True)


def excess_holdout(dataset: pd.DataFrame, splits: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {role: with_excess_label(frame) for role, frame in holdout(dataset, splits).items()}


def train_excess_model(dataset: pd.DataFrame, splits: pd.DataFrame, base: TrainConfig | None = None):
    """The flow model trained on the excess-sign target over the holdout split's train/val rows."""
    parts = excess_holdout(dataset, splits)
    return train_flow_model(parts[TRAIN], parts[VAL], excess_train_config(base))


def excess_metric_frame(rows: pd.DataFrame, p: np.ndarray) -> pd.DataFrame:
    """What evaluation.metrics reads, with the excess return in the rank-IC column."""
    return pd.DataFrame(
        {
            "y": rows[EXCESS_LABEL].astype(int).to_numpy(),
            "p": p,
            "return_14d": rows[EXCESS_RETURN].to_numpy(dtype=float),
            "sample_date": rows["sample_date"].to_numpy(),
        }
    )


def evaluate_excess_model(
    model: FlowModel, dataset: pd.DataFrame, splits: pd.DataFrame, config: TrainConfig, eval_config: EvalConfig
) -> dict:
    """A summary with the keys evaluation.gates reads (metrics val/test, baselines, warnings) plus
    feature importance, on the excess-sign target."""
    parts = excess_holdout(dataset, splits)
    train, val, test = parts[TRAIN], parts[VAL], parts[TEST]
    base_rate = float(train[EXCESS_LABEL].astype(float).mean())
    p_val, p_test = model.predict_proba(val), model.predict_proba(test)
    threshold = operating_threshold(p_val)
    metrics = {
        VAL: evaluate_predictions(excess_metric_frame(val, p_val), base_rate, threshold, eval_config.bootstrap),
        TEST: evaluate_predictions(excess_metric_frame(test, p_test), base_rate, threshold, eval_config.bootstrap),
    }
    test_frame = excess_metric_frame(test, p_test).assign(model=p_test)
    baselines: dict[str, dict] = {
        "base_rate": {
            "val_roc_auc": 0.5,
            "test_roc_auc": 0.5,
            "test_per_date_auc": 0.5,
            "test_brier_skill": evaluate_predictions(
                excess_metric_frame(test, np.full(len(test), base_rate)), base_rate, threshold, 0
            )["brier_skill"],
        }
    }
    scores = {}
    for name in ("volatility_size", "momentum"):
        booster = fit_plain_classifier(train, val, BASELINES[name], config, label=EXCESS_LABEL)
        scores[name] = (booster.predict(val[list(BASELINES[name])]), booster.predict(test[list(BASELINES[name])]))
    shuffled = shuffle_within_dates(train, [EXCESS_LABEL, EXCESS_RETURN], eval_config.seed)
    noise = train_flow_model(shuffled, val, config).model
    scores["shuffled_labels"] = (noise.predict_proba(val), noise.predict_proba(test))
    for name, (v, t) in scores.items():
        test_metrics = evaluate_predictions(excess_metric_frame(test, t), base_rate, threshold, 0)
        test_frame[name] = t
        baselines[name] = {
            "val_roc_auc": safe_auc(val[EXCESS_LABEL].astype(int).to_numpy(), v),
            "test_roc_auc": test_metrics["roc_auc"],
            "test_per_date_auc": test_metrics["per_date_auc"],
            "test_brier_skill": test_metrics["brier_skill"],
            "test_rank_ic_mean": test_metrics["rank_ic_mean"],
            "model_minus_baseline_auc": paired_auc_difference(test_frame, "model", name, eval_config.bootstrap),
        }
    warnings = []
    if metrics[TEST]["roc_auc"] > LEAKAGE_AUC:
        warnings.append(
            f"LEAKAGE ALARM: test AUC {metrics[TEST]['roc_auc']:.3f} > {LEAKAGE_AUC} on the excess-sign target"
        )
    return {
        "label": EXCESS_LABEL,
        "base_rate_train": base_rate,
        "operating_threshold": threshold,
        "metrics": metrics,
        "baselines": baselines,
        "split_sizes": {role: int(len(frame)) for role, frame in parts.items()},
        "feature_analysis": {"importance_gain": feature_importance(model)},
        "warnings": warnings,
    }


def excess_registry_metadata(
    trained: dict, summary: dict, parts: dict[str, pd.DataFrame], dataset: pd.DataFrame, run_id: str, source: str
) -> dict:
    """metadata.json of an excess-target candidate (the plan model's keys where they apply)."""
    return {
        "model_id": EXCESS_MODEL_ID,
        "algorithm": "LightGBM",
        "label": EXCESS_LABEL,
        "features": trained["features"],
        "classifier_features": trained["classifier_features"],
        "data": {
            "source": source,
            "first_month": f"{dataset['sample_date'].min():%Y-%m}",
            "last_month": f"{dataset['sample_date'].max():%Y-%m}",
            **{f"n_{role}": int(len(parts[role])) for role in (TRAIN, VAL, TEST)},
        },
        "metrics": {
            "val": summary["metrics"][VAL],
            "test": {k: summary["metrics"][TEST].get(k) for k in (*HEADLINE_KEYS, "rank_ic_mean", "rank_ic_t")},
        },
        "baselines": {name: {"test_roc_auc": b["test_roc_auc"]} for name, b in summary["baselines"].items()},
        "feature_importance": summary["feature_analysis"]["importance_gain"],
        "training": {"best_iteration": trained["best_iteration"], "config": trained["train_config"]},
        "lineage": {
            "dagster_run_id": run_id,
            "training_run_id": trained["run_id"],
            "source": source,
            "dataset_sha256": frame_hash(dataset[["symbol", "sample_date", EXCESS_LABEL, *trained["features"]]]),
        },
    }
