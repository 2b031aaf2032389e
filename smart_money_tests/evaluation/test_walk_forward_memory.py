"""The walk-forward hands its folds to the workers as they free up: only a few folds' copies of
the dataset exist at once, not one per fold (a 20-year history has some 75 folds)."""

from __future__ import annotations

import pandas as pd

from smart_money.dataset.splits import TEST, TRAIN, WALK_FORWARD
from smart_money.evaluation import flow_evaluation
from smart_money.model.flow_model import TrainConfig

FOLDS = 12


def test_folds_are_built_as_the_workers_take_them(monkeypatch):
    dates = pd.date_range("2020-01-15", periods=FOLDS + 1, freq="MS") + pd.Timedelta(days=14)
    dataset = pd.DataFrame({"symbol": "AAA", "sample_date": dates})
    splits = pd.concat(
        [
            pd.DataFrame(
                {
                    "scheme": WALK_FORWARD,
                    "fold": fold,
                    "symbol": "AAA",
                    "sample_date": dates[: fold + 2],
                    "role": [TRAIN] * (fold + 1) + [TEST],
                }
            )
            for fold in range(FOLDS)
        ],
        ignore_index=True,
    )
    merges = {"done": 0}
    merge = pd.DataFrame.merge

    def counting_merge(self, *args, **kwargs):
        merges["done"] += 1
        return merge(self, *args, **kwargs)

    def fold_body(fold, keyed, config, vol_samples):
        # built folds not yet scored when this one starts: bounded by the pre-dispatch, not FOLDS
        return {"fold": fold, "built_ahead": merges["done"] - fold, "rows": len(keyed)}

    monkeypatch.setattr(pd.DataFrame, "merge", counting_merge)
    monkeypatch.setattr(flow_evaluation, "_walk_forward_fold", fold_body)
    rows = flow_evaluation.walk_forward_folds(dataset, splits, TrainConfig(), n_jobs=1)
    assert rows["fold"].tolist() == list(range(FOLDS))
    assert rows["rows"].tolist() == [fold + 2 for fold in range(FOLDS)]
    assert rows["built_ahead"].max() <= 3 < FOLDS
