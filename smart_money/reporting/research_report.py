"""The signal study's self-contained HTML report: coverage, event-study tables (with the placebo),
calendar-time alphas, CAR curves with their bands per family, cumulative calendar-time excess
returns, and (when given) the flow model's two targets side by side. Images are embedded."""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from smart_money.data import storage  # noqa: E402
from smart_money.research.study import SignalStudy  # noqa: E402

REPORT_NAME = "signal_study.html"
CURVE_BENCHMARKS = ("equal_weight", "matched")


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def car_curves_plot(curves: pd.DataFrame) -> str:
    """One panel per family: mean abnormal return by session after entry, +-1.96 date-clustered
    standard errors, against the equal-weight and matched benchmarks."""
    families = list(dict.fromkeys(curves["family"]))
    cols = 4
    rows = max(1, int(np.ceil(len(families) / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.8 * rows), squeeze=False)
    for ax, family in zip(axes.ravel(), families):
        for benchmark, colour in zip(CURVE_BENCHMARKS, ("tab:blue", "tab:orange")):
            c = curves[(curves["family"] == family) & (curves["benchmark"] == benchmark)]
            if c.empty:
                continue
            ax.plot(c["lag"], 1e4 * c["mean"], color=colour, label=benchmark)
            ax.fill_between(c["lag"], 1e4 * c["low"], 1e4 * c["high"], color=colour, alpha=0.2)
        ax.axhline(0, color="black", lw=0.6)
        n = int(curves.loc[curves["family"] == family, "n"].max())
        ax.set_title(f"{family} (n={n:,})", fontsize=9)
        ax.set_xlabel("sessions after entry", fontsize=8)
        ax.set_ylabel("CAR (bp)", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(families) :]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=7)
    fig.suptitle("Cumulative abnormal return after the first close past the public time (95 % band)", fontsize=10)
    return _png(fig)


def cumulative_plot(series: pd.DataFrame, benchmark: str = "matched") -> str:
    """Cumulative monthly excess return of each family's calendar-time portfolio."""
    holdings = sorted(series["holding_sessions"].unique()) if len(series) else []
    fig, axes = plt.subplots(1, max(len(holdings), 1), figsize=(7 * max(len(holdings), 1), 4), squeeze=False)
    for ax, holding in zip(axes.ravel(), holdings):
        part = series[(series["holding_sessions"] == holding) & (series["benchmark"] == benchmark)]
        for family, g in part.groupby("family", sort=False):
            g = g.sort_values("month")
            style = "--" if "_minus_" in family else "-"
            ax.plot(pd.to_datetime(g["month"]), 100 * np.cumsum(g["excess"].to_numpy()), style, label=family, lw=1)
        ax.axhline(0, color="black", lw=0.6)
        ax.set_title(f"calendar time, H = {holding} sessions, vs {benchmark}", fontsize=9)
        ax.set_ylabel("cumulative excess (%)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6, ncol=2)
    return _png(fig)


def _table(frame: pd.DataFrame, floatfmt: str = "{:.2f}") -> str:
    if frame.empty:
        return "<p><em>none</em></p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for _, row in frame.iterrows():
        cells = []
        for value in row:
            if isinstance(value, float):
                text = "" if np.isnan(value) else floatfmt.format(value)
            else:
                text = html.escape(str(value))
            cells.append(f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


EVENT_COLUMNS = [
    "family", "benchmark", "horizon_sessions", "n_events", "mean_car_bp", "winsorized_mean_car_bp", "median_car_bp",
    "frac_positive", "t_date", "t_two_way", "ci_low_bp", "ci_high_bp",
]  # fmt: skip


def render(study: SignalStudy, targets: Mapping[str, object] | None = None) -> str:
    rows = pd.DataFrame(study.event_study)
    post = rows[rows["window"] == "post_entry"] if len(rows) else rows
    day0 = rows[rows["window"] == "day0"] if len(rows) else rows
    ct = pd.DataFrame(study.calendar_time)
    sections = [
        "<h1>Smart-money disclosures in event time and calendar time</h1>",
        f"<p>{html.escape(', '.join(f'{k}: {v}' for k, v in study.info.items()))}</p>",
        "<h2>Coverage (events with and without prices; survivorship)</h2>",
        _table(pd.DataFrame(study.coverage), "{:.0f}"),
        "<h2>Event study, 21 and 63 sessions after entry</h2>",
        _table(post[post["horizon_sessions"].isin([21, 63])][EVENT_COLUMNS] if len(post) else post),
        "<h2>Day 0 (last close at or before the public time to the entry close; not tradable)</h2>",
        _table(day0[EVENT_COLUMNS] if len(day0) else day0),
        "<h2>Event study, every horizon</h2>",
        _table(post[EVENT_COLUMNS] if len(post) else post),
        f'<img alt="CAR curves" src="data:image/png;base64,{car_curves_plot(study.curves)}">'
        if len(study.curves)
        else "",
        "<h2>Calendar-time portfolios (monthly alpha, Newey-West t)</h2>",
        _table(ct),
        f'<img alt="calendar time" src="data:image/png;base64,{cumulative_plot(study.calendar_series)}">'
        if len(study.calendar_series)
        else "",
    ]
    if targets:
        sections += [
            "<h2>The flow model on two targets, side by side</h2>",
            _table(pd.DataFrame(targets["rows"]), "{:.4f}"),
        ]
        if targets.get("plot"):
            sections.append(f'<img alt="targets" src="data:image/png;base64,{targets["plot"]}">')
    style = (
        "body{font-family:sans-serif;max-width:1400px;margin:auto}table{border-collapse:collapse;font-size:12px}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}img{max-width:100%}"
    )
    head = f"<head><meta charset='utf-8'><title>signal study</title><style>{style}</style></head>"
    return f"<!doctype html><html>{head}<body>{''.join(sections)}</body></html>"


def write_research_report(
    study: SignalStudy, folder: str | os.PathLike[str], targets: Mapping[str, object] | None = None
) -> str:
    """Write signal_study.html into `folder` (local or fsspec URL); returns its path."""
    path = storage.join(folder, REPORT_NAME)
    storage.write_text(path, render(study, targets))
    return path


TARGET_METRICS = (
    ("per_date_auc_label", "per-date AUC\nrises > 5 %"),
    ("per_date_auc_excess_sign", "per-date AUC\nbeats its bucket"),
    ("rank_ic_excess", "rank IC vs\nexcess return"),
    ("rank_ic_excess_fresh_event", "rank IC vs excess,\nfresh event"),
)


def targets_plot(comparison: list[dict]) -> str:
    """The two models side by side: per-date AUC on both labels (left) and rank IC against the
    excess return, overall and with a fresh event (right)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    width = 0.8 / max(len(comparison), 1)
    for panel, metrics, baseline in ((axes[0], TARGET_METRICS[:2], 0.5), (axes[1], TARGET_METRICS[2:], 0.0)):
        x = np.arange(len(metrics))
        for i, row in enumerate(comparison):
            values = [row.get(key) if row.get(key) is not None else np.nan for key, _ in metrics]
            panel.bar(x + i * width, values, width, label=row["model"])
        panel.axhline(baseline, color="black", lw=0.6)
        panel.set_xticks(x + width * (len(comparison) - 1) / 2, [label for _, label in metrics], fontsize=8)
    axes[0].set_ylim(0.4, 0.65)
    axes[0].legend(fontsize=7)
    fig.suptitle("The flow model on two targets, same test samples", fontsize=10)
    return _png(fig)


def targets_html(result: Mapping[str, object]) -> str:
    """The excess-target model's evaluation: both targets side by side, its test metrics and its
    baselines (evaluation_report_excess)."""
    comparison = pd.DataFrame(result["comparison"]).set_index("model").T.reset_index(names="metric")
    summary = result["summary"]
    test = summary["metrics"]["test"]
    metrics = pd.DataFrame(
        [{k: test.get(k) for k in ("n", "n_dates", "base_rate", "roc_auc", "per_date_auc", "brier_skill", "ece",
                                   "rank_ic_mean", "rank_ic_t")}]
    )  # fmt: skip
    baselines = pd.DataFrame(
        [
            {"baseline": name, **{k: v for k, v in b.items() if not isinstance(v, dict)}}
            for name, b in summary["baselines"].items()
        ]
    )
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse;font-size:12px}"
        "td,th{border:1px solid #ccc;padding:2px 6px}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>targets</title><style>{style}</style></head><body>"
        "<h1>The flow model on two targets, same test samples</h1>"
        + _table(comparison, "{:.4f}")
        + f'<img alt="targets" src="data:image/png;base64,{targets_plot(list(result["comparison"]))}">'
        + "<h2>Excess-return sign target: test metrics (rank IC against the excess return)</h2>"
        + _table(metrics, "{:.4f}")
        + "<h2>Baselines retrained on the excess-return sign</h2>"
        + _table(baselines, "{:.4f}")
        + "</body></html>"
    )


def _md(frame: pd.DataFrame) -> str:
    return frame.to_markdown(index=False, floatfmt=".2f") if len(frame) else "_none_"


def markdown_summary(payload: Mapping[str, object], horizons: tuple[int, ...] = (5, 21, 63)) -> str:
    """The study's headline tables in Markdown (what docs/real-data.md quotes): event time per
    family against the matched and equal-weight benchmarks, day 0, the placebo, calendar time, and
    coverage."""
    rows = pd.DataFrame(payload["event_study"])
    keep = ["family", "benchmark", "horizon_sessions", "n_events", "mean_car_bp", "winsorized_mean_car_bp",
            "median_car_bp", "frac_positive", "t_date", "t_two_way", "ci_low_bp", "ci_high_bp"]  # fmt: skip
    post = rows[(rows["window"] == "post_entry") & rows["horizon_sessions"].isin(horizons)]
    parts = [f"Study: {', '.join(f'{k} {v}' for k, v in payload.get('info', {}).items())}"]
    for benchmark in ("matched", "equal_weight", "market_index"):
        table = post[post["benchmark"] == benchmark].sort_values(["family", "horizon_sessions"])[keep]
        parts += [
            f"## Event time against the {benchmark.replace('_', '-')} benchmark",
            _md(table.drop(columns="benchmark")),
        ]
    day0 = rows[(rows["window"] == "day0") & (rows["benchmark"] == "matched")][keep].drop(columns="horizon_sessions")
    parts += ["## Day 0 (last close at or before the public time to the entry close), matched", _md(day0)]
    ct = pd.DataFrame(payload["calendar_time"])
    if len(ct):
        ct = ct.sort_values(["holding_sessions", "benchmark", "family"])
    parts += ["## Calendar time: monthly alpha (% per month) and Newey-West t", _md(ct)]
    parts += ["## Coverage", _md(pd.DataFrame(payload["coverage"]))]
    return "\n\n".join(parts) + "\n"
