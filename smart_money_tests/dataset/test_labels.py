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


def test_excess_targets_against_the_matched_bucket_by_hand():
    """Eight stocks, two size halves x two prior-return halves (pairs): each stock's excess is its
    return minus its pair's mean; the sign and the volatility-scaled value follow; the plan's
    columns are unchanged."""
    from smart_money.dataset.benchmarks import N_PRIOR_BUCKETS, N_SIZE_BUCKETS

    assert (N_SIZE_BUCKETS, N_PRIOR_BUCKETS) == (5, 5)  # with 8 stocks: groups of one or two
    rng = np.random.default_rng(0)
    frames = []
    for i in range(8):
        path = price_path(f"S{i}", "2023-01-01", "2023-12-29", daily=0.0005 * i)
        noise = np.exp(np.cumsum(rng.normal(0, 0.01, len(path))))
        path["adj_close"] = path["close"] = path["adj_close"] * noise
        path["shares_outstanding"] = 1e6 * (1 + i)
        frames.append(path)
    prices = pd.concat(frames, ignore_index=True)
    symbols = [f"S{i}" for i in range(8)]
    t = cal.sample_date(pd.Timestamp("2023-09-01"))
    labels = compute_labels(prices, universe(*symbols), [t], "SPY").set_index("symbol")
    wide = prices.pivot(index="date", columns="symbol")["adj_close"]
    r0 = wide.index.get_loc(t)
    end = wide.index.get_loc(cal.label_end_date(t))
    ret14 = wide.iloc[end] / wide.iloc[r0] - 1
    ret21 = wide.iloc[r0 + 21] / wide.iloc[r0] - 1
    size = np.log(wide.iloc[r0] * pd.Series({s: 1e6 * (1 + i) for i, s in enumerate(symbols)}))
    prior = np.log(wide.iloc[r0] / wide.iloc[r0 - 126])
    # 5 x 5 quantile groups over 8 stocks: group = floor(rank * 5 / 8)
    size_group = np.floor(size.rank(method="first").sub(1) * 5 / 8)
    prior_group = np.floor(prior.rank(method="first").sub(1) * 5 / 8)
    bucket = size_group * 5 + prior_group
    for s in symbols:
        peers = bucket[bucket == bucket[s]].index
        assert labels.loc[s, "excess_return_matched_14d"] == pytest.approx(ret14[s] - ret14[peers].mean())
        assert labels.loc[s, "excess_return_matched_21s"] == pytest.approx(ret21[s] - ret21[peers].mean())
        assert labels.loc[s, "label_excess_sign_21s"] == int(ret21[s] - ret21[peers].mean() > 0)
        sigma = np.log(wide[s]).diff().iloc[r0 - 59 : r0 + 1].std(ddof=1)
        assert labels.loc[s, "excess_return_scaled_14d"] == pytest.approx(
            (ret14[s] - ret14[peers].mean()) / (sigma * np.sqrt(end - r0))
        )
        assert labels.loc[s, "return_14d"] == pytest.approx(ret14[s])  # the plan's columns are untouched
    assert labels["label_excess_sign_14d"].notna().all()


def test_excess_targets_are_missing_until_their_end_is_priced():
    prices = pd.concat([price_path(s, "2023-01-01", "2023-10-05") for s in ("A", "B", "C")], ignore_index=True)
    t = cal.sample_date(pd.Timestamp("2023-09-01"))
    labels = compute_labels(prices, universe("A", "B", "C"), [t], "SPY")
    assert (labels["status"] == "resolved").all()
    assert labels["label_excess_sign_14d"].notna().all()
    assert labels["label_excess_sign_21s"].isna().all() and labels["return_21s"].isna().all()
