"""Registering a trained candidate: the comparison with the champion on the same test rows
(an evaluation, so it lives here) and the registry entry (model.registry) in one call."""

from __future__ import annotations

import os
import subprocess

import pandas as pd

from smart_money.dataset.splits import TEST, TRAIN, VAL
from smart_money.evaluation.metrics import HEADLINE_KEYS, safe_auc
from smart_money.model.flow_model import FlowModel
from smart_money.model.identity import MODEL_ID
from smart_money.model.registry import Registry, frame_hash
from smart_money.settings.paths import project_root


def compare_with_champion(
    registry: Registry, champion_version: str, candidate: FlowModel, test_rows: pd.DataFrame, label: str = "label"
) -> dict:
    """Both models' ROC AUC (on `label`) on the candidate's test rows; a champion that needs inputs
    the new dataset lacks scores -inf (with a note)."""
    champion, _ = registry.load_model(champion_version)
    y = test_rows[label].astype(int).to_numpy()
    candidate_auc = safe_auc(y, candidate.predict_proba(test_rows))
    try:
        champion_auc = safe_auc(y, champion.predict_proba(test_rows))
    except KeyError as exc:
        return {
            "champion_version": champion_version,
            "champion_auc": float("-inf"),
            "candidate_auc": candidate_auc,
            "note": str(exc),
        }
    return {"champion_version": champion_version, "champion_auc": champion_auc, "candidate_auc": candidate_auc}


def register_candidate(
    registry: Registry,
    candidate_dir: str | os.PathLike[str],
    metadata: dict,
    gates: dict,
    test_rows: pd.DataFrame,
    extra_files: dict[str, str | os.PathLike[str]],
    label: str = "label",
) -> dict:
    """A new registry version for the candidate; compared with the champion (on `label`) when its
    gates pass (after settling what a killed registration left, which may change the champion)."""
    registry.recover()
    comparison = None
    champion = registry.champion()
    if champion is not None and all(gate["passed"] for gate in gates.values()):
        comparison = compare_with_champion(
            registry, champion["version"], FlowModel.load(candidate_dir), test_rows, label
        )
    return registry.register(candidate_dir, metadata, gates, extra_files, comparison)


def code_version() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=project_root(), capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def registry_metadata(
    trained_model: dict, evaluation_report: dict, parts: dict[str, pd.DataFrame], dataset: pd.DataFrame, run_id: str
) -> dict:
    """metadata.json: the keys the issue lists, and the rest of the evaluation."""
    summary = evaluation_report["summary"]
    metadata = {
        "model_id": MODEL_ID,
        "algorithm": "LightGBM",
        "label": trained_model["train_config"].get("label", "label"),
        "features": trained_model["features"],
        "classifier_features": trained_model["classifier_features"],
        "data": {
            "source": evaluation_report["source"],
            "first_month": f"{dataset['sample_date'].min():%Y-%m}",
            "last_month": f"{dataset['sample_date'].max():%Y-%m}",
            "n_train": int(len(parts[TRAIN])),
            "n_val": int(len(parts[VAL])),
            "n_test": int(len(parts[TEST])),
        },
        "metrics": {
            "val": summary["metrics"]["val"],
            "test": {k: summary["metrics"]["test"].get(k) for k in HEADLINE_KEYS},
        },
        "baselines": {name: {"test_roc_auc": b["test_roc_auc"]} for name, b in summary["baselines"].items()},
        "mirror_label": {"test_roc_auc": summary["mirror_label"]["test_roc_auc"]},
        "feature_importance": summary["feature_analysis"]["importance_gain"],
        "training": {k: trained_model[k] for k in ("best_iteration", "volatility_best_iteration")}
        | {"config": trained_model["train_config"]},
        "lineage": {
            "dagster_run_id": run_id,
            "training_run_id": trained_model["run_id"],
            "data_window": evaluation_report["window"],
            "source": evaluation_report["source"],
            "dataset_sha256": frame_hash(dataset[["symbol", "sample_date", "label", *trained_model["features"]]]),
            "code_version": code_version(),
        },
    }
    if "oracle" in summary:
        metadata["oracle"] = {
            "public_test_roc_auc": summary["oracle"]["public_test_roc_auc"],
            "truth_test_roc_auc": summary["oracle"]["truth_test_roc_auc"],
        }
    if "independent_universe" in summary:
        iu = summary["independent_universe"]
        metadata["independent_universe"] = {
            "worlds": iu["worlds"],
            "n": iu["n"],
            "model_roc_auc": iu["model"]["roc_auc"],
            "oracle_public_roc_auc": iu["oracle_public"]["roc_auc"],
            "model_minus_public_auc": iu["model_minus_public_auc"],
            "ece": iu["model"]["ece"],
            "ece_vs_oracle_public": iu["ece_vs_oracle_public"],
        }
    if "walk_forward" in summary:
        metadata["walk_forward"] = summary["walk_forward"]
    metadata["interval_notes"] = summary.get("interval_notes", [])
    return metadata
