"""The insider split features on the SEC's data sets, through the raw layer (support/sec_records.py):
routine and opportunistic insiders (Cohen, Malloy & Pomorski 2012) and Rule 10b5-1 plans, each
filing counted from the session after its filing date, and a classification that never reads a
filing published after the sample date."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from smart_money.dataset.features import FeatureInputs, UniverseRules, compute_features
from smart_money.dataset.pipeline import feature_inputs
from smart_money.sources.public_records import PublicRecordsSource
from smart_money_tests.support.sec_records import (
    LATE_HISTORY_FILED,
    OPPORTUNISTIC_BUY,
    SHARES,
    TICKERS,
    close,
    write_sec_records,
)

SPLIT = [
    "insider_opportunistic_buy_count_90d",
    "insider_opportunistic_net_value_90d",
    "insider_routine_share_90d",
    "insider_history_missing",
]
PLAN = ["insider_planned_sale_share_90d", "insider_discretionary_sale_value_90d", "insider_plan_missing"]


@pytest.fixture(scope="module")
def records(tmp_path_factory) -> Path:
    return write_sec_records(tmp_path_factory.mktemp("sec_split_records"))


@pytest.fixture(scope="module")
def april_2020(records) -> FeatureInputs:
    """The raw tables a run starting 2020-04 stores (the insider partition reaches 49 months back)."""
    return feature_inputs(PublicRecordsSource(records), TICKERS, [pd.Timestamp("2020-04-01")])


@pytest.fixture(scope="module")
def mid_2023(records) -> FeatureInputs:
    return feature_inputs(PublicRecordsSource(records), TICKERS, [pd.Timestamp("2023-06-01")])


def on(inputs: FeatureInputs, day: str, symbol: str, columns: list[str]) -> pd.Series:
    frame = compute_features(inputs, [pd.Timestamp(day)], UniverseRules(None, False)).set_index("symbol")
    return frame.loc[symbol, columns]


def test_the_stored_insider_history_reaches_back_far_enough_to_split_trades(april_2020):
    assert april_2020.insider_trades["known_at"].min() == pd.Timestamp("2017-01-09 23:59:59")  # the oldest filing
    # a window reaching into December 2019 needs 2016, which the files do not hold: no split
    early = on(april_2020, "2020-03-16", "AAA", SPLIT)
    assert early["insider_history_missing"] == 1 and early[SPLIT[:3]].isna().all()
    assert on(april_2020, "2020-04-03", "AAA", SPLIT)["insider_history_missing"] == 0


def test_an_opportunistic_purchase_counts_from_the_session_after_its_filing_date(april_2020):
    """Filed Monday 2020-04-06: not in that day's sample (cutoff 16:00), in Tuesday's. The
    routine insider's purchase (filed 04-03) is classified routine; the newcomer's (filed 04-07)
    is in neither group. Moving the cut by a day either way fails this test."""
    traded, filed = OPPORTUNISTIC_BUY
    monday = on(april_2020, filed, "AAA", SPLIT)
    assert monday["insider_opportunistic_buy_count_90d"] == 0 and monday["insider_opportunistic_net_value_90d"] == 0
    assert monday["insider_routine_share_90d"] == 1.0  # only the routine insider's purchase is public and classified
    tuesday = on(april_2020, "2020-04-07", "AAA", SPLIT)
    assert tuesday["insider_opportunistic_buy_count_90d"] == 1
    assert tuesday["insider_opportunistic_net_value_90d"] == pytest.approx(
        SHARES["opportunistic_buy"] * close("AAA", traded)
    )
    assert tuesday["insider_routine_share_90d"] == 0.5
    wednesday = on(april_2020, "2020-04-08", "AAA", SPLIT)  # the newcomer's purchase is public, unclassified
    assert wednesday["insider_routine_share_90d"] == 0.5 and wednesday["insider_opportunistic_buy_count_90d"] == 1


def test_the_classification_never_reads_a_filing_published_after_the_sample_date(april_2020):
    """An insider who traded in May 2017, 2018 and 2019 is routine, but its 2019 trade is reported
    late, on 2020-04-20: until that filing is public the insider has no 2019 trade and is in
    neither group. Had the split read it early, 2020-04-20 would show it routine (2/3)."""
    before = on(april_2020, LATE_HISTORY_FILED, "AAA", SPLIT)  # its April 2020 purchase is public (04-09)
    assert before["insider_routine_share_90d"] == 0.5
    after = on(april_2020, "2020-04-21", "AAA", SPLIT)
    assert after["insider_routine_share_90d"] == pytest.approx(2 / 3)
    assert after["insider_opportunistic_buy_count_90d"] == 1


def test_planned_and_discretionary_sales_from_the_10b5_1_box(mid_2023):
    """CCC: a sale filed 2023-03-22 on a form without the box, a planned sale (filed 06-07), a
    discretionary one (filed 06-08) whose 4/A (filed 06-20) corrects its shares."""
    march = on(mid_2023, "2023-03-31", "CCC", PLAN)  # only the unstated sale: nobody states the box
    assert march["insider_plan_missing"] == 1 and march[PLAN[:2]].isna().all()
    june_7 = on(mid_2023, "2023-06-07", "CCC", PLAN)  # the planned sale is not public yet
    assert june_7["insider_plan_missing"] == 1
    june_8 = on(mid_2023, "2023-06-08", "CCC", PLAN)
    assert june_8["insider_plan_missing"] == 0 and june_8["insider_planned_sale_share_90d"] == 1.0
    assert pd.isna(june_8["insider_discretionary_sale_value_90d"])  # the March sale does not say
    june_20 = on(mid_2023, "2023-06-20", "CCC", PLAN)  # the March sale has left the window; the 4/A is not public
    assert june_20["insider_planned_sale_share_90d"] == 0.5
    assert june_20["insider_discretionary_sale_value_90d"] == pytest.approx(
        SHARES["discretionary_sale"] * close("CCC", "2023-06-06")
    )
    june_21 = on(mid_2023, "2023-06-21", "CCC", PLAN)  # the 4/A replaces the line from the next session
    assert june_21["insider_discretionary_sale_value_90d"] == pytest.approx(
        (SHARES["discretionary_sale"] + 20) * close("CCC", "2023-06-06")
    )
