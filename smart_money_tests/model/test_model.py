"""The flow model: reproducible artifacts, honest noise floor, leakage alarm, registry."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from smart_money.dataset.catalogue import ANALYSIS_FEATURES, FEATURES, PLAN_FEATURES
from smart_money.dataset.pipeline import dataset_from_source
from smart_money.dataset.splits import SplitSpec, build_splits
from smart_money.evaluation.flow_evaluation import (
    EvalConfig,
    evaluate,
    holdout,
    shuffle_within_dates,
)
from smart_money.evaluation.gates import GateConfig, evaluate_gates
from smart_money.evaluation.registration import register_candidate
from smart_money.model.flow_model import (
    CLASSIFIER_FEATURES,
    INPUT_FEATURES,
    Calibrator,
    FlowModel,
    TrainConfig,
    train_flow_model,
    volatility_samples,
)
from smart_money.model.registry import Registry, RegistryError, TamperedArtifact

FAST = EvalConfig(bootstrap=20, walk_forward=False)


@pytest.fixture(scope="module")
def panel():
    from smart_money.sources.simulated import SimulatedSource

    source = SimulatedSource(n_symbols=150, seed=21, horizon=pd.Timestamp("2024-09-01"))
    built = dataset_from_source(source, 150, pd.Timestamp("2022-01-01"), pd.Timestamp("2024-06-01"))
    dataset = built.dataset
    splits = build_splits(dataset, SplitSpec(walk_forward_min_train_dates=12, walk_forward_step_dates=6))
    parts = holdout(dataset, splits)
    samples = volatility_samples(
        built.inputs.prices, source.market_index(), dataset["sample_date"].min(), parts["val"]["sample_date"].min()
    )
    oracle = source.oracle(dataset[["symbol", "sample_date"]])
    dataset = dataset.assign(
        oracle_public=oracle["oracle_public"].to_numpy(), oracle_truth=oracle["oracle_truth"].to_numpy()
    )
    return dataset, splits, parts, samples


@pytest.fixture(scope="module")
def trained(panel):
    _, _, parts, samples = panel
    return train_flow_model(parts["train"], parts["val"], TrainConfig(), samples)


def test_saved_artifacts_reproduce_the_predictions_exactly(trained, panel, tmp_path):
    _, _, parts, _ = panel
    folder = tmp_path / "model"
    written = trained.model.save(folder)
    assert {p.name for p in written} == {
        "model.txt",
        "volatility_model.txt",
        "normalizer.json",
        "calibrator.json",
        "prior.json",
    }
    assert not list(folder.glob("*.pkl")) and not list(folder.glob("*.joblib"))
    import lightgbm as lgb

    assert lgb.Booster(model_file=str(folder / "model.txt")).num_trees() == trained.model.classifier.num_trees()
    loaded = FlowModel.load(folder)
    expected = trained.model.predict_proba(parts["test"])
    np.testing.assert_array_equal(loaded.predict_proba(parts["test"]), expected)
    # callers may send raw features in any column order: the normalizer selects and scales them
    shuffled_columns = parts["test"][list(reversed(parts["test"].columns))]
    np.testing.assert_array_equal(loaded.predict_proba(shuffled_columns), expected)


def test_analysis_columns_are_stored_with_the_features_but_are_not_model_inputs(trained, panel):
    """The insider split columns reach the training dataset, yet the model's input list (which the
    registry versions), its classifier and the plan's 27 do not include them."""
    dataset = panel[0]
    assert (
        set(ANALYSIS_FEATURES) <= set(dataset.columns) and dataset["insider_opportunistic_buy_count_90d"].notna().any()
    )
    assert set(ANALYSIS_FEATURES).isdisjoint(INPUT_FEATURES) and set(ANALYSIS_FEATURES).isdisjoint(CLASSIFIER_FEATURES)
    assert set(ANALYSIS_FEATURES).isdisjoint(PLAN_FEATURES) and len(PLAN_FEATURES) == 27
    assert list(INPUT_FEATURES) == [f for f in FEATURES if f not in ANALYSIS_FEATURES]
    assert set(ANALYSIS_FEATURES).isdisjoint(trained.model.normalizer.features)


def test_model_beats_volatility_alone_and_stays_below_the_latent_oracle(trained, panel):
    dataset, splits, parts, samples = panel
    result = evaluate(
        trained.model,
        dataset,
        splits,
        TrainConfig(),
        FAST,
        oracle=dataset[["symbol", "sample_date", "oracle_public", "oracle_truth"]],
        vol_samples=samples,
    )
    test = result.summary["metrics"]["test"]
    assert 0.5 < test["roc_auc"] < result.summary["oracle"]["truth_test_roc_auc"]
    assert result.summary["baselines"]["shuffled_labels"]["test_per_date_auc"] == pytest.approx(0.5, abs=0.06)
    assert not result.warnings
    assert set(result.summary["metrics"]["test"]) >= {
        "roc_auc",
        "pr_auc",
        "accuracy",
        "precision",
        "recall",
        "f1",
        "brier",
        "brier_skill",
        "log_loss",
        "ece",
        "top_decile_precision",
        "base_rate",
    }


def test_shuffled_labels_give_chance_auc_and_the_gates_reject_the_model(panel):
    dataset, splits, parts, samples = panel
    noise = shuffle_within_dates(dataset, ["label", "label_mirror", "realized_volatility_14d", "return_14d"], seed=5)
    noise_parts = holdout(noise, splits)
    model = train_flow_model(
        noise_parts["train"],
        noise_parts["val"],
        TrainConfig(),
        shuffle_within_dates(samples, ["realized_volatility_14d"], 5),
    ).model
    result = evaluate(model, noise, splits, TrainConfig(), FAST, vol_samples=samples)
    assert result.summary["metrics"]["test"]["per_date_auc"] == pytest.approx(0.5, abs=0.06)
    gates = evaluate_gates(result.summary, GateConfig())
    assert not gates["beats_baselines"]["passed"]


def test_a_leaky_canary_feature_fires_the_leakage_warning_and_gate(panel):
    dataset, splits, parts, samples = panel
    leaky = dataset.assign(canary_future_return=dataset["return_14d"])  # built from the label window
    leaky_parts = holdout(leaky, splits)
    config = TrainConfig(features=(*TrainConfig().features, "canary_future_return"))
    model = train_flow_model(leaky_parts["train"], leaky_parts["val"], config, samples).model
    result = evaluate(
        model,
        leaky,
        splits,
        config,
        FAST,
        oracle=dataset[["symbol", "sample_date", "oracle_public", "oracle_truth"]],
        vol_samples=samples,
    )
    assert result.summary["metrics"]["test"]["roc_auc"] > 0.9
    assert any("LEAKAGE" in w for w in result.warnings)
    gates = evaluate_gates(result.summary, GateConfig())
    assert not gates["no_leakage"]["passed"]


def test_a_one_date_test_split_says_its_intervals_are_degenerate_without_a_leakage_warning(trained, panel):
    from smart_money.dataset.splits import HOLDOUT, TEST
    from smart_money.reporting.html_report import make_plots, markdown_summary, render_html

    dataset, splits, parts, samples = panel
    last = parts["test"]["sample_date"].max()
    dropped = (splits["scheme"] == HOLDOUT) & (splits["role"] == TEST) & (splits["sample_date"] != last)
    result = evaluate(trained.model, dataset, splits[~dropped], TrainConfig(), FAST, vol_samples=samples)
    test = result.summary["metrics"]["test"]
    assert test["n_dates"] == 1 and test["roc_auc_ci"][0] == test["roc_auc_ci"][1]  # the degenerate interval
    assert result.interval_notes == result.summary["interval_notes"]
    assert [n.split(":")[0] for n in result.interval_notes] == ["the test split has 1 sample date"]
    assert not result.warnings and not result.summary["warnings"]  # a separate field: no leakage sign
    gates = evaluate_gates(result.summary, GateConfig())
    assert gates["no_leakage"]["detail"] == "no leakage warning"
    assert "(1 test date: the bound is the point value)" in gates["calibration"]["detail"]
    html = render_html(result, make_plots(result), {"version": "test"})
    roc_ci = f"[{test['roc_auc_ci'][0]:.4f}, {test['roc_auc_ci'][1]:.4f}] (1 date: no interval)"
    assert roc_ci in html and "Intervals: the test split has 1 sample date" in html
    assert "Intervals: the test split has 1 sample date" in markdown_summary(result)


def test_anchored_platt_keeps_the_level_and_fixes_the_slope():
    rng = np.random.default_rng(0)
    truth = rng.uniform(0.05, 0.5, 20000)
    y = (rng.random(20000) < truth).astype(int)
    overconfident = 1 / (1 + np.exp(-(np.log(truth / (1 - truth)) - np.log(0.25 / 0.75)) * 2 - np.log(0.25 / 0.75)))
    calibrator = Calibrator.fit(overconfident, y, "anchored_platt")
    assert calibrator.params["slope"] == pytest.approx(0.5, abs=0.08)
    fixed = calibrator.apply(overconfident)
    assert np.mean(np.abs(fixed - truth)) < np.mean(np.abs(overconfident - truth)) / 2
    round_trip = Calibrator.from_json(json.loads(json.dumps(calibrator.to_json())))
    np.testing.assert_array_equal(round_trip.apply(overconfident), fixed)


def _register(registry: Registry, trained_model, parts, passed: bool = True, auc: float = 0.6) -> dict:
    folder = registry.root.parent / f"candidate-{len(registry.index()['versions'])}"
    trained_model.save(folder)
    (folder / "report.html").write_text("<html>report</html>")
    metadata = {
        "model_id": "smart_money_flow",
        "features": trained_model.normalizer.features,
        "label": "label",
        "metrics": {
            "test": {"roc_auc": auc, "per_date_auc": auc, "ece": 0.01, "brier_skill": 0.01, "top_decile_precision": 0.3}
        },
    }
    gates = {"beats_baselines": {"passed": passed, "value": 0.01, "threshold": 0.005, "detail": "test"}}
    return register_candidate(registry, folder, metadata, gates, parts["test"], {"report.html": folder / "report.html"})


def test_registry_refuses_tampered_artifacts_and_keeps_champion_history(trained, panel, tmp_path):
    _, _, parts, _ = panel
    registry = Registry(tmp_path / "models")
    first = _register(registry, trained.model, parts)
    assert first["version"] == "1.0.0" and first["status"] == "champion"
    assert set(first["sha256"]) >= {"model.txt", "normalizer.json", "calibrator.json", "metadata.json", "report.html"}
    model, metadata = registry.load_model()
    assert metadata["version"] == "1.0.0"

    rejected = _register(registry, trained.model, parts, passed=False)
    assert rejected["version"] == "1.0.1" and rejected["status"] == "rejected" and rejected["reasons"]
    with pytest.raises(RegistryError, match="rejected"):
        registry.promote("1.0.1")

    # the same model again is not better than the champion on the same rows: kept as candidate
    runner_up = _register(registry, trained.model, parts)
    assert runner_up["status"] == "candidate" and "not better than champion" in runner_up["reasons"][0]
    registry.promote(runner_up["version"])
    assert registry.index()["champion"] == runner_up["version"]
    assert registry.rollback()["version"] == "1.0.0"
    assert registry.index()["champion"] == "1.0.0"
    with pytest.raises(RegistryError, match="no previous champion"):
        registry.rollback()

    target = registry.folder("1.0.0") / "model.txt"
    target.write_text(target.read_text().replace("tree", "tree ", 1))
    with pytest.raises(TamperedArtifact, match="model.txt changed"):
        registry.load_model("1.0.0")


def test_parameter_search_logs_every_configuration_and_picks_the_best_by_validation_loss(panel):
    from smart_money.evaluation.parameter_search import search_parameters

    _, _, parts, samples = panel
    grid = {"num_leaves": [7, 31], "min_child_samples": [20, 400]}
    result = search_parameters(parts["train"], TrainConfig(), samples, grid=grid, folds=2)
    assert len(result.table) == 4 and set(result.table.columns) >= {
        "num_leaves",
        "min_child_samples",
        "mean_log_loss",
        "mean_per_date_auc",
    }
    best = result.table.iloc[0]
    assert best["mean_log_loss"] == result.table["mean_log_loss"].min()
    assert result.best_params["num_leaves"] == best["num_leaves"] and result.best_params["learning_rate"] == 0.05


def test_winsorizing_clips_to_training_quantiles_and_round_trips(panel):
    from smart_money.model.flow_model import Normalizer

    _, _, parts, _ = panel
    normalizer = Normalizer.fit(parts["train"], ["volatility_60d", "return_1m"], winsorize=0.01)
    extreme = parts["test"].assign(volatility_60d=1e6, return_1m=-1e6)
    z = normalizer.transform(extreme)
    top = (np.quantile(parts["train"]["volatility_60d"].dropna(), 0.99) - normalizer.mean[0]) / normalizer.std[0]
    assert z["volatility_60d"].max() == pytest.approx(top, rel=1e-6)
    again = Normalizer.from_json(json.loads(json.dumps(normalizer.to_json())))
    pd.testing.assert_frame_equal(again.transform(extreme), z)
