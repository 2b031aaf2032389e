"""The event study's machinery against hand-computed values: the entry rule, abnormal returns
against each benchmark, the statistics, calendar-time portfolios."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smart_money.research.calendar_time import calendar_time, monthly_returns, newey_west
from smart_money.research.event_study import (
    _clustered_mean,
    cluster_t,
    date_bootstrap_interval,
    event_returns,
    non_overlapping,
    study_rows,
)
from smart_money.research.panel import ReturnPanel

DATES = pd.bdate_range("2024-01-01", periods=200)


def price_table(paths: dict[str, np.ndarray], shares: dict[str, float] | None = None) -> pd.DataFrame:
    frames = []
    for symbol, path in paths.items():
        frames.append(
            pd.DataFrame(
                {
                    "symbol": symbol,
                    "date": DATES[: len(path)],
                    "adj_close": path,
                    "close": path,
                    "volume": 1e6,
                    "shares_outstanding": (shares or {}).get(symbol, np.nan),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def random_paths(n: int, seed: int = 0, sigma: float = 0.02) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {f"S{i}": 50.0 * np.exp(np.cumsum(rng.normal(0, sigma, len(DATES)))) for i in range(n)}


def one_event(symbol: str, known_at: str, family: str = "insider_purchase") -> pd.DataFrame:
    return pd.DataFrame(
        {"family": [family], "symbol": [symbol], "known_at": [pd.Timestamp(known_at)], "actor_ids": ["1"]}
    )


@pytest.mark.parametrize(
    ("known_at", "entry"),
    [
        ("2024-01-10 10:00", "2024-01-10"),  # filed during the session: enters at that day's close
        ("2024-01-10 16:00", "2024-01-11"),  # at the close: not tradable at it
        ("2024-01-10 23:59:59", "2024-01-11"),  # a date without a time: public after the close
        ("2024-01-13 12:00", "2024-01-15"),  # a Saturday: the next session
    ],
)
def test_entry_is_the_first_close_strictly_after_the_public_time(known_at, entry):
    panel = ReturnPanel(price_table(random_paths(3)))
    row = panel.entry_rows(pd.Series([pd.Timestamp(known_at)]))[0]
    assert panel.dates[row] == pd.Timestamp(entry)
    assert panel.close_times[row] > pd.Timestamp(known_at)
    assert panel.close_times[row - 1] <= pd.Timestamp(known_at)


def test_a_jump_on_the_public_day_is_day_zero_never_part_of_the_abnormal_return():
    """The stock jumps +50 % at the close of the public day (the filing was out at 10:00 that day
    for the first, end of day for the second): a study entering at or before that close would
    book the jump; this one books it as the day-0 move only."""
    flat = np.full(len(DATES), 100.0)
    jumper = flat.copy()
    day = DATES.get_loc(pd.Timestamp("2024-01-10"))
    jumper[day + 1 :] = 150.0  # the jump happens on the session after the public day (end-of-day filing)
    prices = price_table({"A": jumper, "B": flat, "C": flat})
    panel = ReturnPanel(prices)
    end_of_day = event_returns(panel, one_event("A", "2024-01-10 23:59:59")).frame.iloc[0]
    # entry is the jump session's close (2024-01-11): the jump is before entry, in day 0
    assert end_of_day["entry_date"] == pd.Timestamp("2024-01-11")
    assert end_of_day["car_equal_weight_1"] == pytest.approx(0.0)
    assert end_of_day["car_equal_weight_21"] == pytest.approx(0.0)
    assert end_of_day["day0_equal_weight"] == pytest.approx(0.5 - 0.5 / 3)


def test_abnormal_returns_against_hand_computed_equal_weight_and_market():
    paths = {
        "A": 100.0 * np.cumprod(np.r_[1.0, np.full(len(DATES) - 1, 1.01)]),  # +1 %/session
        "B": np.full(len(DATES), 50.0),
        "C": 20.0 * np.cumprod(np.r_[1.0, np.full(len(DATES) - 1, 0.995)]),  # -0.5 %/session
        "SPY": 300.0 * np.cumprod(np.r_[1.0, np.full(len(DATES) - 1, 1.002)]),
    }
    panel = ReturnPanel(price_table(paths), ["A", "B", "C"], "SPY")
    row = event_returns(panel, one_event("A", "2024-01-10 23:59:59")).frame.iloc[0]
    for h in (1, 5, 21):
        a, b, c, m = 1.01**h - 1, 0.0, 0.995**h - 1, 1.002**h - 1
        assert row[f"car_equal_weight_{h}"] == pytest.approx(a - (a + b + c) / 3)
        assert row[f"car_market_index_{h}"] == pytest.approx(a - m)
    assert row["day0_equal_weight"] == pytest.approx(0.01 - (0.01 + 0.0 - 0.005) / 3)


def test_matched_benchmark_is_the_entry_bucket_average_by_size_and_prior_return():
    paths = random_paths(8, seed=4)
    shares = {s: (1e6 if i < 4 else 1e9) for i, s in enumerate(paths)}  # S0-S3 small, S4-S7 large
    panel = ReturnPanel(price_table(paths, shares), n_size=2, n_prior=2)
    event = one_event("S5", str(DATES[150].date()) + " 23:59:59")
    row = event_returns(panel, event).frame.iloc[0]
    entry = 151
    size = np.array([np.log(paths[s][entry] * shares[s]) for s in paths])
    prior = np.array([np.log(paths[s][entry] / paths[s][entry - 126]) for s in paths])
    big = size >= np.sort(size)[4]
    peers = [i for i in range(8) if big[i]]
    high = {i: prior[i] >= np.sort(prior[peers])[2] for i in peers}  # the upper half of the big stocks
    same = [i for i in peers if high[i] == high[5]]
    for h in (5, 21):
        r = np.array([paths[s][entry + h] / paths[s][entry] - 1 for s in paths])
        assert row[f"car_matched_{h}"] == pytest.approx(r[5] - r[same].mean())


def test_a_delisted_stock_is_held_as_cash_in_the_benchmark():
    paths = {"A": np.full(len(DATES), 10.0), "B": np.linspace(10, 20, len(DATES))}
    prices = price_table(paths)
    prices = prices[~((prices["symbol"] == "B") & (prices["date"] > DATES[30]))]  # B stops trading
    panel = ReturnPanel(prices)
    row = event_returns(panel, one_event("A", str(DATES[25].date()) + " 23:59:59")).frame.iloc[0]
    b_return = paths["B"][30] / paths["B"][26] - 1  # its last print, then cash
    assert row["car_equal_weight_21"] == pytest.approx(0.0 - (0.0 + b_return) / 2)


def test_events_without_prices_are_counted_not_dropped():
    panel = ReturnPanel(price_table(random_paths(2)))
    events = pd.concat([one_event("S0", "2024-01-10"), one_event("ZZZ", "2024-01-10"), one_event("S1", "2030-01-01")])
    frame = event_returns(panel, events).frame
    assert list(frame["status"]) == ["ok", "no_prices", "after_panel"]


def test_date_clustered_t_matches_the_cluster_robust_formula():
    rng = np.random.default_rng(1)
    dates = rng.integers(0, 40, 400)
    x = rng.normal(0.01, 0.05, 400) + 0.03 * rng.normal(size=40)[dates]
    mean, se = _clustered_mean(x, dates)
    assert cluster_t(x, dates) == pytest.approx(mean / se, rel=1e-6)
    two_way = cluster_t(x, np.column_stack([dates, rng.integers(0, 100, 400)]))
    assert np.isfinite(two_way) and two_way != pytest.approx(mean / se)


def test_date_bootstrap_interval_covers_the_mean_and_widens_with_date_shocks():
    rng = np.random.default_rng(2)
    dates = np.repeat(np.arange(50), 20)
    calm = rng.normal(0, 0.05, 1000)
    shocked = calm + np.repeat(rng.normal(0, 0.05, 50), 20)
    lo, hi = date_bootstrap_interval(calm, dates, 500, np.random.default_rng(0))
    lo2, hi2 = date_bootstrap_interval(shocked, dates, 500, np.random.default_rng(0))
    assert lo < calm.mean() < hi
    assert hi2 - lo2 > 2 * (hi - lo)


def test_non_overlapping_keeps_the_first_event_of_each_burst():
    frame = pd.DataFrame({"family": "f", "symbol": ["A", "A", "A", "B"], "entry_row": [10, 15, 40, 12]})
    assert list(non_overlapping(frame, 21)) == [True, False, True, True]


def test_study_rows_carry_the_required_fields():
    panel = ReturnPanel(price_table(random_paths(5)))
    events = pd.concat([one_event(f"S{i % 5}", str(DATES[20 + 3 * i].date())) for i in range(20)])
    rows = study_rows(event_returns(panel, events).frame, n_boot=50)
    required = {
        "family", "benchmark", "horizon_sessions", "n_events", "mean_car_bp", "median_car_bp", "frac_positive",
        "t_date", "t_two_way", "ci_low_bp", "ci_high_bp", "window", "winsorized_mean_car_bp",
    }  # fmt: skip
    assert all(required <= set(r) for r in rows)
    assert {(r["window"], r["horizon_sessions"]) for r in rows} == {("day0", 0)} | {
        ("post_entry", h) for h in (1, 5, 10, 21, 63)
    }


def test_calendar_time_portfolio_against_hand_computed_months():
    paths = {
        "A": 100.0 * np.cumprod(np.r_[1.0, np.full(len(DATES) - 1, 1.01)]),
        "B": np.full(len(DATES), 50.0),
    }
    panel = ReturnPanel(price_table(paths))
    returns = event_returns(panel, one_event("A", "2024-01-10 23:59:59")).frame
    monthly = monthly_returns(panel, returns, 21)
    # held from January's last session to February's: 21 sessions of +1 % (Feb 2024 has 21 bdays)
    jan_end, feb_end = DATES[DATES.month == 1][-1], DATES[DATES.month == 2][-1]
    n = DATES.get_loc(feb_end) - DATES.get_loc(jan_end)
    first = monthly.iloc[0]
    assert first["portfolio"] == pytest.approx(1.01**n - 1)
    assert first["equal_weight"] == pytest.approx((1.01**n - 1) / 2)
    assert len(monthly) == 1  # the event is older than 21 sessions at February's end
    rows, _ = calendar_time(panel, returns, (21,))
    ew = next(r for r in rows if r["benchmark"] == "equal_weight")
    assert ew["months"] == 1 and ew["alpha_pct_month"] == pytest.approx(100 * (1.01**n - 1) / 2)
    assert ew["empty_months"] >= 5


def test_newey_west_t_of_a_constant_plus_noise():
    rng = np.random.default_rng(3)
    mean, t = newey_west(0.01 + rng.normal(0, 0.01, 120))
    assert mean == pytest.approx(0.01, abs=0.003) and t > 5


def test_a_planted_effect_is_recovered_and_shows():
    """One planted window at a time (events 22 sessions apart, on different stocks, quiet prices):
    the planted stock is 1 of 40 in the equal-weight benchmark, so 300 bp x 39/40 comes back."""
    from smart_money.research.planted import planted_check

    prices = price_table(random_paths(40, seed=9, sigma=0.001))
    events = pd.concat(
        [one_event(f"S{i}", str(DATES[5 + 22 * i].date()) + " 23:59:59", "congress_purchase") for i in range(8)]
    )
    out = planted_check(events, prices, None, None, "congress_purchase", 300.0, horizon=21)
    assert out["events"] == 8
    assert out["recovered_equal_weight_bp"] == pytest.approx(300 * 39 / 40, rel=0.02)
    assert out["planted_equal_weight_ci_low_bp"] > 0 and out["planted_equal_weight_t_date"] > 3
    assert abs(out["original_equal_weight_t_date"]) < 3


def test_size_terciles_once_per_session_equal_the_per_event_quantiles():
    from smart_money.research.event_study import _size_terciles

    rng = np.random.default_rng(5)
    paths = random_paths(30)
    shares = {s: float(rng.lognormal(15, 2)) for s in paths}
    panel = ReturnPanel(price_table(paths, shares))
    panel.size[rng.random(panel.size.shape) < 0.1] = np.nan  # gaps in the cross-section
    rows = rng.integers(0, len(panel.dates), 2000)
    cols = rng.integers(0, len(panel.symbols), 2000)
    ok = rng.random(2000) < 0.9
    size = panel.size[rows]  # the reference: the quantiles of each event's own row
    lo, hi = np.nanquantile(size, 1 / 3, axis=1), np.nanquantile(size, 2 / 3, axis=1)
    own = panel.size[rows, cols]
    label = np.where(own <= lo, "small", np.where(own <= hi, "mid", "large")).astype(object)
    reference = np.where(ok & ~np.isnan(own), label, None)
    assert _size_terciles(panel, rows, cols, ok).tolist() == reference.tolist()


def test_cluster_ts_from_one_fit_equal_separate_fits_bit_for_bit():
    import statsmodels.api as sm

    from smart_money.research.event_study import cluster_ts

    rng = np.random.default_rng(3)
    for n in (3, 50, 2000):
        dates, firms = rng.integers(0, max(2, n // 5), n), rng.integers(0, max(2, n // 3), n)
        x = rng.normal(0.01, 0.05, n) + 0.03 * rng.normal(size=n)[dates]
        groupings = [dates, np.column_stack([dates, firms])]
        reference = [
            float(sm.OLS(x, np.ones((n, 1))).fit(cov_type="cluster", cov_kwds={"groups": g}).tvalues[0])
            for g in groupings
        ]
        assert cluster_ts(x, groupings) == reference
    assert np.isnan(cluster_ts(np.array([1.0, 2.0, 3.0]), [np.zeros(3, dtype=int)])[0])  # one cluster
