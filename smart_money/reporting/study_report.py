"""A registered model's evaluation as Markdown tables and PNG plots, for docs/ (the numbers the
docs/real-data.md quotes come from here: `smart-money models export <version> --out <folder>`).

Reads only the registered, hash-verified files of a version folder: metadata.json (gates,
status, data window), evaluation.json (holdout metrics, baselines, mirror label, walk-forward
folds with their baselines and family gain shares) and test_predictions.parquet.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import roc_curve  # noqa: E402

from smart_money.dataset.catalogue import BY_NAME
from smart_money.evaluation.metrics import reliability_table  # noqa: E402

FOLD_COLUMNS = {
    "fold": "fold",
    "test_first": "first test date",
    "test_last": "last test date",
    "n_test": "samples",
    "roc_auc": "AUC",
    "per_date_auc": "per-date AUC",
    "brier_skill": "Brier skill",
    "top_decile_precision": "top-decile precision",
    "base_rate": "base rate",
    "rank_ic_mean": "Rank IC",
    "volatility_size_roc_auc": "vol/size AUC",
    "momentum_roc_auc": "momentum AUC",
    "mirror_roc_auc": "mirror model AUC (falls)",
    "score_per_date_auc_on_falls": "score per-date AUC on falls",
    "classifier_iterations": "classifier trees",
}
BASELINE_FOLD_METRICS = ("roc_auc", "per_date_auc", "brier_skill", "top_decile_precision", "rank_ic_mean")


def _cell(value: object) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return "n/a" if not np.isfinite(value) else f"{value:.3f}"
    return str(value)


def markdown_table(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def load_version(folder: Path) -> tuple[dict, dict, pd.DataFrame]:
    metadata = json.loads((folder / "metadata.json").read_text())
    evaluation = json.loads((folder / "evaluation.json").read_text())
    predictions = pd.read_parquet(folder / "test_predictions.parquet")
    return metadata, evaluation, predictions


def folds_frame(evaluation: dict) -> pd.DataFrame:
    return pd.DataFrame(evaluation.get("walk_forward_folds", []))


def fold_summary(folds: pd.DataFrame) -> pd.DataFrame:
    """Mean over folds of each metric for the model, the two baselines and the mirror model."""
    rows = []
    for name, prefix in (
        ("flow model", ""),
        ("volatility/size baseline", "volatility_size_"),
        ("momentum baseline", "momentum_"),
        ("mirror-label model (falls > 5 %)", "mirror_"),
    ):
        rows.append(
            {"scores": name, **{metric: float(folds[f"{prefix}{metric}"].mean()) for metric in BASELINE_FOLD_METRICS}}
        )
    out = pd.DataFrame(rows)
    wins = {
        prefix: int((folds["roc_auc"] > folds[f"{prefix}roc_auc"]).sum())
        for prefix in ("volatility_size_", "momentum_")
    }
    out["folds where the model's AUC is higher"] = [
        "",
        f"{wins['volatility_size_']} of {len(folds)}",
        f"{wins['momentum_']} of {len(folds)}",
        "",
    ]
    return out.rename(
        columns={
            "roc_auc": "mean AUC",
            "per_date_auc": "mean per-date AUC",
            "brier_skill": "mean Brier skill",
            "top_decile_precision": "mean top-decile precision",
            "rank_ic_mean": "mean Rank IC",
        }
    )


def gain_frame(folds: pd.DataFrame) -> pd.DataFrame:
    shares = folds[[c for c in folds.columns if c.startswith("gain_share_")]].rename(
        columns=lambda c: c.removeprefix("gain_share_")
    )
    return pd.concat([folds[["fold", "classifier_iterations"]], shares], axis=1).rename(
        columns={"classifier_iterations": "classifier trees"}
    )


def holdout_frame(metadata: dict, evaluation: dict) -> pd.DataFrame:
    test = evaluation["metrics"]["test"]
    rows = [
        {
            "scores": "flow model",
            "test AUC": test["roc_auc"],
            "test per-date AUC": test["per_date_auc"],
            "test Brier skill": test["brier_skill"],
            "test top-decile precision": test["top_decile_precision"],
            "test Rank IC": test["rank_ic_mean"],
        }
    ]
    for name, baseline in evaluation["baselines"].items():
        diff = baseline.get("model_minus_baseline_auc")
        versus = f"{diff['difference']:+.3f} ({diff['ci_low']:+.3f} .. {diff['ci_high']:+.3f})" if diff else ""
        rows.append(
            {
                "scores": f"baseline: {name}",
                "test AUC": baseline["test_roc_auc"],
                "test per-date AUC": baseline["test_per_date_auc"],
                "test Brier skill": baseline["test_brier_skill"],
                "test top-decile precision": float("nan"),
                "test Rank IC": float("nan"),
                "model AUC minus this (95 % date-bootstrap)": versus,
            }
        )
    mirror = evaluation["mirror_label"]
    rows.append(
        {
            "scores": "mirror-label model (falls > 5 %)",
            "test AUC": mirror["test_roc_auc"],
            "test per-date AUC": mirror["test_per_date_auc"],
            "test Brier skill": float("nan"),
            "test top-decile precision": float("nan"),
            "test Rank IC": float("nan"),
        }
    )
    return pd.DataFrame(rows).fillna({"model AUC minus this (95 % date-bootstrap)": ""})


def coverage_frames(evaluation: dict) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Missing-source share per indicator and year, and NaN share per smart-money feature (with
    its family), from evaluation.json's feature_coverage."""
    coverage = evaluation.get("feature_coverage")
    if not coverage:
        return None
    by_year = pd.DataFrame(coverage["missing_share_by_year"]).T
    by_year.insert(0, "source missing (share of samples)", by_year.index)
    samples = pd.DataFrame([{"source missing (share of samples)": "samples", **coverage["samples_by_year"]}])
    by_year = pd.concat([samples.astype(object), by_year.astype(object)], ignore_index=True)
    nan = pd.DataFrame(
        [
            {"feature": name, "family": BY_NAME[name].family, "NaN share": share}
            for name, share in coverage["nan_share"].items()
        ]
    )
    return by_year, nan


def folds_overlapping(folds: pd.DataFrame, first: str, last: str) -> pd.DataFrame:
    """The folds whose test quarter overlaps [first, last] (ISO dates)."""
    if folds.empty:
        return folds
    return folds[(folds["test_last"] >= first) & (folds["test_first"] <= last)]


def held_out_frame(evaluation: dict, held_out: dict) -> pd.DataFrame:
    """The registered model on held-out symbols (`smart-money evaluate`) next to its own test
    split and the walk-forward folds of the same dates: the out-of-sample consistency check."""
    test = evaluation["metrics"]["test"]
    first, last = held_out["first_sample_date"], held_out["last_sample_date"]
    metrics = ("roc_auc", "per_date_auc", "brier_skill", "top_decile_precision", "rank_ic_mean", "base_rate")
    rows = [
        {
            "scores": f"registered model on {held_out['n_symbols']:,} held-out symbols",
            "samples": held_out["n_samples"],
            **{m: held_out[m] for m in metrics},
        },
        {"scores": "registered model on its own test split", "samples": test["n"], **{m: test[m] for m in metrics}},
    ]
    baseline = held_out["baselines"].get("volatility_prior")
    if baseline:
        rows.append(
            {
                "scores": "its volatility prior alone, held-out symbols",
                "samples": held_out["n_samples"],
                **{m: baseline.get(m, float("nan")) for m in metrics},
            }
        )
    same = folds_overlapping(folds_frame(evaluation), first, last)
    if len(same):
        rows.append(
            {
                "scores": f"walk-forward folds {same['test_first'].min()[:7]} .. {same['test_last'].max()[:7]} (mean "
                f"of {len(same)})",
                "samples": int(same["n_test"].sum()),
                **{m: float(same[m].mean()) for m in metrics},
            }
        )
        rows.append(
            {
                "scores": "their volatility/size baselines (mean)",
                "samples": int(same["n_test"].sum()),
                **{
                    m: float(same[f"volatility_size_{m}"].mean()) if f"volatility_size_{m}" in same else float("nan")
                    for m in metrics
                },
            }
        )
    out = pd.DataFrame(rows)
    return out.rename(
        columns={
            "roc_auc": "AUC",
            "per_date_auc": "per-date AUC",
            "brier_skill": "Brier skill",
            "top_decile_precision": "top-decile precision",
            "rank_ic_mean": "Rank IC",
            "base_rate": "base rate",
        }
    )


def held_out_markdown(evaluation: dict, held_out: dict) -> str:
    direction = held_out["direction"]
    return "\n".join(
        [
            f"## Held-out symbols ({held_out['first_sample_date']} .. {held_out['last_sample_date']}, "
            f"{held_out['n_dates']} dates)",
            "",
            f"`smart-money evaluate` scored the registered model, without retraining, on {held_out['n_symbols']:,} "
            "symbols it never saw "
            f"(AUC 95 % date-bootstrap interval {held_out['roc_auc_ci'][0]:.3f} .. {held_out['roc_auc_ci'][1]:.3f}); "
            f"its score has per-date AUC {direction['score_per_date_auc_on_rises']:.3f} on rises > 5 % and "
            f"{direction['score_per_date_auc_on_falls']:.3f} on falls > 5 %.",
            "",
            markdown_table(held_out_frame(evaluation, held_out)),
            "",
        ]
    )


def summary_markdown(metadata: dict, evaluation: dict, held_out: dict | None = None) -> str:
    data, test = metadata["data"], evaluation["metrics"]["test"]
    splits = evaluation["split_dates"]
    gates = pd.DataFrame(
        [
            {
                "gate": name,
                "passed": gate["passed"],
                "value": gate["value"],
                "threshold": gate["threshold"],
                "detail": gate["detail"],
            }
            for name, gate in metadata["gates"].items()
        ]
    )
    direction = evaluation["mirror_label"]
    lines = [
        f"# smart-money flow model v{metadata['version']} ({metadata['status']})",
        "",
        "Generated by `smart-money models export` from the registered files; do not edit by hand.",
        "",
        f"Source `{data['source']}`, sample dates {splits['train'][0]} .. {splits['test'][1]}: train "
        f"{data['n_train']:,} samples "
        f"({splits['train'][0]} .. {splits['train'][1]}), validation {data['n_val']:,} ({splits['val'][0]} .. "
        f"{splits['val'][1]}), "
        f"test {data['n_test']:,} ({splits['test'][0]} .. {splits['test'][1]}, {test['n_dates']} dates). "
        f"Training base rate {evaluation['base_rate_train']:.3f}; test base rate {test['base_rate']:.3f}. "
        f"Classifier trees kept by early stopping: {metadata['training']['best_iteration']}.",
        "",
        "## Gates",
        "",
        markdown_table(gates),
        "",
        "## Holdout test split",
        "",
        f"Test ROC AUC {test['roc_auc']:.3f} (95 % date-bootstrap interval {test['roc_auc_ci'][0]:.3f} .. "
        f"{test['roc_auc_ci'][1]:.3f}), "
        f"ECE {test['ece']:.3f}, Brier skill {test['brier_skill']:+.3f}, top-decile precision "
        f"{test['top_decile_precision']:.3f}, "
        f"Rank IC {test['rank_ic_mean']:+.3f} (t {test['rank_ic_t']:+.2f}).",
        "",
        markdown_table(holdout_frame(metadata, evaluation)),
        "",
        f"Direction check: the model's score has per-date AUC {direction['model_score_per_date_auc_on_rises']:.3f} "
        "on rises > 5 % and "
        f"{direction['model_score_per_date_auc_on_falls']:.3f} on falls > 5 % "
        f"({'directional' if direction['directional'] else 'not directional: it ranks moves, not their sign'}).",
        "",
    ]
    coverage = coverage_frames(evaluation)
    if coverage is not None:
        by_year, nan = coverage
        lines += [
            "## Coverage of the feature families (every sample of the dataset)",
            "",
            "Share of samples at whose date the family's source had no records in its look-back (its `*_missing` "
            "indicator "
            "is 1, see docs/features.md; the family's features are then NaN), by year of the sample date:",
            "",
            markdown_table(by_year),
            "",
            "Share of samples where each smart-money feature is NaN (missing source, a ratio without trades, or "
            "shares outstanding unknown):",
            "",
            markdown_table(nan),
            "",
        ]
    folds = folds_frame(evaluation)
    if len(folds):
        scope = "through the test split" if folds["test_last"].max() >= splits["test"][0] else "before the test split"
        lines += [
            f"## Walk-forward (expanding window, purged, one fold per quarter, {scope})",
            "",
            markdown_table(folds[[c for c in FOLD_COLUMNS if c in folds]].rename(columns=FOLD_COLUMNS)),
            "",
            markdown_table(fold_summary(folds)),
            "",
            f"Direction across folds: the model's score has mean per-date AUC {folds['per_date_auc'].mean():.3f} on "
            "rises > 5 % and "
            f"{folds['score_per_date_auc_on_falls'].mean():.3f} on falls > 5 %; its per-date AUC on rises is higher in "
            f"{int((folds['per_date_auc'] > folds['score_per_date_auc_on_falls']).sum())} of {len(folds)} folds.",
            "",
            "### Which feature families carried weight (share of the smart-money classifier's gain per fold)",
            "",
            "The classifier boosts from the volatility prior; 'classifier trees' is how many trees early stopping "
            "kept. "
            "With one or two trees the smart-money features changed the prior's ranking very little, whatever their "
            "gain shares.",
            "",
            markdown_table(gain_frame(folds)),
            "",
        ]
    if held_out is not None:
        lines.append(held_out_markdown(evaluation, held_out))
    return "\n".join(lines)


def _save(fig, path: Path) -> Path:
    fig.savefig(path, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def _fold_lines(folds: pd.DataFrame, lines: list[tuple[str, str, str]], ylabel: str, title: str, path: Path) -> Path:
    """One line per (column, style, label) over the walk-forward folds, chance level marked."""
    x = folds["fold"]
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for i, (column, style, label) in enumerate(lines):
        ax.plot(x, folds[column], style, lw=2 if i == 0 else 1.5, label=label)
    ax.axhline(0.5, color="k", lw=0.8)
    ax.set_xticks(x, [d[:7] for d in folds["test_first"]], rotation=30)
    ax.set(ylabel=ylabel, title=title)
    ax.legend(fontsize=8)
    return _save(fig, path)


def plots(metadata: dict, evaluation: dict, predictions: pd.DataFrame, out: Path) -> list[Path]:
    written = []
    folds = folds_frame(evaluation)
    if len(folds):
        x = folds["fold"]
        auc_lines = [
            ("roc_auc", "o-", "flow model"),
            ("volatility_size_roc_auc", "s--", "volatility/size baseline"),
            ("momentum_roc_auc", "^:", "momentum baseline"),
        ]
        written.append(
            _fold_lines(
                folds,
                auc_lines,
                "ROC AUC (rises > 5 %)",
                "Walk-forward AUC per quarterly fold",
                out / "walk_forward_auc.png",
            )
        )
        direction_lines = [
            ("per_date_auc", "o-", "model score on rises > 5 %"),
            ("score_per_date_auc_on_falls", "v--", "same score on falls > 5 %"),
            ("mirror_per_date_auc", "x:", "mirror-label model on falls"),
        ]
        written.append(
            _fold_lines(
                folds,
                direction_lines,
                "per-date AUC",
                "Direction: rises vs falls per fold",
                out / "walk_forward_direction.png",
            )
        )

        fig, ax = plt.subplots(figsize=(7, 3.8))
        width = 0.27
        ax.bar(x - width, folds["rank_ic_mean"], width, label="flow model")
        ax.bar(x, folds["volatility_size_rank_ic_mean"], width, label="volatility/size")
        ax.bar(x + width, folds["momentum_rank_ic_mean"], width, label="momentum")
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xticks(x, [d[:7] for d in folds["test_first"]], rotation=30)
        ax.set(ylabel="mean per-date Rank IC", title="Rank IC (score vs 14-day return) per fold")
        ax.legend(fontsize=8)
        written.append(_save(fig, out / "walk_forward_rank_ic.png"))

        gains = gain_frame(folds).set_index("fold").drop(columns="classifier trees")
        fig, ax = plt.subplots(figsize=(7, 3.8))
        bottom = np.zeros(len(gains))
        for family in gains.columns:
            ax.bar(gains.index, gains[family], bottom=bottom, label=family)
            bottom += gains[family].to_numpy()
        for fold, trees in zip(folds["fold"], folds["classifier_iterations"]):
            ax.text(fold, 1.02, f"{trees}", ha="center", fontsize=8)
        ax.set_xticks(x, [d[:7] for d in folds["test_first"]], rotation=30)
        ax.set(
            ylim=(0, 1.12),
            ylabel="share of classifier gain",
            title="Feature families in the smart-money classifier (numbers: trees kept)",
        )
        ax.legend(fontsize=7, bbox_to_anchor=(1.01, 1.0), loc="upper left")
        written.append(_save(fig, out / "walk_forward_families.png"))

    y = predictions["label"].astype(int).to_numpy()
    fig, ax = plt.subplots(figsize=(4.8, 4.4))
    for column, name in (
        ("probability", "flow model"),
        ("baseline_volatility_size", "volatility/size"),
        ("baseline_momentum", "momentum"),
    ):
        if column in predictions:
            fpr, tpr, _ = roc_curve(y, predictions[column])
            ax.plot(fpr, tpr, lw=2 if column == "probability" else 1, label=name)
    ax.plot([0, 1], [0, 1], "k--", lw=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC, holdout test split")
    ax.legend(fontsize=8)
    written.append(_save(fig, out / "test_roc.png"))

    table = reliability_table(y, predictions["probability"].to_numpy())
    fig, ax = plt.subplots(figsize=(4.8, 4.4))
    ax.plot(table["mean_predicted"], table["observed_rate"], "o-", label="flow model")
    top = float(max(table["mean_predicted"].max(), table["observed_rate"].max())) * 1.1
    ax.plot([0, top], [0, top], "k--", lw=0.8)
    ax.set(
        xlabel="mean predicted probability",
        ylabel="observed rate",
        title="Reliability, holdout test split (10 equal-count bins)",
    )
    written.append(_save(fig, out / "test_reliability.png"))
    return written


def export(folder: Path, out: Path, held_out: Path | None = None) -> list[Path]:
    """summary.md and the plots of the registered version in `folder`, written to `out`;
    `held_out`: a `smart-money evaluate` result of this version to set beside its own metrics."""
    metadata, evaluation, predictions = load_version(folder)
    scored = json.loads(held_out.read_text()) if held_out else None
    if scored is not None and scored.get("model_version") != metadata["version"]:
        raise ValueError(f"{held_out} scores v{scored.get('model_version')}, not v{metadata['version']}")
    out.mkdir(parents=True, exist_ok=True)
    summary = out / "summary.md"
    summary.write_text(summary_markdown(metadata, evaluation, scored))
    return [summary, *plots(metadata, evaluation, predictions, out)]
