"""Implied volatility from NBBO mids: recovers the volatility that priced the option, and is
null where no volatility can (prices outside no-arbitrage bounds, missing inputs)."""

from __future__ import annotations

import numpy as np

from smart_money.options.engine.pricing import MAX_VOL, MIN_VOL, bs_price, bs_vega, implied_vol


def test_implied_vol_recovers_the_pricing_volatility_within_the_solver_tolerance():
    rng = np.random.default_rng(3)
    n = 5_000
    spot = rng.uniform(20, 400, n)
    strike = spot * rng.uniform(0.7, 1.3, n)
    t = rng.uniform(1 / 365 / 24, 2.0, n)  # an hour to two years
    vol = rng.uniform(0.08, 1.5, n)
    is_call = rng.random(n) < 0.5
    price = bs_price(spot, strike, t, vol, is_call, 0.04, 0.01)
    solved = implied_vol(price, spot, strike, t, is_call, 0.04, 0.01)
    # an option without time value (deep in or far out of the money) says nothing about
    # volatility: only options with some time value pin it down
    forward_call = spot * np.exp(-0.01 * t) - strike * np.exp(-0.04 * t)
    time_value = price - np.maximum(np.where(is_call, forward_call, -forward_call), 0.0)
    priced = time_value > 0.05
    assert priced.sum() > 3_000
    assert np.isfinite(solved[priced]).all()
    repriced = bs_price(spot, strike, t, solved, is_call, 0.04, 0.01)
    tolerance = np.maximum(1e-4, 1e-3 * price)
    assert (np.abs(repriced - price)[priced] <= tolerance[priced]).all()
    # a price within the tolerance means a volatility within about tolerance / vega
    vega = bs_vega(spot, strike, t, vol, 0.04, 0.01)
    sensitive = priced & (vega > 1.0)
    assert (np.abs(solved - vol)[sensitive] <= 2 * tolerance[sensitive] / vega[sensitive]).all()
    assert np.median(np.abs(solved - vol)[sensitive]) < 1e-3
    assert ((solved[priced] >= MIN_VOL) & (solved[priced] <= MAX_VOL)).all()


def test_implied_vol_is_null_outside_no_arbitrage_bounds_and_for_missing_inputs():
    spot, strike, t = 100.0, 90.0, 0.25
    intrinsic = spot - strike * np.exp(-0.04 * t)
    prices = np.array([intrinsic - 0.5, spot + 1.0, np.nan, 12.0, 12.0, 12.0])
    spots = np.array([spot, spot, spot, np.nan, spot, spot])
    times = np.array([t, t, t, t, 0.0, t])
    solved = implied_vol(prices, spots, strike, times, True, 0.04)  # strike and right broadcast
    assert np.isnan(solved[:5]).all()
    assert 0.05 < solved[5] < 1.0


def test_implied_vol_keeps_the_shape_of_its_inputs():
    grid = np.full((3, 4), 5.0)
    solved = implied_vol(grid, 100.0, 100.0, 0.5, np.ones((3, 4), dtype=bool))
    assert solved.shape == (3, 4)
    assert np.allclose(bs_price(100.0, 100.0, 0.5, solved, True), 5.0, atol=5e-3)
    assert implied_vol(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool)).shape == (0,)
