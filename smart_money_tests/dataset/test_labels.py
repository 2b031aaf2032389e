"""Labels: the right end session around weekends and holidays, pending until known, adjusted
for splits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smart_money.data import calendar as cal
from smart_money.dataset.labels import compute_labels


def universe(*symbols: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "symbol": list(symbols),
            "asset_type": "stock",
            "member_from": pd.Timestamp("2000-01-01"),
            "member_to": pd.NaT,
            "shares_outstanding": 1e6,
        }
    )


def price_path(
    symbol: str, start: str, end: str, daily: float = 0.004, split: tuple[str, float] | None = None
) -> pd.DataFrame:
    sessions = cal.sessions_between(pd.Timestamp(start), pd.Timestamp(end))
    adj = 100.0 * np.exp(daily * np.arange(len(sessions)))
    factor = np.ones(len(sessions))
    if split:
        factor[sessions >= pd.Timestamp(split[0])] = split[1]
    return pd.DataFrame(
        {
            "symbol": symbol,
            "date": sessions,
            "open": adj / factor,
            "high": adj / factor,
            "low": adj / factor,
            "close": adj / factor,
            "adj_close": adj,
            "volume": 1e5,
            "shares_outstanding": 1e6 * factor,
        }
    )


@pytest.mark.parametrize(
    ("month", "sample", "end"),
    [
        ("2023-01-01", "2023-01-13", "2023-01-27"),  # the 15th is a Sunday
        ("2022-04-01", "2022-04-14", "2022-04-28"),  # the 15th is Good Friday
        ("2023-02-01", "2023-02-15", "2023-03-01"),  # the window crosses into March
        ("2024-05-01", "2024-05-15", "2024-05-29"),
        ("2026-11-01", "2026-11-13", "2026-11-27"),  # the day after Thanksgiving is a (half) session
    ],
)
def test_sample_and_label_end_sessions(month, sample, end):
    t = cal.sample_date(pd.Timestamp(month))
    assert t == pd.Timestamp(sample)
    assert cal.label_end_date(t) == pd.Timestamp(end)


def test_label_end_skips_weekends_and_holidays():
    assert cal.label_end_date(pd.Timestamp("2024-05-13")) == pd.Timestamp("2024-05-28")  # Sat, Sun, Memorial Day
    assert cal.label_end_date(pd.Timestamp("2023-12-11")) == pd.Timestamp("2023-12-26")  # Christmas Monday


def test_return_threshold_mirror_and_market_relative():
    prices = pd.concat(
        [
            price_path("AAA", "2023-01-02", "2023-03-31", daily=0.006),
            price_path("SPY", "2023-01-02", "2023-03-31", daily=0.001),
        ]
    )
    labels = compute_labels(prices, universe("AAA"), [pd.Timestamp("2023-02-15")], "SPY").iloc[0]
    sessions = len(cal.sessions_between(pd.Timestamp("2023-02-16"), pd.Timestamp("2023-03-01")))
    assert labels["status"] == "resolved"
    assert labels["return_14d"] == pytest.approx(np.exp(0.006 * sessions) - 1)
    assert labels["label"] == 1 and labels["label_mirror"] == 0
    assert labels["excess_return_14d"] == pytest.approx(np.exp(0.006 * sessions) - np.exp(0.001 * sessions))


def test_missing_future_price_is_pending_and_kept_out_of_training():
    prices = price_path("AAA", "2023-01-02", "2023-02-24")  # data ends before the label end (Mar 1)
    labels = compute_labels(prices, universe("AAA"), [pd.Timestamp("2023-02-15")], "SPY").iloc[0]
    assert labels["status"] == "pending" and pd.isna(labels["label"])

    from smart_money.dataset.training_set import build_training_dataset

    features = pd.DataFrame({"symbol": ["AAA"], "sample_date": [pd.Timestamp("2023-02-15")], "excluded_reason": [""]})
    dataset, counts = build_training_dataset(
        features, compute_labels(prices, universe("AAA"), [pd.Timestamp("2023-02-15")], "SPY")
    )
    assert dataset.empty and counts["pending_labels"] == 1


def test_a_split_inside_the_window_does_not_look_like_a_crash():
    prices = price_path("AAA", "2023-01-02", "2023-03-31", daily=0.0, split=("2023-02-21", 4.0))
    labels = compute_labels(prices, universe("AAA"), [pd.Timestamp("2023-02-15")], "SPY").iloc[0]
    assert prices.set_index("date").loc["2023-02-21", "close"] == pytest.approx(25.0)  # raw close fell 75 %
    assert labels["return_14d"] == pytest.approx(0.0)
    assert labels["label"] == 0 and labels["label_mirror"] == 0


def test_a_halted_stock_resolves_on_its_next_print_and_an_unlisted_one_has_no_price():
    prices = price_path("AAA", "2023-01-02", "2023-03-31")
    halted = prices[~prices["date"].isin([pd.Timestamp("2023-03-01"), pd.Timestamp("2023-03-02")])]
    row = compute_labels(halted, universe("AAA", "ZZZ"), [pd.Timestamp("2023-02-15")], "SPY").set_index("symbol")
    expected = (
        prices.set_index("date").loc["2023-03-03", "adj_close"]
        / prices.set_index("date").loc["2023-02-15", "adj_close"]
        - 1
    )
    assert row.loc["AAA", "status"] == "resolved" and row.loc["AAA", "return_14d"] == pytest.approx(expected)
    assert row.loc["ZZZ", "status"] == "no_price" and pd.isna(row.loc["ZZZ", "label"])
