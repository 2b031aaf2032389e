"""Metrics for calibrated probabilities on a panel (many symbols per date).

Ranking and calibration are measured separately; accuracy at 0.5 is reported because the plan
asks for it, but it is meaningless at a ~25 % base rate. Intervals resample dates, not rows:
rows of one date share one market move.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.stats import rankdata, spearmanr
from sklearn.metrics import average_precision_score, brier_score_loss, confusion_matrix, log_loss

ECE_BINS = 10
# The test metrics a registered model's metadata.json keeps (and `smart-money evaluate` writes).
HEADLINE_KEYS = (
    "roc_auc", "pr_auc", "accuracy", "precision", "recall", "f1", "brier", "brier_skill", "log_loss", "ece",
    "top_decile_precision", "base_rate", "per_date_auc", "ece_ci",
)  # fmt: skip


def ece_equal_count(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> float:
    """Expected calibration error with equal-count bins (sorted by p)."""
    order = np.argsort(p, kind="stable")
    chunks = np.array_split(order, bins)
    n = len(p)
    return float(sum(len(c) / n * abs(y[c].mean() - p[c].mean()) for c in chunks if len(c)))


def ece_against(reference: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> float:
    """Equal-count-bin calibration error of p against reference probabilities (the exact
    posterior on the simulated market): calibration without any market path's luck."""
    order = np.argsort(p, kind="stable")
    n = len(p)
    return float(
        sum(len(c) / n * abs(reference[c].mean() - p[c].mean()) for c in np.array_split(order, bins) if len(c))
    )


def reliability_table(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> pd.DataFrame:
    order = np.argsort(p, kind="stable")
    rows = [(p[c].mean(), y[c].mean(), len(c)) for c in np.array_split(order, bins) if len(c)]
    return pd.DataFrame(rows, columns=["mean_predicted", "observed_rate", "n"])


def safe_auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC via the rank-sum identity (ties averaged; equal to sklearn's), NaN for one class."""
    y = np.asarray(y)
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def per_date(frame: pd.DataFrame, fn: Callable[[pd.DataFrame], float]) -> pd.Series:
    return frame.groupby("sample_date").apply(fn, include_groups=False)


def date_bootstrap(
    frame: pd.DataFrame, statistic: Callable[[pd.DataFrame], float], n_boot: int = 200, seed: int = 0
) -> tuple[float, float]:
    """95 % interval of `statistic` resampling whole sample dates."""
    codes, dates = pd.factorize(frame["sample_date"])
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(dates) + 1))
    rows_of = [order[bounds[i] : bounds[i + 1]] for i in range(len(dates))]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        pick = rng.integers(0, len(dates), size=len(dates))
        index = np.concatenate([rows_of[i] for i in pick])
        values.append(statistic(frame.iloc[index]))
    values = np.asarray([v for v in values if np.isfinite(v)])
    if not len(values):
        return float("nan"), float("nan")
    return float(np.quantile(values, 0.025)), float(np.quantile(values, 0.975))


MIN_INTERVAL_DATES = 2  # a date bootstrap over fewer sample dates can only redraw the same rows


def degenerate_intervals(metrics: dict) -> bool:
    """Whether `metrics`' date-bootstrap intervals rest on fewer than two sample dates (every
    resample is the same rows, so each interval collapses to its point value)."""
    return int(metrics.get("n_dates", MIN_INTERVAL_DATES)) < MIN_INTERVAL_DATES


def interval_note(metrics: dict, split: str) -> str | None:
    """One line saying the split's intervals are degenerate and what gives them meaning (None
    when they are not). Kept apart from the evaluation's warnings: it is no leakage sign."""
    if not degenerate_intervals(metrics):
        return None
    n = int(metrics["n_dates"])
    return (
        f"the {split} split has {n} sample date{'' if n == 1 else 's'}: its 95 % intervals resample dates, so each "
        "collapses to the point value and says nothing about uncertainty; a longer window "
        "(SMART_MONEY_START/SMART_MONEY_END) gives it more dates"
    )


def top_decile_precision(frame: pd.DataFrame) -> float:
    """Share of positives among each date's top 10 % by score, averaged over dates."""

    def one(g: pd.DataFrame) -> float:
        k = max(1, int(round(0.1 * len(g))))
        return float(g.nlargest(k, "p")["y"].mean())

    return float(per_date(frame, one).mean())


def evaluate_predictions(
    frame: pd.DataFrame,
    reference_base_rate: float,
    threshold: float,
    bootstrap: int = 200,
) -> dict[str, object]:
    """Metrics for rows with y (0/1), p (calibrated probability), return_14d and sample_date.

    `reference_base_rate` is the training base rate known before the window (Brier skill
    reference); `threshold` is the operating point chosen on validation (its top decile)."""
    y = frame["y"].to_numpy(dtype=int)
    p = np.clip(frame["p"].to_numpy(dtype=float), 1e-9, 1 - 1e-9)
    predicted = (p >= threshold).astype(int)
    tn, fp, fn, tp = confusion_matrix(y, predicted, labels=[0, 1]).ravel()
    brier = float(brier_score_loss(y, p))
    brier_ref = float(np.mean((y - reference_base_rate) ** 2))
    date_auc = per_date(frame, lambda g: safe_auc(g["y"].to_numpy(), g["p"].to_numpy()))
    rank_ic = per_date(
        frame, lambda g: float(spearmanr(g["p"], g["return_14d"]).statistic) if g["p"].nunique() > 1 else np.nan
    ).dropna()
    ic_std = float(rank_ic.std(ddof=1)) if len(rank_ic) > 1 else float("nan")
    out: dict[str, object] = {
        "n": int(len(frame)),
        "n_dates": int(frame["sample_date"].nunique()),
        "base_rate": float(y.mean()),
        "roc_auc": safe_auc(y, p),
        "per_date_auc": float(date_auc.mean()),
        "pr_auc": float(average_precision_score(y, p)) if y.any() else float("nan"),
        "accuracy": float(((p >= 0.5).astype(int) == y).mean()),
        "threshold": float(threshold),
        "precision": float(tp / (tp + fp)) if tp + fp else 0.0,
        "recall": float(tp / (tp + fn)) if tp + fn else 0.0,
        "f1": float(2 * tp / (2 * tp + fp + fn)) if tp else 0.0,
        "confusion_matrix": [[int(tn), int(fp)], [int(fn), int(tp)]],
        "brier": brier,
        "brier_skill": float(1.0 - brier / brier_ref) if brier_ref > 0 else float("nan"),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "ece": ece_equal_count(y, p),
        "top_decile_precision": top_decile_precision(frame),
        "rank_ic_mean": float(rank_ic.mean()) if len(rank_ic) else float("nan"),
        "rank_ic_ir": float(rank_ic.mean() / ic_std) if ic_std and np.isfinite(ic_std) and ic_std > 0 else float("nan"),
        "rank_ic_t": float(rank_ic.mean() / ic_std * np.sqrt(len(rank_ic)))
        if ic_std and np.isfinite(ic_std) and ic_std > 0
        else float("nan"),
    }
    if bootstrap:
        out["ece_ci"] = list(
            date_bootstrap(
                frame, lambda f: ece_equal_count(f["y"].to_numpy(dtype=int), f["p"].to_numpy(dtype=float)), bootstrap
            )
        )
        out["roc_auc_ci"] = list(
            date_bootstrap(
                frame, lambda f: safe_auc(f["y"].to_numpy(dtype=int), f["p"].to_numpy(dtype=float)), bootstrap, seed=1
            )
        )
    return out


def paired_auc_difference(frame: pd.DataFrame, a: str, b: str, n_boot: int = 200) -> dict[str, float]:
    """AUC(a) - AUC(b) on the same rows, with a date-bootstrap interval."""
    y = frame["y"].to_numpy(dtype=int)
    diff = safe_auc(y, frame[a].to_numpy()) - safe_auc(y, frame[b].to_numpy())
    lo, hi = date_bootstrap(
        frame,
        lambda f: (
            safe_auc(f["y"].to_numpy(dtype=int), f[a].to_numpy())
            - safe_auc(f["y"].to_numpy(dtype=int), f[b].to_numpy())
        ),
        n_boot,
        seed=2,
    )
    return {"difference": float(diff), "ci_low": lo, "ci_high": hi}
