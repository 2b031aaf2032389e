"""Leak-free splits of a panel (many symbols per sample date).

All rows of one sample date go to the same block. Chronological holdout: the first 70 % of
dates train, the next 15 % validate, the last 15 % test. Purge: a sample whose label window
(sample date .. label end) reaches the first sample date of the next block is dropped from its
block; embargo: samples of a block dated within `embargo_days` after the previous block's last
label end are dropped too. Walk-forward: expanding training window, test blocks of consecutive
dates (3 monthly dates: one calendar quarter when the window starts in a quarter's first month),
the same purge and embargo. By default the folds stop before the holdout test block so that block
stays unseen; a study that wants one fold per quarter over the whole window (the real-data study)
sets `walk_forward_through_test`: each fold refits its own models and nothing is selected from
them, so the registered model and its test metrics are unaffected. The plan's stratified random split
is available but marked leaky: on a panel it puts rows of one date (one shared 14-day market move)
on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

HOLDOUT, WALK_FORWARD = "holdout", "walk_forward"
TRAIN, VAL, TEST, PURGED, EMBARGOED = "train", "val", "test", "purged", "embargoed"


@dataclass(frozen=True)
class SplitSpec:
    method: str = "chronological"  # or "stratified_random" (leaky on a panel)
    train_fraction: float = 0.70
    val_fraction: float = 0.15
    purge: bool = True
    embargo_days: int = 0
    walk_forward_min_train_dates: int = 12
    walk_forward_step_dates: int = 3
    walk_forward_through_test: bool = False
    seed: int = 42

    @property
    def leaky(self) -> bool:
        return self.method == "stratified_random"


def _assign_blocks(samples: pd.DataFrame, blocks: list[tuple[str, pd.DatetimeIndex]], spec: SplitSpec) -> pd.Series:
    """Role per sample given consecutive blocks of dates, with purge and embargo."""
    role = pd.Series(None, index=samples.index, dtype=object)
    previous_end: pd.Timestamp | None = None
    for i, (name, dates) in enumerate(blocks):
        in_block = samples["sample_date"].isin(dates)
        role[in_block] = name
        if spec.purge and i + 1 < len(blocks) and len(blocks[i + 1][1]):
            next_start = blocks[i + 1][1].min()
            crossing = in_block & (samples["label_end_date"] >= next_start)
            role[crossing] = PURGED
        if previous_end is not None and spec.embargo_days > 0:
            embargoed = in_block & (samples["sample_date"] <= previous_end + pd.Timedelta(days=spec.embargo_days))
            role[embargoed] = EMBARGOED
        if in_block.any():
            previous_end = samples.loc[in_block, "label_end_date"].max()
    return role


def holdout_split(samples: pd.DataFrame, spec: SplitSpec) -> pd.Series:
    """train / val / test (or purged / embargoed) per row of `samples` (symbol, sample_date,
    label_end_date[, label])."""
    if spec.leaky:
        rng = np.random.default_rng(spec.seed)
        role = pd.Series(TEST, index=samples.index, dtype=object)
        for _, rows in samples.groupby(samples["label"].astype(int)):  # stratified by label
            order = rng.permutation(rows.index.to_numpy())
            n_train = int(round(spec.train_fraction * len(order)))
            n_val = int(round(spec.val_fraction * len(order)))
            role[order[:n_train]] = TRAIN
            role[order[n_train : n_train + n_val]] = VAL
        return role
    dates = pd.DatetimeIndex(sorted(samples["sample_date"].unique()))
    n = len(dates)
    n_train = int(round(spec.train_fraction * n))
    n_val = int(round(spec.val_fraction * n))
    if n_train < 1 or n_val < 1 or n - n_train - n_val < 1:
        raise ValueError(
            f"{n} sample dates are too few for a {spec.train_fraction:.0%}/{spec.val_fraction:.0%}/rest split"
        )
    blocks = [(TRAIN, dates[:n_train]), (VAL, dates[n_train : n_train + n_val]), (TEST, dates[n_train + n_val :])]
    return _assign_blocks(samples, blocks, spec)


def walk_forward(samples: pd.DataFrame, spec: SplitSpec, last_date: pd.Timestamp | None = None) -> pd.DataFrame:
    """Long table (row index of `samples`, fold, role): fold k trains on every date before its
    test block (purged/embargoed) and tests on `step` consecutive dates; dates after
    `last_date` (e.g. the holdout test block) are never used."""
    dates = pd.DatetimeIndex(sorted(samples["sample_date"].unique()))
    if last_date is not None:
        dates = dates[dates <= last_date]
    rows = []
    fold = 0
    for start in range(spec.walk_forward_min_train_dates, len(dates), spec.walk_forward_step_dates):
        test_dates = dates[start : start + spec.walk_forward_step_dates]
        train_dates = dates[:start]
        scope = samples["sample_date"].isin(train_dates.append(test_dates))
        role = _assign_blocks(samples[scope], [(TRAIN, train_dates), (TEST, test_dates)], spec)
        rows.append(pd.DataFrame({"row": role.index, "fold": fold, "role": role.to_numpy()}))
        fold += 1
    if not rows:
        return pd.DataFrame(columns=["row", "fold", "role"])
    return pd.concat(rows, ignore_index=True)


def build_splits(samples: pd.DataFrame, spec: SplitSpec) -> pd.DataFrame:
    """One long table: scheme (holdout | walk_forward), fold, role per (symbol, sample_date).
    Walk-forward folds stay before the holdout test block so the test block stays unseen, unless
    `spec.walk_forward_through_test`."""
    holdout = holdout_split(samples, spec)
    out = [samples[["symbol", "sample_date"]].assign(scheme=HOLDOUT, fold=0, role=holdout.to_numpy())]
    test_dates = samples.loc[holdout == TEST, "sample_date"]
    stop_before_test = not (spec.leaky or test_dates.empty or spec.walk_forward_through_test)
    last = test_dates.min() - pd.Timedelta(days=1) if stop_before_test else None
    wf = walk_forward(samples, spec, last_date=last)
    if len(wf):
        picked = samples.loc[wf["row"], ["symbol", "sample_date"]].reset_index(drop=True)
        out.append(picked.assign(scheme=WALK_FORWARD, fold=wf["fold"].to_numpy(), role=wf["role"].to_numpy()))
    return pd.concat(out, ignore_index=True)


def split_summary(splits: pd.DataFrame, dataset: pd.DataFrame) -> dict[str, object]:
    """Sizes, dates and label balance per holdout role; fold sizes for walk-forward."""
    merged = splits.merge(dataset[["symbol", "sample_date", "label"]], on=["symbol", "sample_date"])
    holdout = merged[merged["scheme"] == HOLDOUT]
    summary: dict[str, object] = {}
    for role, rows in holdout.groupby("role"):
        summary[role] = {
            "rows": int(len(rows)),
            "dates": int(rows["sample_date"].nunique()),
            "first": str(rows["sample_date"].min().date()),
            "last": str(rows["sample_date"].max().date()),
            "base_rate": round(float(rows["label"].astype(float).mean()), 4),
        }
    wf = merged[(merged["scheme"] == WALK_FORWARD) & (merged["role"] == TEST)]
    summary["walk_forward_folds"] = int(wf["fold"].nunique())
    return summary
