"""Splits: whole dates per block, exact purges, walk-forward before the test block, and the
plan's random split clearly marked as leaky."""

from __future__ import annotations

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from smart_money.dataset.splits import (
    EMBARGOED,
    HOLDOUT,
    PURGED,
    TEST,
    TRAIN,
    VAL,
    WALK_FORWARD,
    SplitSpec,
    build_splits,
    holdout_split,
)


def panel(dates: pd.DatetimeIndex, symbols: int = 20, horizon_days: int = 14, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame([(f"S{i:02d}", d) for d in dates for i in range(symbols)], columns=["symbol", "sample_date"])
    frame["label_end_date"] = frame["sample_date"] + pd.Timedelta(days=horizon_days)
    frame["label"] = (rng.random(len(frame)) < 0.25).astype(int)
    return frame


MONTHLY = pd.DatetimeIndex([pd.Timestamp(2020, 1, 15) + pd.DateOffset(months=i) for i in range(40)])
WEEKLY = pd.date_range("2021-01-04", periods=60, freq="W-MON")


def test_chronological_holdout_keeps_dates_whole_and_in_order():
    samples = panel(MONTHLY)
    role = holdout_split(samples, SplitSpec())
    by_date = samples.assign(role=role).groupby("sample_date")["role"].nunique()
    assert (by_date == 1).all()  # no date is split across blocks
    first = samples.assign(role=role).groupby("role")["sample_date"].agg(["min", "max"])
    assert first.loc[TRAIN, "max"] < first.loc[VAL, "min"] and first.loc[VAL, "max"] < first.loc[TEST, "min"]
    assert role.value_counts()[TRAIN] == 28 * 20 and role.value_counts()[TEST] == 6 * 20
    assert PURGED not in set(role)  # monthly samples with 14-day labels never overlap


def test_purge_removes_exactly_the_samples_whose_label_window_crosses_a_boundary():
    samples = panel(WEEKLY)  # weekly samples: 14-day labels overlap the next block
    role = holdout_split(samples, SplitSpec())
    dates = pd.DatetimeIndex(sorted(samples["sample_date"].unique()))
    val_start, test_start = dates[42], dates[51]  # 70 % of 60 dates = 42, 15 % = 9
    expected = ((samples["sample_date"] < val_start) & (samples["label_end_date"] >= val_start)) | (
        (samples["sample_date"] >= val_start)
        & (samples["sample_date"] < test_start)
        & (samples["label_end_date"] >= test_start)
    )
    assert (role == PURGED).equals(expected)
    assert expected.sum() == 2 * 2 * 20  # two weekly dates before each boundary, 20 symbols


def test_embargo_drops_the_start_of_the_next_block():
    samples = panel(WEEKLY)
    role = holdout_split(samples, SplitSpec(embargo_days=10))
    dates = pd.DatetimeIndex(sorted(samples["sample_date"].unique()))
    expected = set()
    for block_start in (42, 51):  # first val date, first test date
        last_label_end = dates[block_start - 1] + pd.Timedelta(days=14)
        expected |= {d for d in dates[block_start:] if d <= last_label_end + pd.Timedelta(days=10)}
    assert set(samples.loc[role == EMBARGOED, "sample_date"]) == expected
    assert len(expected) == 6  # three weekly dates after each boundary


def test_walk_forward_is_expanding_purged_and_stays_before_the_test_block():
    samples = panel(MONTHLY)
    splits = build_splits(samples, SplitSpec(walk_forward_min_train_dates=12, walk_forward_step_dates=3))
    wf = splits[splits["scheme"] == WALK_FORWARD]
    test_block = splits[(splits["scheme"] == HOLDOUT) & (splits["role"] == TEST)]["sample_date"].min()
    assert wf["sample_date"].max() < test_block
    sizes = []
    for _, rows in wf.groupby("fold"):
        train, test = rows[rows["role"] == TRAIN], rows[rows["role"] == TEST]
        assert train["sample_date"].max() < test["sample_date"].min()
        assert test["sample_date"].nunique() <= 3
        sizes.append(len(train))
    assert sizes == sorted(sizes) and len(sizes) == int(np.ceil((34 - 12) / 3))


def test_walk_forward_through_test_has_one_purged_fold_per_quarter_over_the_whole_window():
    samples = panel(MONTHLY)  # 40 monthly dates from January 2020
    spec = SplitSpec(walk_forward_min_train_dates=12, walk_forward_step_dates=3, walk_forward_through_test=True)
    splits = build_splits(samples, spec)
    wf = splits[splits["scheme"] == WALK_FORWARD]
    tested = wf[wf["role"] == TEST].groupby("fold")["sample_date"].agg(["min", "max", "nunique"])
    quarters = pd.PeriodIndex(sorted(samples["sample_date"].unique()), freq="Q")[12:].unique()
    assert list(tested["min"].dt.to_period("Q")) == list(quarters)  # 2021Q1 .. 2023Q2, the test quarters included
    assert (tested["min"].dt.to_period("Q") == tested["max"].dt.to_period("Q")).all()
    assert tested["nunique"].sum() == 40 - 12  # every date after the first year is tested exactly once
    for _, rows in wf.groupby("fold"):
        assert (
            rows.loc[rows["role"] == TRAIN, "sample_date"].max() < rows.loc[rows["role"] == TEST, "sample_date"].min()
        )
    holdout = splits[splits["scheme"] == HOLDOUT].reset_index(drop=True)
    default = build_splits(samples, SplitSpec(walk_forward_min_train_dates=12, walk_forward_step_dates=3))
    assert holdout.equals(
        default[default["scheme"] == HOLDOUT].reset_index(drop=True)
    )  # the registered model's split is unchanged


def test_random_split_is_available_but_flagged_leaky():
    samples = panel(MONTHLY)
    role = holdout_split(samples, SplitSpec(method="stratified_random"))
    shared = samples.assign(role=role).groupby("sample_date")["role"].nunique()
    assert (shared > 1).mean() > 0.9  # dates land on both sides: the leak
    train_rate = samples.loc[role == TRAIN, "label"].mean()
    assert train_rate == pytest.approx(samples["label"].mean(), abs=0.01)  # stratified

    @dg.asset(name="training_dataset")
    def stub() -> pd.DataFrame:
        return samples

    from smart_money.defs.dataset.assets import build_splits_asset

    result = dg.materialize(
        [stub, build_splits_asset()],
        run_config={"ops": {"dataset_splits": {"config": {"method": "stratified_random"}}}},
    )
    metadata = result.asset_materializations_for_node("dataset_splits")[0].metadata
    assert metadata["leaky"].value is True and "LEAKY" in metadata["warning"].value


def test_too_few_dates_is_a_clear_error():
    with pytest.raises(ValueError, match="too few"):
        holdout_split(panel(MONTHLY[:3]), SplitSpec())
