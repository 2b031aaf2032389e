"""Packages recognised from their legs' relations (sides at the mid do not break them) and
the underlying's move read over several horizons before the event's first print.

Written against the engine before multi-leg side inference and multi-horizon moves: the box,
the conversion, the straddle with one mid leg and both slow-move hedges were lost there (no
side at the mid; a 30 s look-back only)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smart_money.options.engine.batch import score_frames
from smart_money.options.engine.calibration import load_calibration
from smart_money.options.engine.frames import (
    normalize_calendar,
    normalize_prints,
    normalize_quotes,
    normalize_underlying,
)
from smart_money.options.engine.rules import config_dir, load_rules
from smart_money_tests.support.option_tape import T0, fair_quote_rows, print_row, spot_path

EXPIRY = "2024-07-26"  # 44 days after T0 (2024-06-12)
CALM = [(-1_000_000, 100.0), (3_000, 100.0)]


def score(prints, quotes, spot, calendar=None) -> pd.DataFrame:
    events = score_frames(
        normalize_prints(pd.DataFrame(prints)),
        normalize_quotes(pd.DataFrame(quotes)),
        normalize_underlying(pd.DataFrame(spot)),
        normalize_calendar(pd.DataFrame(calendar)) if calendar else None,
    ).events
    return events


def leg(strike, right, placement, ms, size, condition, expiry=EXPIRY, spot=100.0, pid=None, at=T0):
    """A print of one leg at its fair NBBO ('A' ask, 'B' bid, 'MID'), with its quotes."""
    quotes = fair_quote_rows(strike, right, spot, expiry, at=at)
    bid, ask = quotes[-1]["bid"], quotes[-1]["ask"]
    price = {"A": ask, "B": bid, "MID": round((bid + ask) / 2, 3)}[placement]
    pid = pid or f"{right}{strike:g}-{ms}"
    return (
        print_row(pid, ms, strike, right, size, price, condition, expiry=expiry, at=at),
        quotes,
    )


def tape(legs):
    prints = [p for p, _ in legs]
    quotes = [q for _, qs in legs for q in qs]
    return prints, quotes


def one(events: pd.DataFrame) -> pd.Series:
    assert len(events) == 1, events[["event_id", "n_legs", "structure"]]
    return events.iloc[0]


# --- cause 1: packages printed at the mid ------------------------------------------------------


def test_a_box_with_every_leg_at_the_mid_is_arbitrage():
    prints, quotes = tape(
        [
            leg(95, "C", "MID", 0, 500, "f"),
            leg(105, "C", "MID", 1, 500, "f"),
            leg(105, "P", "MID", 2, 500, "f"),
            leg(95, "P", "MID", 3, 500, "f"),
        ]
    )
    event = one(score(prints, quotes, spot_path(CALM)))
    assert event["structure"] == "box"
    assert event["primary_profile_id"] == "arbitrage" and event["primary_direction"] == "neutral"
    assert abs(event["abs_net_delta"]) <= 0.05
    assert np.isnan(event["net_delta"])  # the package's side is unknown: a signed delta is not made up


def test_a_conversion_with_both_legs_at_the_mid_is_arbitrage():
    prints, quotes = tape([leg(100, "C", "MID", 0, 400, "n"), leg(100, "P", "MID", 1, 400, "n")])
    event = one(score(prints, quotes, spot_path(CALM)))
    assert event["structure"] == "synthetic"
    assert event["primary_profile_id"] == "arbitrage"


def test_a_straddle_with_one_leg_at_the_mid_is_still_a_bought_straddle_before_earnings():
    legs = [leg(100, "C", "A", ms, 60, "I", expiry="2024-06-21", pid=f"c{ms}") for ms in (0, 40, 80)]
    legs += [leg(100, "P", "MID", ms, 60, "I", expiry="2024-06-21", pid=f"p{ms}") for ms in (10, 50, 90)]
    prints, quotes = tape(legs)
    calendar = [
        {
            "underlying": "AAA",
            "event_type": "earnings",
            "announced_ts": T0 - pd.Timedelta(days=20),
            "event_ts": T0 + pd.Timedelta(days=7),  # earnings, then the straddle's expiry two days later
        }
    ]
    event = one(score(prints, quotes, spot_path(CALM), calendar))
    assert event["structure"] == "straddle"
    assert event["put_leg_side"] > 0 and event["call_leg_side"] > 0  # the put's side comes from the package
    assert event["primary_profile_id"] == "event_driven" and event["primary_direction"] == "mixed"


def test_an_unknown_side_counts_as_unknown_not_as_zero_delta():
    prints, quotes = tape([leg(100, "C", "MID", 0, 300, "I")])
    event = one(score(prints, quotes, spot_path(CALM)))
    assert np.isnan(event["net_delta"]) and event["unknown_side_share"] == 1.0
    prints, quotes = tape([leg(100, "C", "MID", 0, 300, "I"), leg(110, "P", "A", 1, 300, "I")])
    event = one(score(prints, quotes, spot_path(CALM)))
    assert event["structure"] == "strangle" and event["unknown_side_share"] == 0.0  # side taken from the package
    assert np.isfinite(event["net_delta"])


# --- cause 2: moves that built over minutes ------------------------------------------------------


def hedge(expiry: str, at: pd.Timestamp, spot: float, size: int = 1500, strike: float = 99.0):
    return tape(
        [
            leg(strike, "P", "A", 0, size, "I", expiry=expiry, spot=spot, at=at, pid="h1"),
            leg(strike, "P", "A", 30, size, "I", expiry=expiry, spot=spot, at=at, pid="h2"),
        ]
    )


def test_a_hedge_bought_after_a_two_minute_drop_is_hedge_reactive():
    # 100 -> 99.4 (-60 bp) from 150 s to 25 s before the puts are bought, flat since
    path = [(-1_000_000, 100.0), (-150_000, 100.0), (-25_000, 99.4), (3_000, 99.4)]
    prints, quotes = hedge("2024-06-13", T0, 99.4)
    event = one(score(prints, quotes, spot_path(path)))
    assert abs(event["underlying_move_bps"]) < 15  # the 30 s look-back alone misses it
    assert event["move_2m_bps"] < -40
    assert event["primary_profile_id"] == "hedge_reactive" and event["primary_direction"] == "bearish"


def test_a_zero_dte_hedge_after_a_slow_drop_is_hedge_reactive():
    at = pd.Timestamp("2024-06-12 18:30:00", tz="UTC")  # 14:30 New York, expiry day
    path = [(-1_000_000, 200.0), (-330_000, 200.0), (-40_000, 198.6), (3_000, 198.6)]  # -70 bp over ~5 min
    prints, quotes = hedge("2024-06-12", at, 198.6, size=2500, strike=199.0)
    event = one(score(prints, quotes, spot_path(path, at=at)))
    assert event["dte_calendar"] == 0 and abs(event["move_2m_bps"]) < 35
    assert event["move_5m_bps"] < -50
    assert event["primary_profile_id"] == "hedge_reactive" and event["primary_direction"] == "bearish"


def test_a_slow_drift_with_no_hedge_stays_unemitted():
    at = pd.Timestamp("2024-06-12 18:30:00", tz="UTC")
    drift = [(-1_000_000, 200.0), (-900_000, 200.0), (-1_000, 199.6), (3_000, 199.6)]  # -20 bp over 15 min
    prints, quotes = hedge("2024-06-12", at, 199.6, size=2500, strike=200.0)
    event = one(score(prints, quotes, spot_path(drift, at=at)))
    assert event["move_15m_bps"] == pytest.approx(-20, abs=2)
    assert event["abstained"] and event["primary_profile_id"] is None
    small = tape(
        [leg(210, "C", "MID", 0, 3, "I", spot=199.6, at=at), leg(210, "C", "A", 20, 2, "a", spot=199.6, at=at)]
    )
    assert one(score(*small, spot_path(drift, at=at)))["abstained"]


def test_calm_market_flow_stays_unemitted():
    at = pd.Timestamp("2024-06-12 18:30:00", tz="UTC")
    calm = [(-1_000_000, 200.0), (3_000, 200.0)]
    prints, quotes = hedge("2024-06-12", at, 200.0, size=2500, strike=200.0)
    event = one(score(prints, quotes, spot_path(calm, at=at)))
    assert all(event[f"move_{h}_bps"] == pytest.approx(0, abs=1) for h in ("30s", "2m", "5m", "15m"))
    assert event["abstained"]


def test_moves_use_nothing_after_the_first_print():
    path = [(-1_000_000, 100.0), (-150_000, 100.0), (-25_000, 99.4), (3_000, 99.4)]
    prints, quotes = hedge("2024-06-13", T0, 99.4)
    spot = spot_path(path)
    base = one(score(prints, quotes, spot))
    later = [dict(r, bid=r["bid"] * 1.05, ask=r["ask"] * 1.05) if r["ts"] > T0 else r for r in spot]
    shifted = one(score(prints, quotes, later))
    for column in ("underlying_move_bps", "move_30s_bps", "move_2m_bps", "move_5m_bps", "move_15m_bps"):
        assert shifted[column] == pytest.approx(base[column]), column


def test_rules_v1_and_its_calibration_stay_loadable():
    v1 = load_rules(str(config_dir() / "rules-v1.json"))
    assert v1.version == "rules-1.0.0" and load_rules().version == "rules-2.0.0"
    assert load_calibration(v1).version.startswith("rules-1.0.0")
    prints, quotes = hedge("2024-06-13", T0, 99.4)
    path = [(-1_000_000, 100.0), (-150_000, 100.0), (-25_000, 99.4), (3_000, 99.4)]
    events = score_frames(
        normalize_prints(pd.DataFrame(prints)),
        normalize_quotes(pd.DataFrame(quotes)),
        normalize_underlying(pd.DataFrame(spot_path(path))),
        None,
        v1,
        load_calibration(v1),
    ).events
    assert (events["scoring_version"] == "rules-1.0.0").all()
    assert events["abstained"].all()  # v1 reads the 30 s move only
