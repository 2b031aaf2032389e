"""The flow model's two targets side by side, on the same test samples: the plan's model (label:
rises > 5 % in 14 days) and the model trained on the excess-return sign (evaluation/
excess_target.py).

For each model's score: per-date AUC on both labels; mean per-date rank IC (Spearman) against the
14-day return and against the excess return over the matched bucket, over all samples and over
those with a fresh event (an event of any family that became public in the 21 sessions up to the
sample date's close, point in time); and the top-minus-bottom decile's excess return per sample
date (the calendar-time return of a monthly long-short on the score), with a Newey-West t.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from smart_money.data import calendar as cal
from smart_money.dataset.splits import TEST
from smart_money.evaluation.excess_target import EXCESS_LABEL, EXCESS_RETURN, evaluate_excess_model, excess_holdout
from smart_money.evaluation.metrics import safe_auc
from smart_money.research.calendar_time import newey_west

FRESH_SESSIONS = 21


def fresh_event_flags(samples: pd.DataFrame, events: pd.DataFrame, sessions: int = FRESH_SESSIONS) -> np.ndarray:
    """True for samples (symbol, sample_date) whose symbol has an event public after the close
    `sessions` sessions before the sample date and by the sample date's close."""
    if events.empty or samples.empty:
        return np.zeros(len(samples), dtype=bool)
    calendar = cal.nyse_sessions()
    dates = pd.DatetimeIndex(samples["sample_date"])
    pos = calendar.searchsorted(dates)
    window_start = calendar[np.clip(pos - sessions, 0, None)] + pd.Timedelta(hours=16)
    left = pd.DataFrame(
        {
            "symbol": samples["symbol"].to_numpy(),
            "cutoff": dates + pd.Timedelta(hours=16),
            "start": window_start,
            "order": np.arange(len(samples)),
        }
    ).sort_values("cutoff")
    right = events[["symbol", "known_at"]].sort_values("known_at")
    merged = pd.merge_asof(left, right, left_on="cutoff", right_on="known_at", by="symbol", direction="backward")
    fresh = merged["known_at"].notna() & (merged["known_at"] > merged["start"])
    return fresh.to_numpy()[np.argsort(merged["order"].to_numpy())]


def _per_date(frame: pd.DataFrame, fn) -> pd.Series:
    return frame.groupby("sample_date").apply(fn, include_groups=False).dropna()


def _rank_ic(frame: pd.DataFrame, score: str, target: str) -> tuple[float, float, int]:
    def one(g: pd.DataFrame) -> float:
        ok = g[target].notna()
        if ok.sum() < 5 or g.loc[ok, score].nunique() < 2:
            return np.nan
        return float(spearmanr(g.loc[ok, score], g.loc[ok, target]).statistic)

    ic = _per_date(frame, one)
    if len(ic) < 2:
        return (float(ic.mean()) if len(ic) else float("nan")), float("nan"), int(len(ic))
    return float(ic.mean()), float(ic.mean() / ic.std(ddof=1) * np.sqrt(len(ic))), int(len(ic))


def _per_date_auc(frame: pd.DataFrame, score: str, label: str) -> float:
    values = _per_date(
        frame[frame[label].notna()],
        lambda g: safe_auc(g[label].astype(int).to_numpy(), g[score].to_numpy()),
    )
    return float(values.mean()) if len(values) else float("nan")


def decile_spread(frame: pd.DataFrame, score: str, target: str = EXCESS_RETURN) -> tuple[float, float, int]:
    """Mean over sample dates of (top-decile mean target - bottom-decile mean target) by score, its
    Newey-West t and the number of dates."""

    def one(g: pd.DataFrame) -> float:
        g = g[g[target].notna()]
        k = max(1, int(round(0.1 * len(g))))
        if len(g) < 10:
            return np.nan
        ordered = g.sort_values(score)
        return float(ordered[target].iloc[-k:].mean() - ordered[target].iloc[:k].mean())

    spread = _per_date(frame, one)
    mean, t = newey_west(spread.to_numpy())
    return mean, t, int(len(spread))


def compare_targets(test: pd.DataFrame, scores: dict[str, np.ndarray], events: pd.DataFrame) -> list[dict]:
    """One row per model score: the metrics above on the test samples."""
    frame = test[["symbol", "sample_date", "label", EXCESS_LABEL, "return_14d", EXCESS_RETURN]].copy()
    frame["fresh_event"] = fresh_event_flags(frame, events)
    rows = []
    for name, score in scores.items():
        frame["score"] = score
        fresh = frame[frame["fresh_event"]]
        ic_ret, t_ret, _ = _rank_ic(frame, "score", "return_14d")
        ic_ex, t_ex, n_dates = _rank_ic(frame, "score", EXCESS_RETURN)
        ic_fresh, t_fresh, _ = _rank_ic(fresh, "score", EXCESS_RETURN)
        spread, t_spread, _ = decile_spread(frame, "score")
        rows.append(
            {
                "model": name,
                "samples": int(len(frame)),
                "dates": n_dates,
                "fresh_event_samples": int(len(fresh)),
                "per_date_auc_label": _per_date_auc(frame, "score", "label"),
                "per_date_auc_excess_sign": _per_date_auc(frame, "score", EXCESS_LABEL),
                "rank_ic_return_14d": ic_ret,
                "rank_ic_return_14d_t": t_ret,
                "rank_ic_excess": ic_ex,
                "rank_ic_excess_t": t_ex,
                "rank_ic_excess_fresh_event": ic_fresh,
                "rank_ic_excess_fresh_event_t": t_fresh,
                "top_minus_bottom_decile_excess_pct": spread * 100.0,
                "top_minus_bottom_decile_t_newey_west": t_spread,
            }
        )
    return rows


def evaluate_targets(
    plan_model,
    excess_model,
    dataset: pd.DataFrame,
    splits: pd.DataFrame,
    events: pd.DataFrame,
    train_config,
    eval_config,
) -> dict:
    """The excess-target model's gate summary (evaluation/excess_target.py) and both models side by
    side on the holdout test samples that have both labels."""
    summary = evaluate_excess_model(excess_model, dataset, splits, train_config, eval_config)
    test = excess_holdout(dataset, splits)[TEST]
    scores = {
        "plan target (rises > 5 %)": plan_model.predict_proba(test),
        "excess-return sign target": excess_model.predict_proba(test),
    }
    return {"summary": summary, "comparison": compare_targets(test, scores, events)}
