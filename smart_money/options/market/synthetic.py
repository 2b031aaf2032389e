"""A synthetic options market whose scenarios carry hidden labels.

Each scenario is one intended parent event of a family (the six profiles, neutral noise and
the hard cases) on its own underlying. It emits only what a tape has: option prints, option
NBBO quotes, underlying quotes and calendar entries. Prices come from Black-Scholes on a
simulated spot path; prints are placed against the NBBO in force at their timestamp with the
family's aggressor mix. The labels (family, true profile, intended direction, hidden forward
return) are returned in a separate frame keyed by scenario and print IDs: the engine never
sees them, and the evaluator joins them to events through member prints.

Two modes: `catalogue()` (a fixed, deterministic list of every family and variant, for tests)
and `generate_market(n, seed)` / `stream_market(...)` (random draws, in arrival order, for the
evaluation and the demo).

Dates: without a `day`, scenarios happen on DEFAULT_DAY except the `dst_0dte` hedges, which
happen on DST_DAYS (the evaluation market covers the clock changes). With a `day` (one daily
partition of the options-flow assets), every scenario happens on that day: a partition never
holds events of another date.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from scipy.special import ndtri

from smart_money.data.calendar import session_on_or_after
from smart_money.options.engine.pricing import bs_price

NEW_YORK = ZoneInfo("America/New_York")
MS = 1_000_000
SECOND = 1_000_000_000
RATE = 0.04
SPOT_VOL = 0.20
TRADING_SECONDS_PER_YEAR = 252 * 6.5 * 3600
VENUES = ("A", "B", "C", "D", "E", "H", "I", "J", "M", "N", "P", "Q", "T", "W", "X", "Z")
DEFAULT_DAY = date(2024, 6, 12)
SPOT_HISTORY_S = 1_000  # underlying quotes start this long before each event (15 min look-back + margin)
DST_DAYS = (date(2024, 3, 11), date(2024, 11, 4))  # first sessions after the clock changes

# family -> (variant, weight) ; weights are the mix of generate_market
FAMILIES: dict[str, tuple[tuple[str, float], ...]] = {
    "institutional_directional": (("call_sweep", 0.08), ("put_sweep", 0.03)),
    "retail_whale": (("otm_call_chase", 0.11),),
    "event_driven": (
        ("otm_before_earnings", 0.06),
        ("straddle_before_event", 0.03),
        ("earnings_within_48h", 0.02),
        ("straddle_mid_leg", 0.025),  # one leg printed at the mid
    ),
    "vol_seller": (
        ("short_straddle", 0.03),
        ("put_write", 0.03),
        ("buy_write", 0.03),
        ("roll", 0.03),
        ("short_straddle_mid_leg", 0.02),
    ),
    "arbitrage": (
        ("box", 0.05),
        ("conversion", 0.05),
        ("box_mid", 0.025),  # every leg at the mid (a multi-leg auction or cross)
        ("conversion_mid", 0.025),
        ("box_staggered", 0.025),  # legs reported 80-140 ms apart, partial fills, sides unreadable
        ("reversal_partial", 0.025),  # a reversal in unequal fills, legs 100-400 ms apart
    ),
    "hedge_reactive": (
        ("dealer_0dte", 0.05),
        ("dealer_1dte", 0.02),
        ("close_0dte", 0.025),
        ("dst_0dte", 0.015),
        ("collar", 0.02),
        ("slow_drop_1dte", 0.025),  # the move built over ~2 min and ended 10-40 s before
        ("slow_drop_0dte", 0.025),  # over ~5 min, ended 20-60 s before
    ),
    "neutral_noise": (("small", 0.15), ("mixed_medium", 0.02), ("with_cancel", 0.01), ("mid_package", 0.015)),
    # hedge-sized short-dated ATM flow with no move to hedge: a drift under the thresholds, or calm
    "no_move_flow": (("slow_drift", 0.02), ("calm", 0.015)),
    "stale_quote_chop": (("frozen_nbbo", 0.03),),
    "wide_chop": (("wide_small", 0.03),),
    "auction_block": (("cross_at_ask", 0.015), ("auction_at_ask", 0.015)),
    "ambiguous": (("short_dated_sweep", 0.035), ("block_before_event", 0.035)),
}
PROFILE_FAMILIES = (
    "institutional_directional",
    "retail_whale",
    "event_driven",
    "vol_seller",
    "arbitrage",
    "hedge_reactive",
)
EXPECT_ABSTAIN = ("neutral_noise", "no_move_flow", "stale_quote_chop", "wide_chop", "auction_block", "ambiguous")


@dataclass
class MarketTape:
    """What the engine may see."""

    prints: pd.DataFrame
    quotes: pd.DataFrame
    underlying: pd.DataFrame
    calendar: pd.DataFrame


@dataclass
class _Leg:
    strike: float
    right: str
    expiry: date
    side: int  # +1 bought, -1 sold (the intended aggressor)
    size_total: int = 0


@dataclass
class _Rows:
    prints: list[dict] = field(default_factory=list)
    quotes: list[pd.DataFrame] = field(default_factory=list)
    underlying: list[pd.DataFrame] = field(default_factory=list)
    calendar: list[dict] = field(default_factory=list)
    labels: list[dict] = field(default_factory=list)


def _ns(day: date, at: time) -> int:
    return int(datetime.combine(day, at, NEW_YORK).timestamp()) * SECOND


def _close_ns(day: date) -> int:
    return _ns(day, time(16, 0))


def _expiry(day: date, days_ahead: int) -> date:
    if days_ahead <= 0:
        return day
    return session_on_or_after(pd.Timestamp(day + timedelta(days=days_ahead))).date()


def _strike_for_delta(spot: float, vol: float, t: float, delta: float, right: str) -> float:
    """Strike whose Black-Scholes |delta| is `delta`, rounded to a listed increment."""
    d1 = ndtri(delta) if right == "C" else -ndtri(delta)
    strike = spot * np.exp(-d1 * vol * np.sqrt(t) + (RATE + 0.5 * vol * vol) * t)
    step = 0.5 if spot < 50 else 1.0 if spot < 200 else 5.0
    return float(max(step, round(strike / step) * step))


def _round_strike(spot: float, ratio: float) -> float:
    step = 0.5 if spot < 50 else 1.0 if spot < 200 else 5.0
    return float(max(step, round(spot * ratio / step) * step))


class _Scenario:
    """Builds one scenario's tape rows; `emit_*` helpers keep prints consistent with quotes."""

    def __init__(self, rng: np.random.Generator, idx: int, family: str, variant: str, day: date, seed: int):
        self.rng, self.idx, self.family, self.variant, self.day = rng, idx, family, variant, day
        self.underlying = f"Z{seed % 1000:03d}{idx:05d}"
        self.spot0 = float(rng.uniform(20, 400))
        self.vol = float(rng.uniform(0.22, 0.45))
        self.spread_rel = float(rng.uniform(0.02, 0.06))
        self.iv_ramp = 0.0
        self.spread_ramp = 0.0
        self.freeze_quotes_before_ns: int | None = None
        self.move_bps = 0.0
        # the move builds from `move_begin_s` to `move_end_s` seconds before the event
        self.move_begin_s, self.move_end_s = 30.0, 2.0
        self.start = _ns(day, time(10, 0)) + int(rng.uniform(0, 5.5 * 3600)) * SECOND + int(rng.integers(0, 1000)) * MS
        self.legs: list[_Leg] = []
        self.print_seq = 0

    # --- market paths ---------------------------------------------------------------------
    def spot_path(self, rows: _Rows) -> tuple[np.ndarray, np.ndarray]:
        rng = self.rng
        # sparse quotes far from the event (the moves' look-backs, up to 15 min), dense ones around it
        far = np.arange(self.start - SPOT_HISTORY_S * SECOND, self.start - 45 * SECOND, 10 * SECOND)
        sparse = np.arange(self.start - 45 * SECOND, self.start - 3 * SECOND, 2 * SECOND)
        dense = np.arange(self.start - 3 * SECOND, self.start + 2 * SECOND, 100 * MS)
        times = np.concatenate([far, sparse, dense]) + rng.integers(
            0, 50 * MS, size=len(far) + len(sparse) + len(dense)
        )
        # a random walk at SPOT_VOL (annualized over trading seconds) ...
        elapsed = np.diff(times, prepend=int(far[0])) / SECOND
        noise = np.cumsum(rng.normal(0.0, SPOT_VOL * np.sqrt(np.maximum(elapsed, 0) / TRADING_SECONDS_PER_YEAR)))
        # ... plus, for some families, a move that builds before the event (dealers react to it)
        begin, end = self.move_begin_s * SECOND, self.move_end_s * SECOND
        ramp = np.clip((times - (self.start - begin)) / (begin - end), 0, 1)
        mids = self.spot0 * np.exp(noise + ramp * self.move_bps / 1e4)
        half = np.maximum(0.005, mids * rng.uniform(0.00005, 0.0002))
        rows.underlying.append(
            pd.DataFrame(
                {
                    "ts": times,
                    "underlying": self.underlying,
                    "bid": np.round(mids - half, 2),
                    "ask": np.round(mids + half, 2),
                }
            )
        )
        return times, mids

    def leg_quotes(
        self, rows: _Rows, leg: _Leg, spot_t: np.ndarray, spot: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rng = self.rng
        sparse = np.arange(self.start - 12 * SECOND, self.start - 3 * SECOND, SECOND)
        dense = np.arange(self.start - 3 * SECOND, self.start + 2 * SECOND, 150 * MS)
        times = np.concatenate([sparse, dense]) + rng.integers(0, 100 * MS, size=len(sparse) + len(dense))
        if self.freeze_quotes_before_ns is not None:
            times = times[times < self.freeze_quotes_before_ns]
        s = spot[np.clip(np.searchsorted(spot_t, times, side="right") - 1, 0, len(spot) - 1)]
        t_years = np.maximum(_close_ns(leg.expiry) - times, 60 * SECOND) / (365 * 86400 * SECOND)
        progress = np.clip((times - self.start) / (400 * MS), 0, 1)
        vol = self.vol + self.iv_ramp * progress
        mid = bs_price(s, leg.strike, t_years, vol, leg.right == "C", RATE)
        half = np.maximum(0.01, 0.5 * self.spread_rel * (1 + self.spread_ramp * progress) * mid)
        bid = np.maximum(0.0, np.floor((mid - half) * 100) / 100)
        ask = np.maximum(bid + 0.01, np.ceil((mid + half) * 100) / 100)
        rows.quotes.append(
            pd.DataFrame(
                {
                    "ts": times,
                    "underlying": self.underlying,
                    "expiry": pd.Timestamp(leg.expiry),
                    "strike": leg.strike,
                    "right": leg.right,
                    "bid": bid,
                    "ask": ask,
                }
            )
        )
        return times, bid, ask

    # --- prints -----------------------------------------------------------------------------
    def emit(
        self,
        rows: _Rows,
        leg: _Leg,
        quotes,
        offsets_ms: np.ndarray,
        sizes: np.ndarray,
        placements: list[str],
        conditions: list[str],
        venues: list[str],
    ) -> list[str]:
        q_t, bid, ask = quotes
        ids = []
        for off, size, place, condition, venue in zip(offsets_ms, sizes, placements, conditions, venues):
            ts = self.start + int(off * MS)
            i = int(np.searchsorted(q_t, ts, side="right")) - 1
            b, a = (bid[i], ask[i]) if i >= 0 else (0.05, 0.10)
            spread = a - b
            price = {
                "AA": a + max(0.01, 0.1 * spread),
                "A": a,
                "MID": round((a + b) / 2, 3),
                "B": b,
                "BB": max(0.01, b - max(0.01, 0.1 * spread)),
            }[place]
            if place == "BB" and price >= b:  # no room below a zero bid: a plain bid hit
                price = b
            self.print_seq += 1
            pid = f"{self.underlying}-{self.print_seq:03d}"
            ids.append(pid)
            rows.prints.append(
                {
                    "print_id": pid, "ts": ts, "underlying": self.underlying, "expiry": pd.Timestamp(leg.expiry),
                    "strike": leg.strike, "right": leg.right, "price": round(float(max(price, 0.01)), 3),
                    "size": int(size),
                    "venue": venue, "condition": condition, "multiplier": 100, "ref_print_id": None,
                }
            )  # fmt: skip
        return ids

    def mix(self, n: int, weights: dict[str, float]) -> list[str]:
        names = list(weights)
        p = np.array([weights[k] for k in names], dtype=float)
        return list(self.rng.choice(names, size=n, p=p / p.sum()))

    def burst_offsets(self, n: int, max_gap_ms: float = 40.0, span_ms: float = 450.0) -> np.ndarray:
        gaps = self.rng.uniform(1.0, max_gap_ms, size=n)
        gaps[0] = 0.0
        offsets = np.cumsum(gaps)
        if offsets[-1] > span_ms:
            offsets *= span_ms / offsets[-1]
        return offsets


def _label(
    rows: _Rows,
    sc: _Scenario,
    ids: list[str],
    profile: str | None,
    direction: str,
    forward: float,
    ambiguous: bool = False,
) -> None:
    rows.labels.append(
        {
            "scenario_id": f"{sc.underlying}", "family": sc.family, "variant": sc.variant, "true_profile": profile,
            "ambiguous": ambiguous, "expect_abstain": sc.family in EXPECT_ABSTAIN, "intended_direction": direction,
            "forward_return_1d": forward, "print_ids": ids, "underlying": sc.underlying,
        }
    )  # fmt: skip


def _forward(rng: np.random.Generator, direction: str, informed: bool) -> float:
    """Hidden next-day return: informed flow is right 62% of the time, the rest is noise."""
    if informed and direction in ("bullish", "bearish"):
        sign = 1.0 if direction == "bullish" else -1.0
        right = rng.random() < 0.62
        return float(sign * (1 if right else -1) * abs(rng.normal(0.004, 0.01)))
    return float(rng.normal(0.0, 0.015))


def _build(
    rows: _Rows,
    rng: np.random.Generator,
    idx: int,
    family: str,
    variant: str,
    day: date,
    seed: int,
    dst_days: tuple[date, ...] = DST_DAYS,
) -> None:
    """One scenario on `day`; a `dst_0dte` hedge happens on one of `dst_days` instead (none: on `day`)."""
    sc = _Scenario(rng, idx, family, variant, day, seed)
    venues = lambda k, n: list(rng.choice(VENUES[:k] if k else VENUES, size=n))  # noqa: E731
    calendar_far = True
    t_years = lambda exp: max(_close_ns(exp) - sc.start, 60 * SECOND) / (365 * 86400 * SECOND)  # noqa: E731

    def single(leg: _Leg, n: int, size_range, weights, conditions_p, n_venues, max_gap=40.0):
        spot_t, spot = sc.spot_path(rows)
        quotes = sc.leg_quotes(rows, leg, spot_t, spot)
        offsets = sc.burst_offsets(n, max_gap)
        sizes = rng.integers(size_range[0], size_range[1] + 1, size=n)
        cond = sc.mix(n, conditions_p)
        return sc.emit(
            rows,
            leg,
            quotes,
            offsets,
            sizes,
            sc.mix(n, weights),
            cond,
            venues(n_venues, n) if n_venues else [VENUES[rng.integers(len(VENUES))]] * n,
        )

    def multi(
        legs: list[_Leg],
        per_leg: int,
        size: int,
        placement_noise: float,
        condition: str,
        simultaneous: bool,
        mid_legs: tuple[int, ...] = (),
        leg_gap_ms: tuple[float, float] | None = None,
        partial_fills: bool = False,
        tied_sides: bool = False,
    ):
        """A package: `per_leg` prints per leg. `mid_legs` print at the mid; `leg_gap_ms` reports
        the legs that far apart (else together); `partial_fills` splits each leg's `size` into
        unequal fills (equal totals per leg); `tied_sides` places prints anywhere in the spread
        (a tied or auctioned package: placement tells nothing about the side)."""
        spot_t, spot = sc.spot_path(rows)
        ids = []
        leg_start = 0.0
        for j, leg in enumerate(legs):
            quotes = sc.leg_quotes(rows, leg, spot_t, spot)
            if leg_gap_ms is not None and j:
                leg_start += rng.uniform(*leg_gap_ms)
            if simultaneous:
                offsets = np.arange(per_leg) * 1.0 + (j * 0.5 if leg_gap_ms is None else leg_start)
            else:
                offsets = sc.burst_offsets(per_leg, span_ms=60.0 if leg_gap_ms else 450.0) + (
                    j * rng.uniform(0, 40) if leg_gap_ms is None else leg_start
                )
            if partial_fills:
                shares = rng.dirichlet(np.full(per_leg, 2.0))
                sizes = np.maximum(1, np.floor(shares * size)).astype(int)
                sizes[-1] = max(1, size - int(sizes[:-1].sum()))
            else:
                sizes = np.full(per_leg, size) + (
                    rng.integers(-int(size * 0.02), int(size * 0.02) + 1, size=per_leg) if size > 50 else 0
                )
            right_side = "A" if leg.side > 0 else "B"
            if j in mid_legs:
                placements = ["MID"] * per_leg
            elif tied_sides:
                placements = sc.mix(per_leg, {"MID": 0.6, "A": 0.2, "B": 0.2})
            else:
                placements = [right_side if rng.random() >= placement_noise else "MID" for _ in range(per_leg)]
            ids += sc.emit(rows, leg, quotes, offsets, sizes, placements, [condition] * per_leg, venues(4, per_leg))
        return ids

    if family == "institutional_directional":
        right = "C" if variant == "call_sweep" else "P"
        expiry = _expiry(day, int(rng.choice([21, 30, 45, 60, 90])))
        strike = _strike_for_delta(sc.spot0, sc.vol, t_years(expiry), rng.uniform(0.32, 0.6), right)
        sc.iv_ramp = rng.uniform(0.005, 0.02)
        n = int(rng.integers(6, 11))
        price = float(bs_price(sc.spot0, strike, t_years(expiry), sc.vol, right == "C", RATE))
        per_print = max(50, int(rng.uniform(300_000, 1_500_000) / (n * max(price, 0.05) * 100)))
        ids = single(
            _Leg(strike, right, expiry, 1),
            n,
            (int(per_print * 0.7), int(per_print * 1.3)),
            {"A": 0.7, "AA": 0.12, "MID": 0.1, "B": 0.08},
            {"S": 0.6, "I": 0.4},
            6,
        )
        direction = "bullish" if right == "C" else "bearish"
        _label(rows, sc, ids, family, direction, _forward(rng, direction, True))
    elif family == "retail_whale":
        sc.vol = float(rng.uniform(0.6, 1.0))
        sc.spread_rel = float(rng.uniform(0.08, 0.22))
        sc.iv_ramp = rng.uniform(0.03, 0.08)
        expiry = _expiry(day, int(rng.integers(1, 6)))
        strike = _strike_for_delta(sc.spot0, sc.vol, t_years(expiry), rng.uniform(0.1, 0.3), "C")
        ids = single(
            _Leg(strike, "C", expiry, 1),
            int(rng.integers(12, 31)),
            (3, 20),
            {"A": 0.6, "AA": 0.1, "MID": 0.2, "B": 0.1},
            {"I": 0.6, "a": 0.35, "S": 0.05},
            5,
            max_gap=30.0,
        )
        _label(rows, sc, ids, family, "bullish", _forward(rng, "bullish", False))
    elif family == "event_driven" or (family == "ambiguous" and variant == "block_before_event"):
        days_to_event = (
            rng.uniform(0.6, 2.0)
            if variant == "earnings_within_48h"
            else rng.uniform(5, 15)
            if family == "ambiguous"
            else rng.uniform(2, 18)
        )
        event_ts = sc.start + int(days_to_event * 86400 * SECOND)
        event_day = pd.Timestamp(event_ts, tz="UTC").tz_convert(NEW_YORK).date()
        rows.calendar.append(
            {
                "underlying": sc.underlying,
                "event_type": "earnings",
                "announced_ts": sc.start - int(rng.uniform(10, 40) * 86400 * SECOND),
                "event_ts": event_ts,
            }
        )
        calendar_far = False
        expiry = _expiry(event_day, int(rng.integers(1, 6)))
        sc.spread_rel = float(rng.uniform(0.03, 0.08))
        sc.spread_ramp = rng.uniform(0.2, 0.5)
        sc.iv_ramp = 0.01
        if family == "ambiguous":
            right = "C"
            strike = _strike_for_delta(sc.spot0, sc.vol, t_years(expiry), rng.uniform(0.27, 0.38), right)
            price = float(bs_price(sc.spot0, strike, t_years(expiry), sc.vol, True, RATE))
            n = int(rng.integers(6, 10))
            per_print = max(50, int(rng.uniform(300_000, 800_000) / (n * max(price, 0.05) * 100)))
            ids = single(
                _Leg(strike, right, expiry, 1),
                n,
                (int(per_print * 0.8), int(per_print * 1.2)),
                {"A": 0.75, "AA": 0.1, "MID": 0.1, "B": 0.05},
                {"S": 0.5, "I": 0.5},
                5,
            )
            truth = str(rng.choice(["institutional_directional", "event_driven"]))
            _label(rows, sc, ids, truth, "bullish", _forward(rng, "bullish", True), ambiguous=True)
        elif variant in ("straddle_before_event", "straddle_mid_leg"):
            strike = _round_strike(sc.spot0, 1.0)
            size = int(
                max(
                    20,
                    rng.uniform(40_000, 180_000)
                    / (2 * 3 * max(float(bs_price(sc.spot0, strike, t_years(expiry), sc.vol, True, RATE)), 0.05) * 100),
                )
            )
            legs = [_Leg(strike, "C", expiry, 1), _Leg(strike, "P", expiry, 1)]
            if variant == "straddle_mid_leg":
                ids = multi(legs, 3, size, 0.1, "I", False, mid_legs=(int(rng.integers(2)),), leg_gap_ms=(50, 300))
            else:
                ids = multi(legs, 3, size, 0.1, "I", False)
            _label(rows, sc, ids, family, "mixed", _forward(rng, "mixed", True))
        else:
            right = "C" if rng.random() < 0.7 else "P"
            strike = _strike_for_delta(sc.spot0, sc.vol, t_years(expiry), rng.uniform(0.2, 0.35), right)
            price = float(bs_price(sc.spot0, strike, t_years(expiry), sc.vol, right == "C", RATE))
            n = int(rng.integers(2, 7))
            per_print = max(10, int(rng.uniform(35_000, 200_000) / (n * max(price, 0.05) * 100)))
            ids = single(
                _Leg(strike, right, expiry, 1),
                n,
                (int(per_print * 0.8), int(per_print * 1.2)),
                {"A": 0.8, "AA": 0.05, "MID": 0.12, "B": 0.03},
                {"I": 0.8, "S": 0.2},
                3,
            )
            direction = "bullish" if right == "C" else "bearish"
            _label(rows, sc, ids, family, direction, _forward(rng, direction, True))
    elif family == "vol_seller":
        expiry = _expiry(day, int(rng.integers(30, 61)))
        sold = {"B": 0.6, "BB": 0.2, "MID": 0.17, "A": 0.03}
        if variant in ("short_straddle", "short_straddle_mid_leg"):
            strike = _round_strike(sc.spot0, 1.0)
            ids = multi(
                [_Leg(strike, "C", expiry, -1), _Leg(strike, "P", expiry, -1)],
                int(rng.integers(2, 4)),
                int(rng.integers(100, 400)),
                0.1,
                "f",
                False,
                mid_legs=(int(rng.integers(2)),) if variant == "short_straddle_mid_leg" else (),
            )
            direction = "neutral"
        elif variant == "roll":
            near, far = _expiry(day, int(rng.integers(8, 13))), _expiry(day, int(rng.integers(40, 71)))
            strike = _round_strike(sc.spot0, rng.uniform(1.0, 1.04))
            ids = multi(
                [_Leg(strike, "C", near, 1), _Leg(strike, "C", far, -1)],
                int(rng.integers(2, 4)),
                int(rng.integers(100, 500)),
                0.05,
                "f",
                False,
            )
            direction = "bearish"
        else:
            right = "P" if variant == "put_write" else "C"
            strike = _round_strike(sc.spot0, rng.uniform(0.9, 0.95) if right == "P" else rng.uniform(1.02, 1.08))
            condition = {"n": 1.0} if variant == "buy_write" else {"I": 0.8, "S": 0.2}
            ids = single(_Leg(strike, right, expiry, -1), int(rng.integers(3, 7)), (100, 400), sold, condition, 3)
            direction = "bullish" if right == "P" else "bearish"
        _label(rows, sc, ids, family, direction, _forward(rng, direction, False))
    elif family == "arbitrage":
        expiry = _expiry(day, int(rng.integers(30, 120)))
        size = int(rng.integers(200, 1000))
        if variant == "box":
            k1, k2 = _round_strike(sc.spot0, 0.95), _round_strike(sc.spot0, 1.05)
            legs = [
                _Leg(k1, "C", expiry, 1),
                _Leg(k2, "C", expiry, -1),
                _Leg(k2, "P", expiry, 1),
                _Leg(k1, "P", expiry, -1),
            ]
            ids = multi(legs, 1, size, 0.0, "f", True)
        elif variant in ("box_mid", "box_staggered"):
            k1 = _round_strike(sc.spot0, rng.uniform(0.85, 0.97))
            k2 = _round_strike(sc.spot0, rng.uniform(1.03, 1.15))
            legs = [
                _Leg(k1, "C", expiry, 1),
                _Leg(k2, "C", expiry, -1),
                _Leg(k2, "P", expiry, 1),
                _Leg(k1, "P", expiry, -1),
            ]
            order = rng.permutation(4)
            legs = [legs[i] for i in order]
            if variant == "box_mid":
                code = str(rng.choice(["f", "g", "h", "j"]))
                ids = multi(legs, 1, size, 0.0, code, True, mid_legs=(0, 1, 2, 3))
            else:
                ids = multi(
                    legs, int(rng.integers(1, 4)), size, 0.0, str(rng.choice(["f", "g", "j"])), True,
                    leg_gap_ms=(80, 140), partial_fills=True, tied_sides=True,
                )  # fmt: skip
        elif variant == "conversion_mid":
            k = _round_strike(sc.spot0, rng.uniform(0.97, 1.03))
            code = str(rng.choice(["n", "k", "o", "q"]))
            legs = [_Leg(k, "C", expiry, -1), _Leg(k, "P", expiry, 1)]
            ids = multi([legs[i] for i in rng.permutation(2)], 1, size, 0.0, code, True, mid_legs=(0, 1))
        elif variant == "reversal_partial":
            k = _round_strike(sc.spot0, rng.uniform(0.95, 1.05))
            legs = [_Leg(k, "C", expiry, 1), _Leg(k, "P", expiry, -1)]
            ids = multi(
                [legs[i] for i in rng.permutation(2)], int(rng.integers(2, 4)), size, 0.0, str(rng.choice(["n", "q"])),
                True, leg_gap_ms=(100, 400), partial_fills=True, tied_sides=True,
            )  # fmt: skip
        else:
            k = _round_strike(sc.spot0, 1.0)
            ids = multi([_Leg(k, "C", expiry, -1), _Leg(k, "P", expiry, 1)], 1, size, 0.0, "n", True)
        _label(rows, sc, ids, family, "neutral", _forward(rng, "neutral", False))
    elif family == "hedge_reactive":
        if variant == "collar":
            expiry = _expiry(day, int(rng.integers(45, 121)))
            size = int(rng.integers(200, 1200))
            legs = [
                _Leg(_round_strike(sc.spot0, rng.uniform(0.92, 0.96)), "P", expiry, 1),
                _Leg(_round_strike(sc.spot0, rng.uniform(1.04, 1.08)), "C", expiry, -1),
            ]
            ids = multi(legs, int(rng.integers(2, 4)), size, 0.05, "I", False)
            _label(rows, sc, ids, family, "bearish", _forward(rng, "bearish", False))
        else:
            session = dst_days[idx % len(dst_days)] if variant == "dst_0dte" and dst_days else day
            if session != day:
                sc.day = session
            sc.start = (
                _ns(session, time(15, 59)) + int(rng.uniform(0, 50)) * SECOND
                if variant in ("close_0dte", "dst_0dte")
                else _ns(session, time(11, 0)) + int(rng.uniform(0, 4.8 * 3600)) * SECOND
            )
            expiry = (
                _expiry(session, int(rng.integers(1, 3)))
                if variant == "slow_drop_1dte"
                else _expiry(session, 1)
                if variant == "dealer_1dte"
                else session
            )
            sc.move_bps = float(rng.choice([-1, 1]) * rng.uniform(40, 110))
            if variant == "slow_drop_1dte":  # built over about two minutes, over shortly before
                sc.move_begin_s, sc.move_end_s = rng.uniform(100, 180), rng.uniform(10, 40)
                sc.move_bps = -rng.uniform(45, 120)
            elif variant == "slow_drop_0dte":  # over about five minutes
                sc.move_begin_s, sc.move_end_s = rng.uniform(240, 330), rng.uniform(20, 60)
                sc.move_bps = -rng.uniform(55, 130)
            right = "P" if sc.move_bps < 0 else "C"
            strike = _round_strike(sc.spot0 * np.exp(sc.move_bps / 1e4), 1.0)
            sizes = (2000, 8000) if variant in ("close_0dte", "dst_0dte") else (500, 2500)
            ids = single(
                _Leg(strike, right, expiry, 1),
                int(rng.integers(1, 5)),
                sizes,
                {"A": 0.5, "B": 0.3, "MID": 0.2},
                {"I": 1.0},
                3,
            )
            direction = "bearish" if sc.move_bps < 0 else "bullish"
            _label(rows, sc, ids, family, direction, _forward(rng, direction, False))
    elif family == "neutral_noise":
        right = "C" if rng.random() < 0.5 else "P"
        expiry = _expiry(day, int(rng.integers(3, 91)))
        strike = _round_strike(sc.spot0, rng.uniform(1.02, 1.15) if right == "C" else rng.uniform(0.85, 0.98))
        sc.spread_rel = float(rng.uniform(0.02, 0.15))
        price = float(bs_price(sc.spot0, strike, t_years(expiry), sc.vol, right == "C", RATE))
        background = {"I": 0.63, "a": 0.23, "f": 0.10, "S": 0.04}
        if variant == "mixed_medium":  # larger but two-sided and mostly inside the spread
            n = int(rng.integers(3, 7))
            clip = max(1, int(rng.uniform(10_000, 60_000) / (n * max(price, 0.05) * 100)))
            placements = ["A", "B"] + sc.mix(n - 2, {"MID": 0.7, "A": 0.15, "B": 0.15})
            spot_t, spot = sc.spot_path(rows)
            quotes = sc.leg_quotes(rows, _Leg(strike, right, expiry, 1), spot_t, spot)
            ids = sc.emit(
                rows,
                _Leg(strike, right, expiry, 1),
                quotes,
                sc.burst_offsets(n),
                rng.integers(max(1, clip // 2), clip + 1, size=n),
                list(rng.permutation(placements)),
                sc.mix(n, background),
                venues(3, n),
            )
        elif variant == "mid_package":  # a small two-leg package crossed at the mid: no side, no profile
            k = _round_strike(sc.spot0, 1.0)
            legs = (
                [_Leg(k, "C", expiry, 1), _Leg(k, "P", expiry, 1)]
                if rng.random() < 0.5
                else [_Leg(k, right, expiry, 1), _Leg(strike, right, expiry, -1)]
            )
            clip = max(1, int(rng.uniform(1_000, 8_000) / (2 * max(price, 0.05) * 100)))
            ids = multi(legs, 1, clip, 0.0, str(rng.choice(["f", "g", "I"])), True, mid_legs=(0, 1))
        else:  # retail-sized odd lots: premium well under $10k
            n = int(rng.integers(1, 4))
            clip = max(1, int(rng.uniform(800, 9_000) / (n * max(price, 0.05) * 100)))
            ids = single(
                _Leg(strike, right, expiry, 1),
                n,
                (max(1, clip // 2), clip),
                {"A": 0.22, "B": 0.18, "MID": 0.6},
                background,
                1,
            )
        if variant == "with_cancel":  # a cancel record for the first print and a late report
            first = rows.prints[-len(ids)]
            rows.prints.append(
                {
                    **first,
                    "print_id": f"{sc.underlying}-cxl",
                    "ts": first["ts"] + 5 * MS,
                    "condition": "A",
                    "ref_print_id": first["print_id"],
                }
            )
            rows.prints.append(
                {**first, "print_id": f"{sc.underlying}-late", "ts": first["ts"] + 7 * MS, "condition": "D"}
            )
            ids = ids[1:]
        if ids:
            _label(rows, sc, ids, None, "unknown", _forward(rng, "unknown", False))
    elif family == "no_move_flow":  # hedge-sized short-dated ATM flow, nothing to hedge
        sc.start = _ns(day, time(11, 0)) + int(rng.uniform(0, 4.8 * 3600)) * SECOND
        if variant == "slow_drift":  # a drift well under the move thresholds over 10-15 min
            sc.move_begin_s, sc.move_end_s = rng.uniform(600, 900), rng.uniform(0, 30)
            sc.move_bps = float(rng.choice([-1, 1]) * rng.uniform(5, 20))
        right = "P" if rng.random() < 0.5 else "C"
        expiry = _expiry(day, int(rng.integers(0, 3)))
        strike = _round_strike(sc.spot0 * np.exp(sc.move_bps / 1e4), 1.0)
        ids = single(
            _Leg(strike, right, expiry, 1),
            int(rng.integers(1, 5)),
            (500, 2500),
            {"A": 0.5, "B": 0.3, "MID": 0.2},
            {"I": 1.0},
            3,
        )
        _label(rows, sc, ids, None, "unknown", _forward(rng, "unknown", False))
    elif family == "stale_quote_chop":
        expiry = _expiry(day, int(rng.integers(14, 60)))
        strike = _round_strike(sc.spot0, 1.0)
        sc.freeze_quotes_before_ns = sc.start - int(rng.uniform(1.5, 5) * SECOND)
        sc.move_bps = float(rng.choice([-1, 1]) * rng.uniform(30, 60))
        ids = single(
            _Leg(strike, "C", expiry, 1),
            int(rng.integers(3, 9)),
            (100, 600),
            {"A": 0.4, "B": 0.3, "MID": 0.3},
            {"I": 1.0},
            3,
        )
        _label(rows, sc, ids, None, "unknown", _forward(rng, "unknown", False))
    elif family == "wide_chop":
        right = "C" if rng.random() < 0.5 else "P"
        expiry = _expiry(day, int(rng.integers(7, 60)))
        strike = _round_strike(sc.spot0, rng.uniform(0.85, 1.15))
        sc.spread_rel = float(rng.uniform(0.1, 0.3))
        price = float(bs_price(sc.spot0, strike, t_years(expiry), sc.vol, right == "C", RATE))
        n = int(rng.integers(2, 6))
        clip = max(1, int(rng.uniform(2_000, 9_500) / (n * max(price, 0.05) * 100)))
        ids = single(
            _Leg(strike, right, expiry, 1),
            n,
            (max(1, clip // 2), clip),
            {"A": 0.35, "B": 0.35, "MID": 0.3},
            {"I": 0.7, "a": 0.3},
            2,
        )
        _label(rows, sc, ids, None, "unknown", _forward(rng, "unknown", False))
    elif family == "auction_block":
        right = "C" if rng.random() < 0.5 else "P"
        expiry = _expiry(day, int(rng.integers(21, 61)))
        strike = _strike_for_delta(sc.spot0, sc.vol, t_years(expiry), rng.uniform(0.3, 0.55), right)
        price = float(bs_price(sc.spot0, strike, t_years(expiry), sc.vol, right == "C", RATE))
        size = max(100, int(rng.uniform(300_000, 1_000_000) / (max(price, 0.05) * 100)))
        code = "c" if variant == "cross_at_ask" else "a"
        ids = single(_Leg(strike, right, expiry, 1), 1, (size, size), {"A": 1.0}, {code: 1.0}, 1)
        _label(rows, sc, ids, None, "unknown", _forward(rng, "unknown", False))
    elif family == "ambiguous":  # short-dated sweep: institutional size, retail tenor
        expiry = _expiry(day, int(rng.integers(3, 7)))
        sc.vol = float(rng.uniform(0.4, 0.7))
        strike = _round_strike(sc.spot0, rng.uniform(1.05, 1.1))
        price = float(bs_price(sc.spot0, strike, t_years(expiry), sc.vol, True, RATE))
        n = int(rng.integers(6, 11))
        per_print = max(60, int(250_000 / (n * max(price, 0.05) * 100)))
        ids = single(
            _Leg(strike, "C", expiry, 1),
            n,
            (int(per_print * 0.8), int(per_print * 1.2)),
            {"A": 0.75, "AA": 0.1, "MID": 0.1, "B": 0.05},
            {"S": 1.0},
            5,
        )
        truth = str(rng.choice(["institutional_directional", "retail_whale"]))
        _label(
            rows,
            sc,
            ids,
            truth,
            "bullish",
            _forward(rng, "bullish", truth == "institutional_directional"),
            ambiguous=True,
        )
    else:  # pragma: no cover - guarded by FAMILIES
        raise ValueError(f"unknown family {family}")
    if calendar_far and rng.random() < 0.7:  # most names have a known, distant next earnings date
        rows.calendar.append(
            {
                "underlying": sc.underlying,
                "event_type": "earnings",
                "announced_ts": sc.start - 20 * 86400 * SECOND,
                "event_ts": sc.start + int(rng.uniform(40, 80) * 86400 * SECOND),
            }
        )


def _assemble(rows: _Rows) -> tuple[MarketTape, pd.DataFrame]:
    prints = pd.DataFrame(rows.prints)
    prints["ts"] = pd.to_datetime(prints["ts"], unit="ns", utc=True)
    quotes = pd.concat(rows.quotes, ignore_index=True)
    quotes["ts"] = pd.to_datetime(quotes["ts"], unit="ns", utc=True)
    underlying = pd.concat(rows.underlying, ignore_index=True)
    underlying["ts"] = pd.to_datetime(underlying["ts"], unit="ns", utc=True)
    calendar = pd.DataFrame(rows.calendar, columns=["underlying", "event_type", "announced_ts", "event_ts"])
    for col in ("announced_ts", "event_ts"):
        calendar[col] = pd.to_datetime(calendar[col], unit="ns", utc=True)
    tape = MarketTape(
        prints.sort_values(["ts", "print_id"], ignore_index=True),
        quotes.sort_values("ts", kind="stable", ignore_index=True),
        underlying.sort_values("ts", kind="stable", ignore_index=True),
        calendar,
    )
    return tape, pd.DataFrame(rows.labels)


def _variants() -> list[tuple[str, str, float]]:
    return [(family, variant, weight) for family, variants in FAMILIES.items() for variant, weight in variants]


def _dates(day: date | None) -> tuple[date, tuple[date, ...]]:
    """(the scenarios' day, the DST sessions of the `dst_0dte` hedges): see the module docstring."""
    return (DEFAULT_DAY, DST_DAYS) if day is None else (day, ())


def generate_market(n_scenarios: int, seed: int, day: date | None = None) -> tuple[MarketTape, pd.DataFrame]:
    """`n_scenarios` random scenarios drawn with the family mix; (tape, hidden labels). With
    `day`, every scenario happens on that day (a daily partition)."""
    day, dst_days = _dates(day)
    rng = np.random.default_rng(seed)
    variants = _variants()
    weights = np.array([w for *_, w in variants])
    picks = rng.choice(len(variants), size=n_scenarios, p=weights / weights.sum())
    rows = _Rows()
    for idx, pick in enumerate(picks):
        family, variant, _ = variants[pick]
        _build(rows, np.random.default_rng([seed, idx]), idx, family, variant, day, seed, dst_days)
    return _assemble(rows)


def catalogue(per_variant: int = 3, seed: int = 11, day: date | None = None) -> tuple[MarketTape, pd.DataFrame]:
    """The fixed test catalogue: `per_variant` scenarios of every family and variant (with
    `day`, all on that day)."""
    day, dst_days = _dates(day)
    rows = _Rows()
    idx = 0
    for family, variant, _ in _variants():
        for _ in range(per_variant):
            _build(rows, np.random.default_rng([seed, idx]), idx, family, variant, day, seed, dst_days)
            idx += 1
    return _assemble(rows)


def stream_market(
    tape: MarketTape, batch_ms: int = 250, max_delay_ms: int = 40, seed: int = 0
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]:
    """The tape as a live feed: micro-batches of (prints, quotes, underlying) in arrival order,
    each record delayed by up to `max_delay_ms` after its event time (so arrival order is not
    event order). Works on raw or normalized tapes alike; empty windows are skipped."""
    rng = np.random.default_rng(seed)
    frames = [tape.prints, tape.quotes, tape.underlying]
    arrivals = []
    for frame in frames:
        ts = frame["ts"].to_numpy(dtype="datetime64[ns]").view(np.int64)
        arrivals.append(ts + rng.integers(0, max_delay_ms * MS + 1, size=len(ts)))
    start = min(int(a.min()) for a in arrivals if len(a))
    bins = [(a - start) // (batch_ms * MS) for a in arrivals]
    windows = np.unique(np.concatenate(bins))
    order = [np.argsort(a, kind="stable") for a in arrivals]
    cuts = [np.searchsorted(b[o], np.append(windows, windows[-1] + 1)) for b, o in zip(bins, order)]
    arrived = [frame.iloc[o].reset_index(drop=True) for frame, o in zip(frames, order)]
    for k in range(len(windows)):
        yield tuple(frame.iloc[c[k] : c[k + 1]] for frame, c in zip(arrived, cuts))  # type: ignore[misc]


def replicate(tape: MarketTape, copies: int) -> MarketTape:
    """`copies` copies of a tape on renamed underlyings (`<name>R<k>`) and print IDs, for
    load tests: same content per copy, disjoint names, so copies never interact."""

    def tiled(frame: pd.DataFrame, id_columns: tuple[str, ...]) -> pd.DataFrame:
        parts = []
        for k in range(copies):
            part = frame.copy()
            for col in id_columns:
                part[col] = part[col].where(part[col].isna(), part[col].astype(str) + f"R{k}")
            parts.append(part)
        out = pd.concat(parts, ignore_index=True)
        return out.sort_values("ts", kind="stable", ignore_index=True) if "ts" in out else out

    return MarketTape(
        tiled(tape.prints, ("print_id", "underlying", "ref_print_id")),
        tiled(tape.quotes, ("underlying",)),
        tiled(tape.underlying, ("underlying",)),
        tiled(tape.calendar, ("underlying",)),
    )
