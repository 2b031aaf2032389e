"""Evaluation of a trained flow model: holdout metrics, baselines, oracles, the mirror label,
walk-forward folds, feature analysis and leakage warnings (plan's evaluate / analyze-features).

Everything is measured on the same rows side by side. Baselines are trained the same way
(same splits, plan parameters, early stopping on validation)."""

from __future__ import annotations

from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from smart_money.dataset.catalogue import BY_NAME, FEATURES, INDICATORS, MISSING_INDICATORS, PLAN_FEATURES
from smart_money.dataset.splits import HOLDOUT, TEST, TRAIN, VAL, WALK_FORWARD
from smart_money.evaluation.metrics import (
    ece_against,
    evaluate_predictions,
    interval_note,
    paired_auc_difference,
    reliability_table,
    safe_auc,
)
from smart_money.model.flow_model import (
    FlowModel,
    TrainConfig,
    feature_importance,
    feature_roles,
    lgb_params,
    train_flow_model,
)

LEAKAGE_AUC = 0.70
BASELINES = {
    "base_rate": (),
    "volatility_size": ("volatility_20d", "volatility_60d", "log_market_cap"),
    "momentum": ("return_1m", "return_3m", "return_6m", "return_12_1m"),
    "shuffled_labels": None,  # the flow model itself, trained on labels shuffled within dates
}


@dataclass
class EvalConfig:
    bootstrap: int = 100
    walk_forward: bool = True
    independent_worlds: int = 4  # simulated source only: fresh universes scored out of sample
    independent_symbols: int = 250
    seed: int = 42


@dataclass
class Evaluation:
    summary: dict[str, object]  # JSON-ready: every number of the report
    predictions: pd.DataFrame  # val/test rows with probability, score, baselines, oracle
    reliability: dict[str, pd.DataFrame]
    walk_forward: pd.DataFrame
    correlations: pd.DataFrame
    warnings: list[str] = field(default_factory=list)  # leakage signs: the no_leakage gate reads them
    interval_notes: list[str] = field(default_factory=list)  # degenerate intervals: shown, never gated


def holdout(dataset: pd.DataFrame, splits: pd.DataFrame) -> dict[str, pd.DataFrame]:
    roles = splits[splits["scheme"] == HOLDOUT][["symbol", "sample_date", "role"]]
    merged = dataset.merge(roles, on=["symbol", "sample_date"], how="inner", validate="one_to_one")
    return {
        role: merged[merged["role"] == role].drop(columns="role").reset_index(drop=True) for role in (TRAIN, VAL, TEST)
    }


def fit_plain_classifier(
    train: pd.DataFrame, val: pd.DataFrame, features: tuple[str, ...], config: TrainConfig, label: str = "label"
) -> lgb.Booster:
    params = lgb_params(config.params, "binary")
    dtrain = lgb.Dataset(train[list(features)], train[label].astype(int))
    dval = lgb.Dataset(val[list(features)], val[label].astype(int), reference=dtrain)
    return lgb.train(
        params,
        dtrain,
        int(config.params.get("n_estimators", 200)),
        valid_sets=[dval],
        callbacks=[lgb.early_stopping(config.early_stopping_rounds, verbose=False)],
    )


def shuffle_within_dates(frame: pd.DataFrame, columns: list[str], seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = frame.copy()
    for _, idx in frame.groupby("sample_date").groups.items():
        perm = rng.permutation(len(idx))
        for column in columns:
            out.loc[idx, column] = frame.loc[idx, column].to_numpy()[perm]
    return out


def baseline_predictions(
    parts: dict[str, pd.DataFrame], config: TrainConfig, seed: int, vol_samples: pd.DataFrame | None
) -> dict[str, dict[str, np.ndarray]]:
    """Predictions of every baseline on val and test."""
    train, val, test = parts[TRAIN], parts[VAL], parts[TEST]
    out: dict[str, dict[str, np.ndarray]] = {}
    rate = float(train["label"].astype(float).mean())
    out["base_rate"] = {VAL: np.full(len(val), rate), TEST: np.full(len(test), rate)}
    for name in ("volatility_size", "momentum"):
        booster = fit_plain_classifier(train, val, BASELINES[name], config)
        out[name] = {role: booster.predict(frame[list(BASELINES[name])]) for role, frame in ((VAL, val), (TEST, test))}
    # the noise floor: every outcome (labels, returns, realised volatility) shuffled within dates
    shuffled = shuffle_within_dates(train, ["label", "label_mirror", "realized_volatility_14d", "return_14d"], seed)
    shuffled_samples = (
        None if vol_samples is None else shuffle_within_dates(vol_samples, ["realized_volatility_14d"], seed)
    )
    noise = train_flow_model(shuffled, val, config, shuffled_samples).model
    out["shuffled_labels"] = {VAL: noise.predict_proba(val), TEST: noise.predict_proba(test)}
    return out


def operating_threshold(val_probability: np.ndarray) -> float:
    """Top decile of validation scores: the plan's precision/recall/F1 at a usable coverage
    (a calibrated model at a ~25 % base rate rarely says > 0.5)."""
    return float(np.quantile(val_probability, 0.9))


def metric_frame(rows: pd.DataFrame, p: np.ndarray, label: str = "label") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "y": rows[label].astype(int).to_numpy(),
            "p": p,
            "return_14d": rows["return_14d"].to_numpy() * (-1 if label == "label_mirror" else 1),
            "sample_date": rows["sample_date"].to_numpy(),
        }
    )


FOLD_METRICS = ("roc_auc", "per_date_auc", "brier_skill", "top_decile_precision", "rank_ic_mean")


def family_gain_shares(model: FlowModel) -> dict[str, float]:
    """Share of the classifier's total gain per feature family (what the smart-money
    classifier used on top of the volatility prior); zeros when it made no split."""
    gains = dict(zip(model.features, model.classifier.feature_importance("gain").tolist()))
    total = sum(gains.values())
    shares: dict[str, float] = {}
    for name, gain in gains.items():
        family = BY_NAME[name].family if name in BY_NAME else "other"
        shares[family] = shares.get(family, 0.0) + (gain / total if total > 0 else 0.0)
    return shares


def _walk_forward_fold(
    fold: int, keyed: pd.DataFrame, config: TrainConfig, vol_samples: pd.DataFrame | None
) -> dict | None:
    """One expanding-window fold: the flow model, the baselines and the mirror-label model
    refitted on the fold's training dates and scored on its test block."""
    train_all = keyed[keyed["role"] == TRAIN]
    test = keyed[keyed["role"] == TEST]
    dates = np.sort(train_all["sample_date"].unique())
    n_val = max(2, int(round(0.15 * len(dates))))
    if len(dates) - n_val < 4 or test.empty:
        return None
    val_start = dates[-n_val]
    train = train_all[(train_all["sample_date"] < val_start) & (train_all["label_end_date"] < val_start)]  # purged
    val = train_all[train_all["sample_date"] >= val_start]
    fold_samples = None if vol_samples is None else vol_samples[vol_samples["sample_date"] < val_start]
    trained = train_flow_model(train, val, config, fold_samples)
    model = trained.model
    p = model.predict_proba(test)
    base_rate = float(train["label"].astype(float).mean())
    threshold = operating_threshold(model.predict_proba(val))
    metrics = evaluate_predictions(metric_frame(test, p), base_rate, threshold, bootstrap=0)
    row: dict[str, object] = {
        "fold": int(fold),
        "test_first": str(pd.Timestamp(test["sample_date"].min()).date()),
        "test_last": str(pd.Timestamp(test["sample_date"].max()).date()),
        "train_dates": int(train["sample_date"].nunique()),
        "n_test": int(len(test)),
        **{name: metrics[name] for name in FOLD_METRICS},
        "base_rate": metrics["base_rate"],
        "classifier_iterations": int(trained.best_iteration),
    }
    for name in ("volatility_size", "momentum"):
        score = fit_plain_classifier(train, val, BASELINES[name], config).predict(test[list(BASELINES[name])])
        baseline = evaluate_predictions(metric_frame(test, score), base_rate, threshold, bootstrap=0)
        row.update({f"{name}_{metric}": baseline[metric] for metric in FOLD_METRICS})
    row["volatility_size_auc"] = row["volatility_size_roc_auc"]
    # the mirror label (falls > 5 %) with the same pipeline: a volatility detector ranks both alike
    mirror_config = TrainConfig(**{**config.__dict__, "label": "label_mirror"})
    mirror = train_flow_model(train, val, mirror_config, fold_samples, volatility_fit=trained.volatility_fit).model
    mirror_rate = float(train["label_mirror"].astype(float).mean())
    mirror_metrics = evaluate_predictions(
        metric_frame(test, mirror.predict_proba(test), "label_mirror"), mirror_rate, threshold, bootstrap=0
    )
    row.update({f"mirror_{metric}": mirror_metrics[metric] for metric in FOLD_METRICS})
    row["score_per_date_auc_on_falls"] = evaluate_predictions(
        metric_frame(test, p, "label_mirror"), mirror_rate, threshold, bootstrap=0
    )["per_date_auc"]
    row.update({f"gain_share_{family}": share for family, share in family_gain_shares(model).items()})
    return row


def walk_forward_folds(
    dataset: pd.DataFrame,
    splits: pd.DataFrame,
    config: TrainConfig,
    vol_samples: pd.DataFrame | None = None,
    n_jobs: int = 2,
) -> pd.DataFrame:
    """Refit the whole pipeline per expanding fold (validation = the fold's last 15 % of training
    dates, purged) and score its test block; folds run in parallel, one thread each."""
    wf = splits[splits["scheme"] == WALK_FORWARD]
    fold_config = TrainConfig(
        **{
            **config.__dict__,
            "params": {**config.params, "num_threads": 1},
            "cross_fit_folds": min(config.cross_fit_folds, 3),
        }
    )
    # a generator: joblib takes the next fold's rows only when a worker is nearly free, so about
    # 2 x n_jobs folds' copies of the dataset exist at once instead of one per fold (a 20-year
    # history has some 75 folds)
    jobs = (
        delayed(_walk_forward_fold)(
            fold,
            dataset.merge(assignment[["symbol", "sample_date", "role"]], on=["symbol", "sample_date"]),
            fold_config,
            vol_samples,
        )
        for fold, assignment in wf.groupby("fold")
    )
    rows = [row for row in Parallel(n_jobs=n_jobs, pre_dispatch="2*n_jobs")(jobs) if row is not None]
    return pd.DataFrame(rows)


def feature_analysis(model: FlowModel, train: pd.DataFrame) -> tuple[dict[str, object], pd.DataFrame]:
    """Gain importance, top 15, correlation matrix and redundant pairs (|Spearman| > 0.9)."""
    importance = feature_importance(model)
    numeric = [f for f in FEATURES if f not in INDICATORS and train[f].notna().sum() > 10 and train[f].nunique() > 1]
    corr = train[numeric].corr(method="spearman")
    redundant = []
    for i, a in enumerate(numeric):
        for b in numeric[i + 1 :]:
            value = corr.loc[a, b]
            if abs(value) > 0.9:
                keep, drop = (a, b) if importance.get(a, 0) >= importance.get(b, 0) else (b, a)
                redundant.append(
                    {
                        "pair": [a, b],
                        "spearman": round(float(value), 3),
                        "recommendation": f"keep {keep}, consider dropping {drop}",
                    }
                )
    family_gain: dict[str, float] = {}
    for name, gain in importance.items():
        family = (
            "volatility model"
            if name.startswith("vol:")
            else BY_NAME[name].family
            if name in BY_NAME
            else "not in the catalogue"
        )
        family_gain[family] = family_gain.get(family, 0.0) + gain
    top15 = dict(list(importance.items())[:15])
    return {
        "importance_gain": importance,
        "top15": top15,
        "family_gain": family_gain,
        "redundant_pairs": redundant,
        "roles": feature_roles(tuple(model.features)),
    }, corr


def feature_coverage(dataset: pd.DataFrame) -> dict[str, object]:
    """What the model had to work with: per year, the share of samples whose source family is
    missing (its `*_missing` indicator) and, over all samples, the share of each smart-money
    feature that is NaN (missing source, undefined ratio or unknown shares outstanding)."""
    years = dataset["sample_date"].dt.year.astype(str)
    missing_by_year = dataset[list(MISSING_INDICATORS)].astype(float).groupby(years).mean()
    return {
        "samples_by_year": dataset.groupby(years).size().astype(int).to_dict(),
        "missing_share_by_year": {
            indicator: missing_by_year[indicator].round(4).to_dict() for indicator in MISSING_INDICATORS
        },
        "nan_share": {name: round(float(dataset[name].isna().mean()), 4) for name in PLAN_FEATURES},
    }


def evaluate(
    model: FlowModel,
    dataset: pd.DataFrame,
    splits: pd.DataFrame,
    config: TrainConfig,
    eval_config: EvalConfig | None = None,
    oracle: pd.DataFrame | None = None,
    independent: pd.DataFrame | None = None,
    vol_samples: pd.DataFrame | None = None,
    volatility_rounds: int | None = None,
) -> Evaluation:
    """`oracle`: rows (symbol, sample_date, oracle_public, oracle_truth[, oracle_public_mirror])
    for the same samples (simulated source); `independent`: dataset rows of fresh universes with
    oracle columns (simulated source)."""
    eval_config = eval_config or EvalConfig()
    # refits (baselines, mirror label, folds) reuse the model's volatility rounds: no search
    config = TrainConfig(
        **{**config.__dict__, "volatility_fixed_rounds": volatility_rounds or config.volatility_fixed_rounds}
    )
    parts = holdout(dataset, splits)
    train, val, test = parts[TRAIN], parts[VAL], parts[TEST]
    base_rate = float(train["label"].astype(float).mean())
    p_val, p_test = model.predict_proba(val), model.predict_proba(test)
    threshold = operating_threshold(p_val)

    metrics = {
        VAL: evaluate_predictions(metric_frame(val, p_val), base_rate, threshold, eval_config.bootstrap),
        TEST: evaluate_predictions(metric_frame(test, p_test), base_rate, threshold, eval_config.bootstrap),
    }
    warnings: list[str] = []

    baselines = baseline_predictions(parts, config, eval_config.seed, vol_samples)
    baseline_summary = {}
    predictions = test[["symbol", "sample_date", "label", "label_mirror", "return_14d"]].copy()
    predictions["probability"] = p_test
    test_frame = metric_frame(test, p_test).assign(model=p_test)
    for name, preds in baselines.items():
        baseline_summary[name] = {
            "val_roc_auc": safe_auc(val["label"].astype(int).to_numpy(), preds[VAL]),
            "test_roc_auc": safe_auc(test["label"].astype(int).to_numpy(), preds[TEST]),
            "test_per_date_auc": evaluate_predictions(metric_frame(test, preds[TEST]), base_rate, threshold, 0)[
                "per_date_auc"
            ]
            if name != "base_rate"
            else 0.5,
            "test_brier_skill": evaluate_predictions(metric_frame(test, preds[TEST]), base_rate, threshold, 0)[
                "brier_skill"
            ],
        }
        predictions[f"baseline_{name}"] = preds[TEST]
        test_frame[name] = preds[TEST]
        if name != "base_rate":
            baseline_summary[name]["model_minus_baseline_auc"] = paired_auc_difference(
                test_frame, "model", name, eval_config.bootstrap
            )

    # the same pipeline on the mirror label (falls > 5 %): a volatility detector ranks both alike
    mirror_model = train_flow_model(
        train, val, TrainConfig(**{**config.__dict__, "label": "label_mirror"}), vol_samples
    ).model  # noqa: E501
    p_mirror = mirror_model.predict_proba(test)
    rises = metrics[TEST]["per_date_auc"]
    falls_same_score = evaluate_predictions(
        metric_frame(test, p_test, "label_mirror"), float(train["label_mirror"].astype(float).mean()), threshold, 0
    )["per_date_auc"]
    mirror = {
        "test_roc_auc": safe_auc(test["label_mirror"].astype(int).to_numpy(), p_mirror),
        "test_per_date_auc": evaluate_predictions(
            metric_frame(test, p_mirror, "label_mirror"),
            float(train["label_mirror"].astype(float).mean()),
            threshold,
            0,
        )["per_date_auc"],
        "model_score_per_date_auc_on_rises": rises,
        "model_score_per_date_auc_on_falls": falls_same_score,
        "directional": bool(rises > falls_same_score + 0.01),
    }
    predictions["probability_mirror_model"] = p_mirror

    summary: dict[str, object] = {
        "base_rate_train": base_rate,
        "operating_threshold": threshold,
        "metrics": metrics,
        "baselines": baseline_summary,
        "mirror_label": mirror,
        "split_sizes": {role: int(len(frame)) for role, frame in parts.items()},
        "split_dates": {
            role: [
                str(pd.Timestamp(frame["sample_date"].min()).date()),
                str(pd.Timestamp(frame["sample_date"].max()).date()),
            ]
            for role, frame in parts.items()
            if len(frame)
        },
    }
    reliability = {"model": reliability_table(test_frame["y"].to_numpy(), p_test)}

    if oracle is not None:
        keyed = test[["symbol", "sample_date"]].merge(oracle, on=["symbol", "sample_date"], how="left")
        y = test["label"].astype(int).to_numpy()
        oracle_summary = {}
        for column in ("oracle_public", "oracle_truth"):
            values = keyed[column].to_numpy(dtype=float)
            oracle_summary[column] = evaluate_predictions(
                metric_frame(test, values), base_rate, threshold, eval_config.bootstrap
            )
            predictions[column] = values
            test_frame[column] = values
        oracle_summary["model_minus_public_auc"] = paired_auc_difference(
            test_frame, "model", "oracle_public", eval_config.bootstrap
        )
        oracle_summary["public_test_roc_auc"] = oracle_summary["oracle_public"]["roc_auc"]
        oracle_summary["truth_test_roc_auc"] = oracle_summary["oracle_truth"]["roc_auc"]
        oracle_summary["public_test_ece"] = oracle_summary["oracle_public"]["ece"]
        summary["oracle"] = oracle_summary
        reliability["oracle_public"] = reliability_table(y, keyed["oracle_public"].to_numpy(dtype=float))
        if metrics[TEST]["roc_auc"] > oracle_summary["truth_test_roc_auc"] + 0.02:
            warnings.append(
                f"LEAKAGE: test AUC {metrics[TEST]['roc_auc']:.3f} beats the latent-state oracle "
                f"({oracle_summary['truth_test_roc_auc']:.3f}); no honest model can."
            )

    if independent is not None and len(independent):
        summary["independent_universe"] = score_independent(
            model, independent, base_rate, threshold, eval_config, mirror_model
        )
        reliability["independent_model"] = reliability_table(
            independent["label"].astype(int).to_numpy(), model.predict_proba(independent)
        )

    if metrics[TEST]["roc_auc"] > LEAKAGE_AUC:
        warnings.append(
            f"LEAKAGE ALARM: test AUC {metrics[TEST]['roc_auc']:.3f} > {LEAKAGE_AUC}: on real data this needs an "
            "information coefficient about ten times Qlib's; audit before publishing."
        )

    wf = walk_forward_folds(dataset, splits, config, vol_samples) if eval_config.walk_forward else pd.DataFrame()
    if len(wf):
        summary["walk_forward"] = {
            "folds": int(len(wf)),
            "mean_roc_auc": float(wf["roc_auc"].mean()),
            "mean_per_date_auc": float(wf["per_date_auc"].mean()),
            "mean_brier_skill": float(wf["brier_skill"].mean()),
            "mean_top_decile_precision": float(wf["top_decile_precision"].mean()),
            "mean_rank_ic": float(wf["rank_ic_mean"].mean()),
            "mean_volatility_size_auc": float(wf["volatility_size_auc"].mean()),
            "mean_momentum_auc": float(wf["momentum_roc_auc"].mean()),
            "mean_mirror_roc_auc": float(wf["mirror_roc_auc"].mean()),
        }
        summary["walk_forward_folds"] = wf.to_dict("records")
    analysis, corr = feature_analysis(model, train)
    summary["feature_analysis"] = analysis
    summary["feature_coverage"] = feature_coverage(dataset)
    summary["warnings"] = warnings
    splits = {"validation": metrics[VAL], "test": metrics[TEST]}
    if "independent_universe" in summary:
        splits["independent-universe"] = summary["independent_universe"]["model"]
    notes = [note for name, m in splits.items() if (note := interval_note(m, name))]
    summary["interval_notes"] = notes
    return Evaluation(summary, predictions, reliability, wf, corr, warnings, notes)


def score_independent(
    model: FlowModel,
    independent: pd.DataFrame,
    base_rate: float,
    threshold: float,
    eval_config: EvalConfig,
    mirror_model: FlowModel | None = None,
) -> dict[str, object]:
    """Model vs oracles on fresh universes: many independent market paths, so calibration and the
    gap to the exact posterior are measured without one path's luck."""
    frame = independent.copy()
    frame["sample_date_original"] = frame["sample_date"]
    # each (world, date) is its own sample date for per-date statistics and the bootstrap
    frame["sample_date"] = frame["world"].astype(str) + "|" + frame["sample_date"].astype(str)
    p = model.predict_proba(independent)
    rows = metric_frame(frame, p).assign(
        model=p, oracle_public=frame["oracle_public"].to_numpy(), oracle_truth=frame["oracle_truth"].to_numpy()
    )
    out = {
        "worlds": int(frame["world"].nunique()),
        "n": int(len(frame)),
        "n_dates": int(frame["sample_date"].nunique()),
        "model": evaluate_predictions(rows, base_rate, threshold, eval_config.bootstrap),
        "oracle_public": evaluate_predictions(
            metric_frame(frame, rows["oracle_public"].to_numpy()), base_rate, threshold, eval_config.bootstrap
        ),
        "oracle_truth": evaluate_predictions(
            metric_frame(frame, rows["oracle_truth"].to_numpy()), base_rate, threshold, 0
        ),
        "model_minus_public_auc": paired_auc_difference(rows, "model", "oracle_public", eval_config.bootstrap),
        # calibration against the exact posterior, free of any market path's luck
        "ece_vs_oracle_public": ece_against(rows["oracle_public"].to_numpy(), p),
        "mean_abs_gap_to_oracle_public": float(np.mean(np.abs(p - rows["oracle_public"].to_numpy()))),
    }
    if mirror_model is not None:
        out["mirror_model_roc_auc"] = safe_auc(
            frame["label_mirror"].astype(int).to_numpy(), mirror_model.predict_proba(independent)
        )
        out["oracle_public_mirror_roc_auc"] = safe_auc(
            frame["label_mirror"].astype(int).to_numpy(), frame["oracle_public_mirror"].to_numpy()
        )
    return out
