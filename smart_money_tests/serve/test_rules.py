"""The documented reading rules: conviction, confidence, the four signals, and which session a
request is served as of."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from scipy.special import expit, logit

from smart_money.serve import rules
from smart_money.serve.feature_provider import InvalidDate, latest_close, resolve_day


def test_conviction_is_the_odds_factor_of_smart_money_over_volatility_alone():
    same = rules.conviction(0.25, 0.25)
    assert same.conviction_score == 50.0 and same.confidence == "LOW"
    up = rules.conviction(0.30, 0.25)
    assert up.predicted_conviction == "BULLISH"
    odds_factor = (0.30 / 0.70) / (0.25 / 0.75)
    assert up.conviction_score / (100 - up.conviction_score) == pytest.approx(odds_factor, rel=1e-3)
    down = rules.conviction(0.20, 0.25)
    assert down.predicted_conviction == "BEARISH" and down.conviction_score < 50
    # a high probability that volatility alone explains is no bullish conviction
    assert rules.conviction(0.45, 0.46).predicted_conviction == "BEARISH"


@pytest.mark.parametrize(
    ("shift", "band"),
    [(0.0, "LOW"), (0.099, "LOW"), (0.10, "MEDIUM"), (-0.2, "MEDIUM"), (0.25, "HIGH"), (-0.6, "HIGH")],
)
def test_confidence_bands_follow_the_size_of_the_shift(shift, band):
    p0 = 0.25
    p = float(expit(logit(p0) + shift + (1e-9 if shift >= 0 else -1e-9)))
    assert rules.conviction(p, p0).confidence == band


NONE = {
    "insider_cluster_score": 0.0, "insider_net_flow_30d": 0.0,
    "inst_momentum_score": 0.0, "inst_ownership_change_1q": 0.0,
    "congress_buy_count_90d": 0.0, "congress_sell_count_90d": 0.0,
    "hedgefund_conviction_score": 0.0, "hedgefund_net_change_1q": 0.0,
}  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "signal", "expected"),
    [
        ({"insider_cluster_score": 2.0, "insider_net_flow_30d": 3.5}, "insider_activity", "bullish"),
        (
            {"insider_cluster_score": 1.0, "insider_net_flow_30d": -40.0},
            "insider_activity",
            "neutral",
        ),  # a buyer amid heavy selling
        ({"insider_net_flow_30d": -12.0}, "insider_activity", "bearish"),
        ({"insider_net_flow_30d": -5.0}, "insider_activity", "neutral"),  # routine selling
        ({"insider_cluster_score": None, "insider_net_flow_30d": None}, "insider_activity", "neutral"),
        ({"inst_momentum_score": 0.2, "inst_ownership_change_1q": 1.5}, "institutional_flow", "accumulation"),
        ({"inst_momentum_score": 0.2, "inst_ownership_change_1q": -1.5}, "institutional_flow", "neutral"),
        ({"inst_momentum_score": -0.1, "inst_ownership_change_1q": -0.3}, "institutional_flow", "distribution"),
        ({"inst_momentum_score": float("nan")}, "institutional_flow", "neutral"),
        ({"congress_buy_count_90d": 2.0, "congress_sell_count_90d": 1.0}, "congressional_sentiment", "positive"),
        ({"congress_sell_count_90d": 1.0}, "congressional_sentiment", "negative"),
        ({"congress_buy_count_90d": 1.0, "congress_sell_count_90d": 1.0}, "congressional_sentiment", "neutral"),
        ({"hedgefund_conviction_score": 2.0, "hedgefund_net_change_1q": 0.4}, "hedge_fund_positioning", "long"),
        ({"hedgefund_conviction_score": -1.0, "hedgefund_net_change_1q": -0.2}, "hedge_fund_positioning", "short"),
        ({"hedgefund_conviction_score": 1.0, "hedgefund_net_change_1q": -0.2}, "hedge_fund_positioning", "neutral"),
        ({"hedgefund_conviction_score": None, "hedgefund_net_change_1q": None}, "hedge_fund_positioning", "neutral"),
    ],
)
def test_signal_rules(changes, signal, expected):
    readings = rules.signals({**NONE, **changes})
    assert readings[signal].value == expected
    assert readings[signal].reason
    others = {name: r.value for name, r in readings.items() if name != signal}
    assert set(others.values()) == {"neutral"}


def new_york(text: str) -> datetime:
    return pd.Timestamp(text, tz="America/New_York").to_pydatetime()


def test_requests_are_served_as_of_a_passed_close():
    assert latest_close(new_york("2024-06-14 16:05")) == pd.Timestamp("2024-06-14")
    assert latest_close(new_york("2024-06-14 15:59")) == pd.Timestamp("2024-06-13")  # before the close
    assert latest_close(new_york("2024-06-16 12:00")) == pd.Timestamp("2024-06-14")  # Sunday
    now = new_york("2024-06-18 10:00")
    assert resolve_day(None, now) == pd.Timestamp("2024-06-17")
    assert resolve_day(date(2024, 6, 14), now) == pd.Timestamp("2024-06-14")
    with pytest.raises(InvalidDate, match="after the latest close"):
        resolve_day(date(2024, 6, 18), now)
    with pytest.raises(InvalidDate, match="before"):
        resolve_day(date(1999, 1, 4), now)


def test_dates_that_cannot_have_features_are_refused_with_the_reason():
    now = new_york("2024-07-10 18:00")
    with pytest.raises(InvalidDate, match=r"2024-06-15 \(Saturday\) is not a trading session.*2024-06-14"):
        resolve_day(date(2024, 6, 15), now)
    with pytest.raises(InvalidDate, match=r"2024-07-04 \(Thursday\) is not a trading session.*2024-07-03"):
        resolve_day(date(2024, 7, 4), now)  # Independence Day
    with pytest.raises(InvalidDate, match=r"2005-01-03 is before 2022-07-01, the first month of the configured data"):
        resolve_day(date(2005, 1, 3), now, first=date(2022, 7, 1))
    assert resolve_day(date(2022, 7, 1), now, first=date(2022, 7, 1)) == pd.Timestamp("2022-07-01")
