"""The simulated market: deterministic, realistic in its rates and dirt, honest about time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smart_money.data import calendar as cal
from smart_money.data.schemas import TABLES
from smart_money.sources.simulated import SimulatedSource, SimulationParams
from smart_money.sources.simulated import source as source_module
from smart_money_tests.support.settings import SMALL_HORIZON, SMALL_UNIVERSE

MONTHS = [pd.Timestamp("2023-01-01"), pd.Timestamp("2023-02-01"), pd.Timestamp("2023-03-01")]


def fetch_month(source: SimulatedSource, table: str, month: pd.Timestamp) -> pd.DataFrame:
    symbols = source.universe()["symbol"].tolist()
    return source.fetch(table, symbols, month, cal.add_months(month, 1)).frame


def fresh_source(**kwargs) -> SimulatedSource:
    source_module._bundle.cache_clear()
    return SimulatedSource(**{"n_symbols": SMALL_UNIVERSE, "seed": 3, "horizon": SMALL_HORIZON, **kwargs})


@pytest.mark.parametrize("table", list(TABLES))
def test_same_seed_same_rows_whatever_the_month_order_or_horizon(table):
    forward = fresh_source()
    first = {m: fetch_month(forward, table, m) for m in MONTHS}
    backward = fresh_source(horizon=pd.Timestamp("2025-06-01"))  # a longer world
    for month in reversed(MONTHS):
        pd.testing.assert_frame_equal(fetch_month(backward, table, month), first[month])


def test_another_seed_is_another_market():
    a = fetch_month(fresh_source(seed=3), "prices", MONTHS[0])
    b = fetch_month(fresh_source(seed=4), "prices", MONTHS[0])
    assert not np.allclose(a["adj_close"].to_numpy()[:100], b["adj_close"].to_numpy()[:100])


def test_base_rate_of_fourteen_day_moves_is_plausible(small_source):
    world = small_source.world
    ups, downs = [], []
    for k in range(150, world.n_periods - 1):
        r = world.log_adj_close[:, world.label_end[k]] - world.log_adj_close[:, world.period_start[k]]
        ups.append(np.mean(r > np.log(1.05)))
        downs.append(np.mean(r < np.log(0.95)))
    # Equity panels with 30-45 % volatility: roughly a fifth to a third of 14-day moves exceed 5 %.
    assert 0.15 < np.mean(ups) < 0.35
    assert 0.12 < np.mean(downs) < 0.35


def test_universe_has_sectors_and_market_etfs(small_source):
    universe = small_source.universe()
    stocks = universe[universe["asset_type"] == "stock"]
    assert len(stocks) == SMALL_UNIVERSE
    assert stocks["symbol"].is_unique
    assert stocks["sector"].nunique() >= 8
    assert {"SMKT", "XTEC"} <= set(universe.loc[universe["asset_type"] == "etf", "symbol"])


def test_known_at_is_never_before_the_event_except_the_garbled_rows(small_source):
    for table in ("insider_trades", "congress_trades", "institutional_holdings", "etf_holdings"):
        frame = pd.concat(fetch_month(small_source, table, m) for m in MONTHS)
        early = frame["known_at"].dt.normalize() < frame["event_date"].dt.normalize()
        if table == "insider_trades":
            # deliberately garbled lines (a transaction date a year after the filing) exist but are rare
            assert early.mean() < 0.01
            assert (frame.loc[early, "transaction_code"].isin(["A", "G"])).all()
        else:
            assert not early.any(), table


def test_insider_records_carry_realistic_dirt(small_source):
    rows = small_source.bundle.insiders.records
    assert rows.duplicated().sum() > 0  # re-sent filings
    assert (rows["form_type"] == "4/A").sum() > 0  # amendments
    assert rows.loc[rows["transaction_code"].isin(["P", "S"]), "price"].isna().mean() > 0.01
    lag = (rows["known_at"].dt.normalize() - rows["event_date"]).dt.days
    assert (lag > 10).mean() > 0.01  # late filings
    assert (lag <= 4).mean() > 0.8  # most within two business days
    codes = set(rows["transaction_code"])
    assert {"P", "S", "A", "M", "F", "G"} <= codes


def test_thirteen_f_and_congress_lags_match_the_rules(small_source):
    h = small_source.bundle.thirteen_f.records(
        pd.Timestamp("2022-01-01"), pd.Timestamp("2023-01-01"), np.arange(SMALL_UNIVERSE)
    )
    original = h[h["form_type"] == "13F-HR"]
    lag = (original["known_at"].dt.normalize() - original["event_date"]).dt.days
    assert original["event_date"].dt.is_quarter_end.all()
    assert lag.between(10, 80).all() and (lag <= 46).mean() > 0.9
    congress = small_source.bundle.congress.records
    lag = (congress["known_at"].dt.normalize() - congress["event_date"]).dt.days
    assert 15 <= lag.median() <= 35  # Senate ~19, House ~28 days in the data
    assert (lag > 45).mean() > 0.03  # some disclose late


def test_prices_adjust_for_splits(small_source):
    world = small_source.world
    split_at = np.argwhere(np.diff(world.split_factor, axis=1) > 0)
    assert len(split_at) > 0, "the world should contain at least one split"
    i, d = split_at[0]
    ratio = world.split_factor[i, d + 1] / world.split_factor[i, d]
    raw_move = world.close[i, d + 1] / world.close[i, d]
    adj_move = world.adj_close[i, d + 1] / world.adj_close[i, d]
    assert raw_move == pytest.approx(adj_move / ratio)
    assert abs(np.log(adj_move)) < 0.3  # no fake crash in the adjusted series


def test_oracle_public_news_posterior_is_calibrated():
    """The exact posterior of the private news given public filings must be calibrated: among
    samples it gives P(good news) = p, a share p has good news."""
    source = SimulatedSource(
        n_symbols=250, seed=5, params=SimulationParams(strength=3.0), horizon=pd.Timestamp("2020-01-01")
    )
    world, oracle = source.world, source.bundle.oracle
    predicted, realised = [], []
    for k in range(12, world.n_periods - 2):
        _, _, z = oracle.public_state(k)
        predicted.append(z[:, 2])
        realised.append(world.news[:, k] == 1)
    p, y = np.concatenate(predicted), np.concatenate(realised)
    informative = p > 0.05
    assert informative.sum() > 200
    expected, observed = p[informative].mean(), y[informative].mean()
    se = np.sqrt(expected * (1 - expected) / informative.sum())
    assert abs(observed - expected) < 3 * se
    assert y[~informative].mean() < 0.02


def test_oracles_rank_labels_truth_above_public():
    from sklearn.metrics import roc_auc_score

    source = SimulatedSource(n_symbols=250, seed=5, horizon=pd.Timestamp("2020-01-01"))
    world = source.world
    samples = []
    for k in range(12, world.n_periods - 2):
        r = world.log_adj_close[:, world.label_end[k]] - world.log_adj_close[:, world.period_start[k]]
        samples.append(
            pd.DataFrame(
                {"symbol": world.universe.tickers, "sample_date": world.sample_dates[k], "y": r > np.log(1.05)}
            )
        )
    frame = pd.concat(samples, ignore_index=True)
    oracle = source.oracle(frame)
    auc_truth = roc_auc_score(frame["y"], oracle["oracle_truth"])
    auc_public = roc_auc_score(frame["y"], oracle["oracle_public"])
    assert auc_truth > auc_public > 0.55
    assert oracle["oracle_public"].between(0, 1).all()
