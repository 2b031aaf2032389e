"""Plots and the self-contained HTML report of an evaluation (images embedded as base64)."""

from __future__ import annotations

import base64
import html
import io
import json
from datetime import UTC, datetime

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from jinja2 import Environment, select_autoescape  # noqa: E402
from sklearn.metrics import precision_recall_curve, roc_curve  # noqa: E402

from smart_money.evaluation.flow_evaluation import Evaluation  # noqa: E402
from smart_money.evaluation.gates import worlds  # noqa: E402
from smart_money.evaluation.metrics import degenerate_intervals  # noqa: E402

PLOTS = ("roc", "precision_recall", "reliability", "confusion", "importance", "walk_forward", "correlation")
WF_COLUMNS_SHOWN = [
    "fold",
    "test_first",
    "test_last",
    "n_test",
    "roc_auc",
    "per_date_auc",
    "brier_skill",
    "top_decile_precision",
    "rank_ic_mean",
    "volatility_size_roc_auc",
    "momentum_roc_auc",
    "mirror_roc_auc",
    "score_per_date_auc_on_falls",
    "classifier_iterations",
]


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def make_plots(evaluation: Evaluation) -> dict[str, bytes]:
    pred = evaluation.predictions
    y = pred["label"].astype(int).to_numpy()
    curves = {"model": pred["probability"].to_numpy()}
    for column in ("oracle_public", "oracle_truth", "baseline_volatility_size", "baseline_momentum"):
        if column in pred and pred[column].notna().all():
            curves[column] = pred[column].to_numpy()
    plots: dict[str, bytes] = {}

    fig, ax = plt.subplots(figsize=(5, 4.5))
    for name, score in curves.items():
        fpr, tpr, _ = roc_curve(y, score)
        ax.plot(fpr, tpr, label=name, lw=2 if name == "model" else 1)
    ax.plot([0, 1], [0, 1], "k--", lw=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC, test split")
    ax.legend(fontsize=8)
    plots["roc"] = _png(fig)

    fig, ax = plt.subplots(figsize=(5, 4.5))
    for name, score in curves.items():
        precision, recall, _ = precision_recall_curve(y, score)
        ax.plot(recall, precision, label=name, lw=2 if name == "model" else 1)
    ax.axhline(y.mean(), color="k", ls="--", lw=0.8, label="base rate")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall, test split")
    ax.legend(fontsize=8)
    plots["precision_recall"] = _png(fig)

    fig, (ax, ax_hist) = plt.subplots(2, 1, figsize=(5, 6), gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    for name, table in evaluation.reliability.items():
        ax.plot(table["mean_predicted"], table["observed_rate"], "o-", label=name, ms=4)
    top = max(0.6, float(pred["probability"].max()))
    ax.plot([0, top], [0, top], "k--", lw=0.8)
    ax.set(ylabel="observed rate", title="Reliability (10 equal-count bins)")
    ax.legend(fontsize=8)
    ax_hist.hist(pred["probability"], bins=40, color="tab:blue", alpha=0.7)
    ax_hist.set(xlabel="predicted probability", ylabel="rows")
    plots["reliability"] = _png(fig)

    cm = np.asarray(evaluation.summary["metrics"]["test"]["confusion_matrix"])
    fig, ax = plt.subplots(figsize=(4, 3.5))
    ax.imshow(cm, cmap="Blues")
    for (i, j), value in np.ndenumerate(cm):
        ax.text(j, i, f"{value:,}", ha="center", va="center", color="black")
    ax.set(
        xticks=[0, 1],
        yticks=[0, 1],
        xticklabels=["pred 0", "pred 1"],
        yticklabels=["true 0", "true 1"],
        title=f"Confusion at p >= {evaluation.summary['operating_threshold']:.3f} (val top decile)",
    )
    plots["confusion"] = _png(fig)

    top15 = evaluation.summary["feature_analysis"]["top15"]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    names = list(top15)[::-1]
    ax.barh(
        names, [top15[n] for n in names], color=["tab:gray" if n.startswith("vol:") else "tab:green" for n in names]
    )
    ax.set(xlabel="gain", title="Feature importance (grey: volatility model)")
    ax.tick_params(axis="y", labelsize=7)
    plots["importance"] = _png(fig)

    wf = evaluation.walk_forward
    fig, ax = plt.subplots(figsize=(6, 3.5))
    if len(wf):
        ax.plot(wf["fold"], wf["roc_auc"], "o-", label="model")
        ax.plot(wf["fold"], wf["volatility_size_auc"], "s--", label="volatility/size baseline")
        if "momentum_roc_auc" in wf:
            ax.plot(wf["fold"], wf["momentum_roc_auc"], "^:", label="momentum baseline")
            ax.plot(wf["fold"], wf["mirror_roc_auc"], "x-.", label="mirror-label model (falls)")
        ax.axhline(0.5, color="k", lw=0.8)
        ax.legend(fontsize=8)
    else:  # not empty axes: say why there is no fold
        ax.text(
            0.5,
            0.5,
            "no walk-forward fold: the window is too short\n(dataset_splits: min_train_dates, step)",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set(xlabel="walk-forward fold (quarterly test blocks)", ylabel="ROC AUC", title="Walk-forward AUC per fold")
    plots["walk_forward"] = _png(fig)

    corr = evaluation.correlations
    side = max(8.0, 0.22 * len(corr))  # about 0.22 in per feature keeps 8-pt labels apart
    fig, ax = plt.subplots(figsize=(side + 1.5, side))
    image = ax.imshow(corr.to_numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(corr)), corr.columns, rotation=90, fontsize=8)
    ax.set_yticks(range(len(corr)), corr.index, fontsize=8)
    ax.set_title("Spearman correlation of features (training rows)")
    fig.colorbar(image, ax=ax, shrink=0.7)
    plots["correlation"] = _png(fig)
    return plots


def _fmt(value) -> str:
    if isinstance(value, float):
        return "n/a" if not np.isfinite(value) else f"{value:.4f}"
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, float) for v in value):
        return f"[{value[0]:.4f}, {value[1]:.4f}]"
    return html.escape(str(value))


TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>smart-money flow model {{ version }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0; } .sub { color: #666; margin-top: .2rem; }
table { border-collapse: collapse; margin: .6rem 0 1.2rem; font-size: .9rem; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: right; } th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }
.warn { background: #fff3cd; border: 1px solid #e0b800; padding: .6rem; margin: .6rem 0; }
.ok { background: #e7f5e9; border: 1px solid #5a9; padding: .6rem; margin: .6rem 0; }
.grid { display: flex; flex-wrap: wrap; gap: 1rem; } img { max-width: 520px; }
</style></head><body>
<h1>Smart-money flow model {{ version }}</h1>
<p class="sub">generated {{ generated }} &middot; source {{ source }} &middot; data {{ window }}</p>
{% for w in warnings %}<div class="warn">{{ w }}</div>{% endfor %}
{% if not warnings %}<div class="ok">No leakage warning: test AUC below the 0.70 alarm
{%- if has_oracle %} and below the latent-state oracle{% endif %}.</div>{% endif %}
{% for n in interval_notes %}<div class="warn">Intervals: {{ n }}.</div>{% endfor %}
{% for section in sections %}
<section id="{{ section.id }}"><h2>{{ section.title }}</h2>
{% if section.text %}<p>{{ section.text }}</p>{% endif %}
{% for table in section.tables %}<table><tr>{% for h in table.header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in table.rows %}<tr>{% for cell in row %}<td>{{ cell|safe }}</td>{% endfor %}</tr>{% endfor %}</table>
{%- endfor %}
<div class="grid">{% for img in section.images %}
<img alt="{{ img.name }}" src="data:image/png;base64,{{ img.data }}">{% endfor %}</div>
</section>
{% endfor %}
<details><summary>All numbers (JSON)</summary><pre>{{ summary_json }}</pre></details>
</body></html>
"""


def _table(header: list[str], rows: list[list]) -> dict:
    return {"header": header, "rows": [[_fmt(c) for c in row] for row in rows]}


def render_html(evaluation: Evaluation, plots: dict[str, bytes], context: dict[str, object]) -> str:
    s = evaluation.summary
    m = s["metrics"]
    images = {name: base64.b64encode(data).decode() for name, data in plots.items()}
    keys = [
        "n",
        "n_dates",
        "base_rate",
        "roc_auc",
        "roc_auc_ci",
        "per_date_auc",
        "pr_auc",
        "accuracy",
        "precision",
        "recall",
        "f1",
        "brier",
        "brier_skill",
        "log_loss",
        "ece",
        "ece_ci",
        "top_decile_precision",
        "rank_ic_mean",
        "rank_ic_t",
    ]
    sections = [
        {
            "id": "data",
            "title": "Data coverage",
            "text": "Rows per split (chronological by sample date, purged); the base rate is the share of samples "
            "that rose more than 5 % in 14 days.",
            "tables": [
                _table(
                    ["split", "rows", "first date", "last date"],
                    [[r, s["split_sizes"][r], *s["split_dates"].get(r, ["", ""])] for r in s["split_sizes"]],
                )
            ],
            "images": [],
        },
        {
            "id": "metrics",
            "title": "Holdout metrics (validation and test)",
            "text": "Accuracy at 0.5 is shown because the plan asks for it; at this base rate it is meaningless. "
            "Precision, recall and F1 use the operating point of the validation top decile. Intervals resample "
            "dates.",
            "tables": [
                _table(
                    ["metric", "validation", "test"],
                    [[k, _interval(m["val"], k), _interval(m["test"], k)] for k in keys],
                )
            ],
            "images": [
                {"name": "roc", "data": images["roc"]},
                {"name": "precision_recall", "data": images["precision_recall"]},
                {"name": "confusion", "data": images["confusion"]},
            ],
        },
        {
            "id": "baselines",
            "title": "Baselines (same splits, same training)",
            "text": "base_rate: the training base rate for everyone; volatility_size: LightGBM on 20/60-day "
            "volatility and log market cap; momentum: LightGBM on 1/3/6/12-1-month returns; shuffled_labels: the "
            "flow model trained on outcomes shuffled within dates (its pooled AUC keeps between-date "
            "information; its per-date AUC is the noise floor).",
            "tables": [
                _table(
                    [
                        "baseline",
                        "val AUC",
                        "test AUC",
                        "test per-date AUC",
                        "test Brier skill",
                        "model - baseline AUC [95 % CI]",
                    ],
                    [
                        [
                            n,
                            b["val_roc_auc"],
                            b["test_roc_auc"],
                            b["test_per_date_auc"],
                            b["test_brier_skill"],
                            _diff(b.get("model_minus_baseline_auc"), m["test"]),
                        ]
                        for n, b in s["baselines"].items()
                    ],
                )
            ],
            "images": [],
        },
    ]
    if "oracle" in s:
        o = s["oracle"]
        rows = [["model", m["test"]["roc_auc"], m["test"]["per_date_auc"], m["test"]["ece"], m["test"]["brier"]]]
        rows += [
            [name, o[name]["roc_auc"], o[name]["per_date_auc"], o[name]["ece"], o[name]["brier"]]
            for name in ("oracle_public", "oracle_truth")
        ]
        tables = [
            _table(["test split", "ROC AUC", "per-date AUC", "ECE", "Brier"], rows),
            _table(
                ["comparison", "value"],
                [["model - oracle_public AUC [95 % CI]", _diff(o["model_minus_public_auc"], m["test"])]],
            ),
        ]
        if "independent_universe" in s:
            iu = s["independent_universe"]
            tables.append(
                _table(
                    ["independent universes", "ROC AUC", "per-date AUC", "ECE", "ECE vs oracle", "Brier"],
                    [
                        [
                            "model",
                            iu["model"]["roc_auc"],
                            iu["model"]["per_date_auc"],
                            iu["model"]["ece"],
                            iu.get("ece_vs_oracle_public"),
                            iu["model"]["brier"],
                        ],
                        [
                            "oracle_public",
                            iu["oracle_public"]["roc_auc"],
                            iu["oracle_public"]["per_date_auc"],
                            iu["oracle_public"]["ece"],
                            0.0,
                            iu["oracle_public"]["brier"],
                        ],
                        [
                            "oracle_truth",
                            iu["oracle_truth"]["roc_auc"],
                            iu["oracle_truth"]["per_date_auc"],
                            iu["oracle_truth"]["ece"],
                            "",
                            iu["oracle_truth"]["brier"],
                        ],
                    ],
                )
            )
            tables.append(
                _table(
                    ["independent universes", "value"],
                    [
                        ["worlds x dates (rows)", f"{worlds(iu['worlds'])}, {iu['n_dates']} dates ({iu['n']:,} rows)"],
                        ["model - oracle_public AUC [95 % CI]", _diff(iu["model_minus_public_auc"], iu["model"])],
                        [
                            "mirror label: model AUC / oracle AUC",
                            f"{_fmt(iu.get('mirror_model_roc_auc'))} / {_fmt(iu.get('oracle_public_mirror_roc_auc'))}",
                        ],
                    ],
                )
            )
        sections.append(
            {
                "id": "oracle",
                "title": "Against the oracles (simulated source)",
                "text": "oracle_public is the exact probability given everything public at the sample date's close "
                "(the best any model can do); oracle_truth knows the latent state. The test split has few dates, "
                "so the comparison is repeated on independent simulated universes (other seeds: other market "
                "paths), where realised calibration is not one market path's luck; 'ECE vs oracle' bins the "
                "model's probabilities and compares them with the exact posterior instead of realised outcomes.",
                "tables": tables,
                "images": [],
            }
        )
    mirror = s["mirror_label"]
    sections.append(
        {
            "id": "direction",
            "title": "Direction check (mirror label: falls > 5 %)",
            "text": "A volatility detector ranks rises and falls alike; a directional model ranks rises better with "
            "its bullish score.",
            "tables": [
                _table(
                    ["check", "value"],
                    [
                        ["mirror-label model test AUC", mirror["test_roc_auc"]],
                        ["mirror-label model per-date AUC", mirror["test_per_date_auc"]],
                        ["model score per-date AUC on rises", mirror["model_score_per_date_auc_on_rises"]],
                        ["same score on falls", mirror["model_score_per_date_auc_on_falls"]],
                        ["directional", mirror["directional"]],
                    ],
                )
            ],
            "images": [],
        }
    )
    sections.append(
        {
            "id": "calibration",
            "title": "Calibration",
            "text": "Reliability on the test split (and on the independent universes when simulated). The base rate "
            "of one date swings with that date's market move, so a short test window's calibration mostly "
            "measures the market's luck.",
            "tables": [],
            "images": [{"name": "reliability", "data": images["reliability"]}],
        }
    )
    wf = evaluation.walk_forward
    sections.append(
        {
            "id": "walk_forward",
            "title": "Walk-forward (expanding, purged, quarterly test blocks)",
            "text": _fmt_wf(s.get("walk_forward")),
            "tables": [_table(list(wf[WF_COLUMNS_SHOWN].columns), wf[WF_COLUMNS_SHOWN].values.tolist())]
            if len(wf)
            else [],
            "images": [{"name": "walk_forward", "data": images["walk_forward"]}],
        }
    )
    fa = s["feature_analysis"]
    sections.append(
        {
            "id": "features",
            "title": "Feature analysis",
            "text": "Gain importance of the classifier and of the volatility model ('vol:'), by family; redundant "
            "pairs have |Spearman| > 0.9 on training rows.",
            "tables": [
                _table(
                    ["family", "gain"], [[k, v] for k, v in sorted(fa["family_gain"].items(), key=lambda kv: -kv[1])]
                ),
                _table(
                    ["pair", "Spearman", "recommendation"],
                    [[" / ".join(r["pair"]), r["spearman"], r["recommendation"]] for r in fa["redundant_pairs"]]
                    or [["none", "", ""]],
                ),
                _table(["feature", "role in the model"], [[k, v] for k, v in fa["roles"].items()]),
            ],
            "images": [
                {"name": "importance", "data": images["importance"]},
                {"name": "correlation", "data": images["correlation"]},
            ],
        }
    )
    env = Environment(autoescape=select_autoescape(["html"]))
    return env.from_string(TEMPLATE).render(
        version=context.get("version", "candidate"),
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        source=context.get("source", ""),
        window=context.get("window", ""),
        warnings=evaluation.warnings,
        interval_notes=evaluation.interval_notes,
        has_oracle="oracle" in s,
        sections=sections,
        summary_json=json.dumps(s, indent=2, default=str),
    )


DEGENERATE = " (1 date: no interval)"


def _interval(metrics: dict, key: str) -> object:
    """The metric's value; an interval over fewer than two sample dates says so in its cell."""
    value = metrics.get(key)
    if key.endswith("_ci") and value is not None and degenerate_intervals(metrics):
        return _fmt(value) + DEGENERATE
    return value


def _diff(value: dict | None, metrics: dict) -> str:
    """'+0.0123 [-0.0040, +0.0290]' for a difference over the rows `metrics` describe."""
    if not value:
        return ""
    text = f"{value['difference']:+.4f} [{value['ci_low']:+.4f}, {value['ci_high']:+.4f}]"
    return text + DEGENERATE if degenerate_intervals(metrics) else text


def _fmt_wf(wf: dict | None) -> str:
    if not wf:
        return "Not enough dates for walk-forward folds."
    return (
        f"{wf['folds']} folds: mean AUC {wf['mean_roc_auc']:.4f} (volatility/size baseline "
        f"{wf['mean_volatility_size_auc']:.4f}), "
        f"mean per-date AUC {wf['mean_per_date_auc']:.4f}, Brier skill {wf['mean_brier_skill']:+.4f}, "
        f"top-decile precision {wf['mean_top_decile_precision']:.3f}, Rank IC {wf['mean_rank_ic']:+.4f}."
    )


def markdown_summary(evaluation: Evaluation) -> str:
    s = evaluation.summary
    t = s["metrics"]["test"]
    lines = [
        f"**Test** ({t['n']:,} rows, {t['n_dates']} dates, base rate {t['base_rate']:.1%}): ROC AUC "
        f"{t['roc_auc']:.4f}, per-date AUC {t['per_date_auc']:.4f}, "
        f"Brier skill {t['brier_skill']:+.4f}, ECE {t['ece']:.4f}, top-decile precision "
        f"{t['top_decile_precision']:.3f}.",
        "",
        "| | test ROC AUC |",
        "|---|---|",
        f"| model | {t['roc_auc']:.4f} |",
        *(f"| baseline {n} | {b['test_roc_auc']:.4f} |" for n, b in s["baselines"].items()),
        f"| mirror-label model | {s['mirror_label']['test_roc_auc']:.4f} |",
    ]
    if "oracle" in s:
        lines += [
            f"| oracle_public | {s['oracle']['public_test_roc_auc']:.4f} |",
            f"| oracle_truth | {s['oracle']['truth_test_roc_auc']:.4f} |",
        ]
    if "independent_universe" in s:
        iu = s["independent_universe"]
        lines += [
            "",
            f"**Independent universes** ({worlds(iu['worlds'])}, {iu['n']:,} rows): model AUC "
            f"{iu['model']['roc_auc']:.4f} vs oracle_public {iu['oracle_public']['roc_auc']:.4f} "
            f"(difference {_diff(iu['model_minus_public_auc'], iu['model'])}); ECE {iu['model']['ece']:.4f} (oracle "
            f"{iu['oracle_public']['ece']:.4f}); ECE vs oracle "
            f"{iu.get('ece_vs_oracle_public', float('nan')):.4f}.",
        ]
    for warning in evaluation.warnings:
        lines += ["", f"**{warning}**"]
    for note in evaluation.interval_notes:
        lines += ["", f"Intervals: {note}."]
    return "\n".join(lines)


def plots_markdown(plots: dict[str, bytes]) -> str:
    """The plots inline (data URIs) for the Dagster UI's markdown metadata."""
    return "\n\n".join(
        f"**{name}**\n\n![{name}](data:image/png;base64,{base64.b64encode(data).decode()})"
        for name, data in plots.items()
    )
