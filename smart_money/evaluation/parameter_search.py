"""Grid search of the flow model's classifier parameters by purged walk-forward CV inside the
training window (opt-in: `TrainModelConfig.search`)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np
import pandas as pd

from smart_money.evaluation.metrics import per_date, safe_auc
from smart_money.model.flow_model import PROB_CLIP, TrainConfig, train_flow_model

SEARCH_GRID: dict[str, list] = {
    "num_leaves": [15, 31, 63],
    "learning_rate": [0.03, 0.05, 0.1],
    "min_child_samples": [20, 100],
}


@dataclass
class SearchResult:
    best_params: dict
    table: pd.DataFrame  # one row per configuration tried: its parameters and mean validation scores


def search_parameters(
    train: pd.DataFrame,
    config: TrainConfig,
    vol_samples: pd.DataFrame | None = None,
    grid: dict[str, list] | None = None,
    folds: int = 3,
) -> SearchResult:
    """Grid search over the classifier's parameters with walk-forward CV inside the training
    window: each fold trains on the dates before a validation block (purged by label end) and
    is scored on that block (log loss, then per-date AUC). Every configuration is logged."""
    grid = grid or SEARCH_GRID
    dates = np.sort(train["sample_date"].unique())
    blocks = np.array_split(dates[len(dates) // 2 :], folds)  # validate on the later half, expanding
    fold_data = []
    for block in blocks:
        start = pd.Timestamp(block[0])
        fit = train[(train["sample_date"] < start) & (train["label_end_date"] < start)]
        val = train[train["sample_date"].isin(block)]
        samples = None if vol_samples is None else vol_samples[vol_samples["sample_date"] < start]
        base = train_flow_model(fit, val, config, samples)  # the volatility model is shared by every configuration
        fold_data.append((fit, val, samples, base.volatility_fit))
    rows = []
    for values in product(*grid.values()):
        params = {**config.params, **dict(zip(grid, values))}
        trial = TrainConfig(**{**config.__dict__, "params": params})
        losses, aucs = [], []
        for fit, val, samples, volatility_fit in fold_data:
            model = train_flow_model(fit, val, trial, samples, volatility_fit).model
            p = np.clip(model.predict_proba(val), PROB_CLIP, 1 - PROB_CLIP)
            y = val[config.label].astype(int).to_numpy()
            losses.append(-float(np.mean(y * np.log(p) + (1 - y) * np.log1p(-p))))
            frame = pd.DataFrame({"sample_date": val["sample_date"].to_numpy(), "y": y, "p": p})
            aucs.append(float(per_date(frame, lambda g: safe_auc(g["y"].to_numpy(), g["p"].to_numpy())).mean()))
        rows.append(
            {
                **dict(zip(grid, values)),
                "mean_log_loss": float(np.mean(losses)),
                "mean_per_date_auc": float(np.mean(aucs)),
            }
        )
    table = pd.DataFrame(rows).sort_values(
        ["mean_log_loss", "mean_per_date_auc"], ascending=[True, False], ignore_index=True
    )
    best = {k: (v.item() if hasattr(v, "item") else v) for k, v in table.iloc[0][list(grid)].to_dict().items()}
    return SearchResult({**config.params, **best}, table)
