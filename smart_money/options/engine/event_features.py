"""Features of parent events, computed from the prints, the NBBO, the underlying and the
event calendar: vectorized over all events at once (no per-event Python).

Point in time: every join is as-of (the last quote with quote_ts <= print_ts); the underlying
move looks back from the first print to the last; the calendar only shows entries with
announced_ts <= t. Nothing here reads next-day open interest or forward returns (batch-only
data never reaches live scoring). Missing inputs give nulls, never made-up defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from smart_money.options.engine import conditions as cond
from smart_money.options.engine.frames import NormalizedTape, contracts, name_codes
from smart_money.options.engine.kernels import asof_join
from smart_money.options.engine.pricing import bs_delta, bs_vega, implied_vol
from smart_money.options.engine.reconstruction import (
    MS,
    Reconstruction,
    ReconstructionConfig,
    code_order,
    reconstruct,
)

NEW_YORK = ZoneInfo("America/New_York")
SESSION_CLOSE = time(16, 0)
DAY_NS = 86_400 * 1_000_000_000
SECOND_NS = 1_000_000_000
PLACEMENTS = ("AA", "A", "MID", "B", "BB")
AA, A, MID, B, BB, STALE, MISSING, UNUSABLE = range(8)
LETTERS = tuple(sorted(cond.CONDITIONS))
# Horizons of the underlying's move, as of the event's first print (feature `move_<label>_bps`).
MOVE_HORIZONS_S = {"30s": 30, "2m": 120, "5m": 300, "15m": 900}
# Fields that exist only after the fact; they must never be features (checked by the tests).
BATCH_ONLY_FIELDS = ("next_day_oi_change", "forward_return_1d", "forward_return_5d")


@dataclass(frozen=True)
class FeatureConfig:
    stale_quote_ms: float = 1_000.0
    placement_tolerance_min: float = 0.01
    placement_tolerance_spread_share: float = 0.05
    spot_fresh_ms: float = 1_000.0
    move_lookback_s: float = 30.0  # `underlying_move_bps`: the move over this look-back
    # the move is also read over MOVE_HORIZONS_S; a move of `scale` bp at a horizon has strength 1
    move_scale_bps: tuple[float, ...] = (15.0, 27.0, 43.0, 75.0)  # about 3 sd of a 20% vol name
    sweep_max_gap_ms: float = 50.0
    sweep_min_prints: int = 3
    rate: float = 0.04
    dividend_yield: float = 0.0
    event_horizon_days: float = 21.0
    stock_tied_share: float = 0.5  # share of stock-tied prints that makes a package stock-tied


def expiry_close_ns(expiry: pd.Series) -> np.ndarray:
    """16:00 America/New_York on each expiry date, in UTC epoch ns (DST-aware)."""
    days = expiry.to_numpy(dtype="datetime64[D]")
    uniques, inverse = np.unique(days, return_inverse=True)
    closes = np.array(
        [
            int(datetime.combine(pd.Timestamp(d).date(), SESSION_CLOSE, NEW_YORK).timestamp()) * SECOND_NS
            for d in uniques
        ],
        dtype=np.int64,
    )
    return closes[inverse]


def new_york_day(ts_ns: np.ndarray) -> np.ndarray:
    """Calendar date in New York of each UTC timestamp, as days since the epoch. UTC offsets
    change only on whole hours, so converting each distinct UTC hour is exact (and cheap)."""
    hours, inverse = np.unique(ts_ns // (3600 * SECOND_NS), return_inverse=True)
    local = (
        pd.DatetimeIndex((hours * 3600 * SECOND_NS).astype("datetime64[ns]"), tz="UTC")
        .tz_convert(NEW_YORK)
        .tz_localize(None)
    )
    return local.to_numpy(dtype="datetime64[D]").astype(np.int64)[inverse]


def _contract_codes(prints: pd.DataFrame, quotes: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """A code per print and per quote row for its option contract: the quotes' own dictionary
    codes, and the prints' contracts mapped into them once per distinct contract (-1: a
    contract without quotes), so the long quote table is never mapped row by row."""
    p_contract = contracts(prints)
    if not len(quotes):
        return np.full(len(p_contract), -1, np.int64), np.zeros(0, np.int64)
    q_contract = contracts(quotes)
    per_category = np.append(pd.Index(q_contract.categories).get_indexer(p_contract.categories), -1)
    return per_category[p_contract.codes], q_contract.codes.astype(np.int64)


def _dictionary(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """A column's codes (-1: missing) and the names they stand for: a dictionary-encoded
    column's own codes (no per-row work), else a factorization."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy().astype(np.int64), pd.Index(values.cat.categories)
    codes, names = pd.factorize(values.to_numpy())
    return codes.astype(np.int64), pd.Index(names)


def _seg(values: np.ndarray, offsets: np.ndarray, ufunc=np.add) -> np.ndarray:
    """ufunc.reduceat over contiguous non-empty segments starting at `offsets`."""
    if len(offsets) == 0:
        return np.zeros(0, dtype=values.dtype)
    return ufunc.reduceat(values, offsets)


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _segment_median(values: np.ndarray, segment: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    order = np.lexsort((values, segment))
    ordered = values[order].astype(float)
    lo = starts + (lengths - 1) // 2
    hi = starts + lengths // 2
    return 0.5 * (ordered[lo] + ordered[hi])


def _count_distinct(segment: np.ndarray, values: np.ndarray, n_segments: int) -> np.ndarray:
    order = np.lexsort((values, segment))
    seg, val = segment[order], values[order]
    new = np.ones(len(seg), dtype=bool)
    new[1:] = (seg[1:] != seg[:-1]) | (val[1:] != val[:-1])
    return np.bincount(seg[new], minlength=n_segments)


def compute_features(
    rec: Reconstruction,
    quotes: pd.DataFrame,
    underlying: pd.DataFrame,
    calendar: pd.DataFrame | None,
    cfg: FeatureConfig = FeatureConfig(),
) -> pd.DataFrame:
    """One row per event of `rec.events` (same order) with every feature column."""
    p = rec.prints
    ev = rec.events
    n, n_ev = len(p), len(ev)
    ts = p["ts"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    price = p["price"].to_numpy(dtype=float)
    size = p["size"].to_numpy(dtype=float)
    mult = p["multiplier"].to_numpy(dtype=float)
    strike = p["strike"].to_numpy(dtype=float)
    is_call = p["right"].to_numpy() == "C"
    premium = price * size * mult
    event = rec.event_of_print
    ev_start = ev["print_start"].to_numpy()
    ev_len = ev["print_end"].to_numpy() - ev_start
    first_ts = ev["first_ts_ns"].to_numpy()
    last_ts = ev["last_ts_ns"].to_numpy()

    # --- NBBO as-of join and placement ---------------------------------------------------
    und_names = ev["underlying_id"].to_numpy()
    und_index = pd.Index(pd.unique(und_names))
    p_code, q_code = _contract_codes(p, quotes)
    q_ts = quotes["ts"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    qi = asof_join(ts, p_code, q_ts, q_code)
    has_quote = qi >= 0
    rows = np.maximum(qi, 0)
    bid = np.where(has_quote, quotes["bid"].to_numpy(dtype=float)[rows] if len(quotes) else np.nan, np.nan)
    ask = np.where(has_quote, quotes["ask"].to_numpy(dtype=float)[rows] if len(quotes) else np.nan, np.nan)
    age_ms = np.where(has_quote, (ts - (q_ts[rows] if len(q_ts) else 0)) / MS, np.nan)
    usable_quote = has_quote & (ask > bid)
    fresh = usable_quote & (age_ms <= cfg.stale_quote_ms)
    spread = ask - bid
    mid = 0.5 * (ask + bid)
    eps = np.maximum(cfg.placement_tolerance_min, cfg.placement_tolerance_spread_share * spread)
    placement = np.full(n, UNUSABLE, dtype=np.int8)
    placement[~has_quote] = MISSING
    placement[has_quote & usable_quote & ~fresh] = STALE
    with np.errstate(invalid="ignore"):
        cls = np.select(
            [
                price > ask + eps,
                price < bid - eps,
                (price >= ask - eps) & (price > mid),
                (price <= bid + eps) & (price < mid),
            ],
            [AA, BB, A, B],
            default=MID,
        )
    placement[fresh] = cls[fresh]
    side = np.select([(placement == AA) | (placement == A), (placement == B) | (placement == BB)], [1.0, -1.0], 0.0)

    groups = cond.group_codes(p["condition"])
    special = np.isin(groups, [cond.group_index(g) for g in cond.SPECIAL_GROUPS])
    group_conf = np.select(
        [groups == cond.group_index(g) for g in cond.AGGRESSOR_CONFIDENCE],
        list(cond.AGGRESSOR_CONFIDENCE.values()),
        0.5,
    )
    place_conf = np.select(
        [(placement == AA) | (placement == BB), (placement == A) | (placement == B)], [1.0, 0.85], 0.0
    )
    letter_bits = cond.letter_table({letter: 1 << i for i, letter in enumerate(LETTERS)}, p["condition"])

    # --- underlying as-of join ------------------------------------------------------------
    # the underlying quotes keep their own codes; prints and events are mapped into them
    u_code, u_names = _dictionary(underlying["underlying"])
    p_und = name_codes(p["underlying"], u_names)
    u_ts = underlying["ts"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    u_bid, u_ask = underlying["bid"].to_numpy(dtype=float), underlying["ask"].to_numpy(dtype=float)

    def spot_at(*queries: tuple[np.ndarray, np.ndarray, float]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Underlying mid and spread as of each (code, time) query, if no older than its
        max age; all queries go through one pass over the underlying quotes."""
        codes = np.concatenate([q[0] for q in queries])
        at = np.concatenate([q[1] for q in queries])
        max_age = np.concatenate([np.full(len(q[1]), q[2]) for q in queries])
        idx = asof_join(at, codes, u_ts, u_code)
        ok = idx >= 0
        if len(u_ts):
            row = np.maximum(idx, 0)
            ok &= (at - u_ts[row]) <= max_age
            bid_at, ask_at = u_bid[row], u_ask[row]
            mid, spread = np.where(ok, 0.5 * (bid_at + ask_at), np.nan), np.where(ok, ask_at - bid_at, np.nan)
        else:
            mid, spread = np.full(len(at), np.nan), np.full(len(at), np.nan)
        bounds = np.cumsum([0] + [len(q[1]) for q in queries])
        return [(mid[lo:hi], spread[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:])]

    fresh_spot_ns = cfg.spot_fresh_ms * MS
    ev_und = und_index.get_indexer(und_names)
    ev_und_quotes = u_names.get_indexer(und_names)
    # the move over each horizon, as of the first print (nothing after it): the fresh spot then
    # against the last quote at or before first - horizon (at most one horizon older than that)
    horizons_ns = [int(cfg.move_lookback_s * SECOND_NS)] + [h * SECOND_NS for h in MOVE_HORIZONS_S.values()]
    (spot_print, _), (spot_first, u_spread_first), *spot_before = spot_at(
        (p_und, ts, fresh_spot_ns),
        (ev_und_quotes, first_ts, fresh_spot_ns),
        *((ev_und_quotes, first_ts - h, h) for h in horizons_ns),
    )
    moves = [(spot_first / before - 1.0) * 1e4 for before, _ in spot_before]

    # --- packets (one contract each) ---------------------------------------------------------
    packet = rec.packet_of_print
    n_pk = int(packet.max()) + 1 if n else 0
    by_packet = code_order(packet)  # stable: time order within each packet
    pk_offsets = np.searchsorted(packet[by_packet], np.arange(n_pk + 1))
    pk_first = by_packet[pk_offsets[:-1]]
    pk_last = by_packet[pk_offsets[1:] - 1]
    pk_event = event[pk_first]
    pk_size = np.bincount(packet, weights=size, minlength=n_pk)
    pk_premium = np.bincount(packet, weights=premium, minlength=n_pk)
    pk_buy = np.bincount(packet, weights=size * (side > 0), minlength=n_pk)
    pk_sell = np.bincount(packet, weights=size * (side < 0), minlength=n_pk)
    pk_observed = np.sign(pk_buy - pk_sell)  # 0: no print of the leg shows a side (or they cancel out)
    pk_call = is_call[pk_first]
    pk_strike = strike[pk_first]
    expiry_close = expiry_close_ns(p["expiry"].iloc[pk_first])
    pk_expiry_day = p["expiry"].to_numpy(dtype="datetime64[D]")[pk_first].astype(np.int64)
    pk_dte = np.maximum(expiry_close - ts[pk_first], 0) / DAY_NS
    pk_dte_cal = np.maximum(pk_expiry_day - new_york_day(ts[pk_first]), 0)
    pk_spot = spot_print[pk_first]
    pk_t = np.maximum(pk_dte, 1e-4) / 365.0
    mid_first, mid_last = mid[pk_first], mid[pk_last]
    spot_last = spot_print[pk_last]
    t_last = np.maximum((expiry_close - ts[pk_last]) / DAY_NS, 1e-4) / 365.0
    iv_first = implied_vol(
        np.where(usable_quote[pk_first], mid_first, np.nan),
        pk_spot,
        pk_strike,
        pk_t,
        pk_call,
        cfg.rate,
        cfg.dividend_yield,
    )
    # a one-print packet's last print is its first: solve only the packets with more prints
    # (the solver is elementwise, so the values are the same)
    longer = pk_last != pk_first
    iv_last = iv_first.copy()
    iv_last[longer] = implied_vol(
        np.where(usable_quote[pk_last[longer]], mid_last[longer], np.nan),
        spot_last[longer],
        pk_strike[longer],
        t_last[longer],
        pk_call[longer],
        cfg.rate,
        cfg.dividend_yield,
    )
    pk_iv = np.where(np.isfinite(iv_first), iv_first, iv_last)
    iv_ok = np.isfinite(pk_iv) & np.isfinite(pk_spot)
    safe_iv = np.where(iv_ok, pk_iv, 0.3)
    safe_spot = np.where(iv_ok, pk_spot, pk_strike)
    pk_delta = np.where(
        iv_ok, bs_delta(safe_spot, pk_strike, pk_t, safe_iv, pk_call, cfg.rate, cfg.dividend_yield), np.nan
    )
    pk_vega = np.where(iv_ok, bs_vega(safe_spot, pk_strike, pk_t, safe_iv, cfg.rate, cfg.dividend_yield), np.nan)
    rel_first = _div(spread[pk_first], mid_first)
    rel_last = _div(spread[pk_last], mid_last)

    # packet -> event reductions (packets are ordered by event)
    ev_pk_offsets = np.searchsorted(pk_event, np.arange(n_ev + 1))
    ev_pk_start = ev_pk_offsets[:-1]
    ev_total_premium = _seg(premium, ev_start)
    dominant = np.lexsort((-pk_premium, pk_event))[ev_pk_start]  # highest-premium packet
    shock = iv_last - iv_first
    shock_ok = np.isfinite(shock)
    iv_shock = _div(
        np.bincount(pk_event, weights=np.where(shock_ok, shock * pk_premium, 0), minlength=n_ev),
        np.bincount(pk_event, weights=np.where(shock_ok, pk_premium, 0), minlength=n_ev),
    )
    with np.errstate(divide="ignore", invalid="ignore"):  # a locked first quote has no relative spread
        widen = rel_last / rel_first - 1
    widen_ok = np.isfinite(widen)
    spread_widening = _div(
        np.bincount(pk_event, weights=np.where(widen_ok, widen * pk_premium, 0), minlength=n_ev),
        np.bincount(pk_event, weights=np.where(widen_ok, pk_premium, 0), minlength=n_ev),
    )
    n_legs = ev["n_legs"].to_numpy()
    leg_min = _seg(pk_size, ev_pk_start, np.minimum) if n_ev else np.zeros(0)
    leg_max = _seg(pk_size, ev_pk_start, np.maximum) if n_ev else np.zeros(0)
    leg_symmetry = np.where(n_legs > 1, _div(leg_min, leg_max), np.nan)
    n_strikes = _count_distinct(pk_event, pk_strike, n_ev)
    n_expiries = _count_distinct(pk_event, pk_expiry_day, n_ev)
    n_rights = _count_distinct(pk_event, pk_call.astype(np.int64), n_ev)
    strike_premium_pairs = (
        pd.DataFrame({"e": pk_event, "k": pk_strike, "v": pk_premium}).groupby(["e", "k"], sort=False)["v"].sum()
    )
    top_strike = strike_premium_pairs.groupby(level=0).max().reindex(range(n_ev)).to_numpy()
    strike_concentration = _div(top_strike, ev_total_premium)
    tied = _seg((groups == cond.group_index("stock_tied")).astype(np.int64), ev_start) / np.maximum(ev_len, 1)
    pkg = package_sides(
        pk_event,
        pk_call,
        pk_strike,
        pk_expiry_day,
        pk_size,
        pk_observed,
        n_legs,
        n_rights,
        n_strikes,
        n_expiries,
        tied >= cfg.stock_tied_share,
    )
    structure, pk_side = pkg.structure, pkg.leg_side
    delta_ok = np.isfinite(pk_delta)
    size_delta = np.where(delta_ok, pk_size, 0.0)
    delta_size = np.bincount(pk_event, weights=size_delta, minlength=n_ev)
    # signed net delta per contract: only when every leg has a side (seen, or given by its
    # package); a leg of unknown side makes it unknown, never a zero
    leg_total = np.bincount(pk_event, weights=pk_size, minlength=n_ev)
    unknown_size = np.bincount(pk_event, weights=pk_size * (pk_side == 0), minlength=n_ev)
    unknown_side_share = _div(unknown_size, leg_total)
    net_delta = np.where(
        unknown_size > 0,
        np.nan,
        _div(
            np.bincount(pk_event, weights=np.where(delta_ok, pk_side * pk_delta * pk_size, 0), minlength=n_ev),
            delta_size,
        ),
    )
    # its size, which a package's legs fix whichever side traded it (a box, a conversion)
    relative = np.where(pkg.pattern != 0, pkg.pattern, pk_side)
    abs_net_delta = np.where(
        pkg.relations_known,
        np.abs(
            _div(
                np.bincount(pk_event, weights=np.where(delta_ok, relative * pk_delta * pk_size, 0), minlength=n_ev),
                delta_size,
            )
        ),
        np.abs(net_delta),
    )
    # how far the legs' sizes are from offsetting (0: as much bought as sold), likewise side-free
    # for packages
    package_balance = np.where(
        pkg.relations_known,
        np.abs(_div(np.bincount(pk_event, weights=relative * pk_size, minlength=n_ev), leg_total)),
        np.nan,
    )
    vega_w = np.where(np.isfinite(pk_vega), pk_vega * pk_size, 0.0)
    vega_sold_share = _div(
        np.bincount(pk_event, weights=vega_w * (pk_side < 0), minlength=n_ev),
        np.bincount(pk_event, weights=vega_w * (pk_side != 0), minlength=n_ev),
    )
    call_side = np.bincount(pk_event, weights=np.where(pk_call, pk_side, 0), minlength=n_ev)
    put_side = np.bincount(pk_event, weights=np.where(pk_call, 0, pk_side), minlength=n_ev)

    # --- print -> event reductions --------------------------------------------------------
    count = ev_len.astype(float)
    classified = _seg(fresh.astype(np.int64), ev_start)
    counts = {
        name: _seg((placement == code).astype(np.int64), ev_start)
        for name, code in zip(PLACEMENTS, (AA, A, MID, B, BB))
    }
    buys = counts["AA"] + counts["A"]
    sells = counts["B"] + counts["BB"]
    aggressive = buys + sells
    stale = _seg(((placement == STALE) | (placement == MISSING)).astype(np.int64), ev_start)
    gaps = np.zeros(n)
    if n > 1:
        same = event[1:] == event[:-1]
        gaps[1:] = np.where(same, (ts[1:] - ts[:-1]) / MS, 0.0)
    max_gap = np.where(ev_len > 1, _seg(gaps, ev_start, np.maximum), np.nan)
    mean_gap = np.where(ev_len > 1, _div(_seg(gaps, ev_start), count - 1), np.nan)
    venues = pd.factorize(p["venue"])[0]
    venue_count = _count_distinct(event, venues, n_ev)
    iso = _seg((groups == cond.group_index("iso")).astype(np.int64), ev_start) / count
    buy_share = _div(buys, aggressive)
    sell_share = _div(sells, aggressive)
    one_sided = np.fmax(buy_share, sell_share)
    sweep = (
        (venue_count >= 2)
        & (ev_len >= cfg.sweep_min_prints)
        & (np.nan_to_num(max_gap, nan=np.inf) <= cfg.sweep_max_gap_ms)
        & (np.nan_to_num(one_sided) >= 0.8)
    ) | (iso > 0)
    age_sum = _seg(np.where(has_quote, age_ms, 0.0), ev_start)
    spread_bps_print = np.where(fresh, _div(spread, mid) * 1e4, 0.0)
    eligible_dir = fresh & ~special
    direction_num = _seg(np.where(eligible_dir, premium * side * np.where(is_call, 1.0, -1.0), 0.0), ev_start)
    direction_den = _seg(np.where(eligible_dir, premium, 0.0), ev_start)
    share = lambda mask: _seg(mask.astype(np.int64), ev_start) / count  # noqa: E731

    # --- event-level context: spot, move, calendar -----------------------------------------
    move_bps, horizon_moves = moves[0], moves[1:]
    strength, strongest, strongest_horizon = move_evidence(horizon_moves, cfg.move_scale_bps)
    dom_strike = pk_strike[dominant]
    dom_call = pk_call[dominant]
    moneyness = dom_strike / spot_first
    otm_pct = np.where(dom_call, (dom_strike - spot_first) / spot_first, (spot_first - dom_strike) / spot_first)
    days_to_event, event_type, expiry_after_event = _calendar(
        calendar,
        und_index,
        ev_und,
        first_ts,
        expiry_close_ns(p["expiry"].iloc[pk_first[dominant]]) if n_ev else np.zeros(0, np.int64),
    )
    pre_event = np.clip(1.0 - days_to_event / cfg.event_horizon_days, 0.0, 1.0)

    out = pd.DataFrame(
        {
            "event_id": ev["event_id"].to_numpy(),
            "underlying_id": und_names,
            "event_kind": ev["event_kind"].to_numpy(),
            "first_ts_ns": first_ts,
            "last_ts_ns": last_ts,
            "n_prints": ev_len,
            "n_legs": n_legs,
            "total_size": _seg(size, ev_start).astype(np.int64),
            "total_premium": ev_total_premium,
            "notional": _seg(size * mult, ev_start) * spot_first,
            "median_clip": _segment_median(size, event, ev_start, ev_len),
            "max_print_size": _seg(size, ev_start, np.maximum).astype(np.int64),
            "event_window_ms": (last_ts - first_ts) / MS,
            "mean_gap_ms": mean_gap,
            "max_gap_ms": max_gap,
            "venue_count": venue_count,
            "sweep": sweep,
            "iso_share": iso,
            "coverage": classified / count,
            "stale_share": stale / count,
            "buy_share": buy_share,
            "sell_share": sell_share,
            "inside_share": _div(counts["MID"], classified),
            "net_bias": buy_share - sell_share,
            "directional_bias": _div(direction_num, direction_den),
            "aggressor_confidence": _seg(group_conf * place_conf, ev_start) / count,
            **{f"{name.lower()}_count": counts[name] for name in PLACEMENTS},
            "quote_age_ms": _div(age_sum, _seg(has_quote.astype(np.int64), ev_start)),
            "spread_bps": _div(_seg(spread_bps_print, ev_start), classified),
            "spread_abs": _div(_seg(np.where(fresh, spread, 0.0), ev_start), classified),
            "spread_widening": spread_widening,
            "underlying_spread_bps": u_spread_first / spot_first * 1e4,
            "dte_days": _seg(pk_dte, ev_pk_start, np.minimum) if n_ev else np.zeros(0),
            "dte_calendar": _seg(pk_dte_cal, ev_pk_start, np.minimum) if n_ev else np.zeros(0, np.int64),
            "dte_max_days": _seg(pk_dte, ev_pk_start, np.maximum) if n_ev else np.zeros(0),
            "spot": spot_first,
            "moneyness": moneyness,
            "atm_proximity": np.abs(dom_strike - spot_first) / spot_first,
            "otm_pct": otm_pct,
            "iv": pk_iv[dominant] if n_ev else np.zeros(0),
            "iv_shock": iv_shock,
            "delta": pk_delta[dominant] if n_ev else np.zeros(0),
            "net_delta": net_delta,
            "abs_net_delta": abs_net_delta,
            "unknown_side_share": unknown_side_share,
            "package_side": pkg.package_side,
            "package_balance": package_balance,
            "vega_sold_share": vega_sold_share,
            "call_share": _div(np.bincount(pk_event, weights=pk_premium * pk_call, minlength=n_ev), ev_total_premium),
            "strike_count": n_strikes,
            "strike_concentration": strike_concentration,
            "expiry_count": n_expiries,
            "structure": structure,
            "leg_symmetry": leg_symmetry,
            "call_leg_side": call_side,
            "put_leg_side": put_side,
            "special_share": share(special),
            "multi_leg_share": share(groups == cond.group_index("multi_leg")),
            "stock_tied_share": share(groups == cond.group_index("stock_tied")),
            "auction_share": share(groups == cond.group_index("auction")),
            "cross_share": share(groups == cond.group_index("cross")),
            "underlying_move_bps": move_bps,
            **{f"move_{label}_bps": m for label, m in zip(MOVE_HORIZONS_S, horizon_moves)},
            "move_strength": strength,
            "strongest_move_bps": strongest,
            "strongest_move_horizon_s": strongest_horizon,
            "calendar_available": np.full(n_ev, calendar is not None),
            "days_to_event": days_to_event,
            "event_type": event_type,
            "expiry_after_event": expiry_after_event,
            "pre_event_concentration": pre_event,
            "condition_mask": _seg(letter_bits, ev_start, np.bitwise_or) if n_ev else np.zeros(0, np.int64),
        },
        copy=False,  # every column is a fresh array: no copy, no consolidation into 2-D blocks
    )
    return out


@lru_cache(maxsize=4096)
def condition_letters(mask: int) -> str:
    """Decode `condition_mask` into the letters seen in the event."""
    return "".join(letter for i, letter in enumerate(LETTERS) if mask >> i & 1)


def move_evidence(moves: list[np.ndarray], scales_bps) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The move that fits best: the largest |move| / scale over the horizons (its strength; 1 =
    one scale), that move in bp and its horizon in seconds. NaN where no horizon has a move."""
    if len(scales_bps) != len(moves):
        raise ValueError(f"move_scale_bps needs one scale per horizon {list(MOVE_HORIZONS_S)}")
    stack = np.stack(moves) if moves and len(moves[0]) else np.zeros((len(moves), 0))
    ratio = np.abs(stack) / np.asarray(scales_bps, dtype=float)[:, None]
    known = np.isfinite(ratio).any(axis=0)
    best = np.argmax(np.where(np.isfinite(ratio), ratio, -1.0), axis=0)
    columns = np.arange(stack.shape[1])
    strength = np.where(known, ratio[best, columns] if len(columns) else np.zeros(0), np.nan)
    strongest = np.where(known, stack[best, columns] if len(columns) else np.zeros(0), np.nan)
    horizon = np.where(known, np.asarray(list(MOVE_HORIZONS_S.values()), dtype=float)[best], np.nan)
    return strength, strongest, horizon


# Structures whose legs' sides are fixed relative to each other: each leg's sign in the package
# bought (+1); 0 where the structure fixes no relation (ladders, generic multi-leg).
@dataclass
class Packages:
    structure: np.ndarray  # per event
    pattern: np.ndarray  # per packet: its sign when the package is bought, 0 if none
    package_side: np.ndarray  # per event: +1 bought, -1 sold, 0 unknown
    leg_side: np.ndarray  # per packet: seen or given by the package; 0 unknown
    relations_known: np.ndarray  # per event: every leg has a pattern


def package_sides(
    pk_event, pk_call, pk_strike, pk_expiry_day, pk_size, pk_observed, n_legs, n_rights, n_strikes, n_expiries, tied
) -> Packages:
    """Recognise each event's structure from its legs' relations (rights, strikes, expiries,
    stock-tied codes) and only then from the sides its prints show; take the package's side
    from the legs that show one (a size-weighted vote of seen side x pattern) and give it to
    the legs that do not. Rules (same expiry unless said):

    - one leg: single (its own side);
    - call + put, one strike: synthetic if stock-tied (conversion/reversal) or the two seen
      sides differ, else straddle (legs on the same side);
    - call + put, two strikes: collar (put bought, call sold) if the seen sides differ with
      the put bought, or if stock-tied and no seen side contradicts it; other differing sides
      are a generic multi-leg (risk reversal); else strangle;
    - four legs, call + put at two strikes: box (long the low-strike synthetic, short the high);
    - one right, two strikes: vertical (low strike against high); three or more: ladder;
    - one right, one strike, two expiries: roll (near against far);
    - anything else: multi_leg (legs keep the sides they show).
    """
    n_ev = len(n_legs)
    same_expiry, two_legs = n_expiries == 1, n_legs == 2
    calls = pk_call.astype(bool)
    observed = pk_observed.astype(float)
    call_seen = np.bincount(pk_event, weights=np.where(calls, observed, 0.0), minlength=n_ev)
    put_seen = np.bincount(pk_event, weights=np.where(calls, 0.0, observed), minlength=n_ev)
    both_seen = (call_seen != 0) & (put_seen != 0)
    differ = both_seen & (call_seen == -put_seen)
    pair = same_expiry & two_legs & (n_rights == 2)
    one_strike, two_strikes = pair & (n_strikes == 1), pair & (n_strikes == 2)
    collar_seen = differ & (put_seen > 0)
    collar_tied = tied & ~differ & ~(put_seen < 0) & ~(call_seen > 0)
    choices = [
        (n_legs == 1, "single"),
        (one_strike & (tied | differ), "synthetic"),
        (one_strike, "straddle"),
        (two_strikes & (collar_seen | collar_tied), "collar"),
        (two_strikes & differ, "multi_leg"),
        (two_strikes, "strangle"),
        (same_expiry & (n_legs == 4) & (n_rights == 2) & (n_strikes == 2), "box"),
        (same_expiry & (n_rights == 1) & (n_strikes == 2), "vertical"),
        (same_expiry & (n_rights == 1) & (n_strikes >= 3), "ladder"),
        ((n_expiries == 2) & two_legs & (n_rights == 1) & (n_strikes == 1), "roll"),
    ]
    structure = np.select([c for c, _ in choices], [name for _, name in choices], "multi_leg").astype(object)

    low_strike = np.full(n_ev, np.inf)
    np.minimum.at(low_strike, pk_event, pk_strike)
    near_expiry = np.full(n_ev, np.iinfo(np.int64).max)
    np.minimum.at(near_expiry, pk_event, pk_expiry_day)
    kind = structure[pk_event]
    is_low = pk_strike == low_strike[pk_event]
    is_near = pk_expiry_day == near_expiry[pk_event]
    call_sign = np.where(calls, 1, -1)
    pattern = np.select(
        [
            kind == "single",
            (kind == "straddle") | (kind == "strangle"),
            kind == "synthetic",  # long call, short put
            kind == "collar",  # long put, short call
            kind == "box",  # long the low-strike synthetic, short the high-strike one
            kind == "vertical",  # long the low strike
            kind == "roll",  # rolled out: near sold, far bought
        ],
        [
            np.ones(len(kind)),
            np.ones(len(kind)),
            call_sign,
            -call_sign,
            call_sign * np.where(is_low, 1, -1),
            np.where(is_low, 1, -1),
            np.where(is_near, -1, 1),
        ],  # fmt: skip
        0,
    ).astype(float)
    vote = np.bincount(pk_event, weights=observed * pattern * pk_size, minlength=n_ev)
    package_side = np.sign(vote)
    leg_side = np.where(pattern != 0, package_side[pk_event] * pattern, observed)
    relations_known = np.bincount(pk_event, weights=(pattern == 0).astype(float), minlength=n_ev) == 0
    return Packages(structure, pattern, package_side, leg_side, relations_known)


def _calendar(calendar, und_index, ev_und, first_ts, dominant_close):
    """Nearest announced, not yet passed event per parent event: days to it, its type, and
    whether the dominant leg expires after it. All null without a calendar."""
    n = len(first_ts)
    days = np.full(n, np.nan)
    kinds = np.full(n, None, dtype=object)
    after = np.full(n, None, dtype=object)
    if calendar is None or len(calendar) == 0 or n == 0:
        return days, kinds, after
    pos = name_codes(calendar["underlying"], und_index)
    known = pos >= 0
    cal = calendar.loc[known]
    code = pos[known]
    if len(code) == 0:
        return days, kinds, after
    event_ts = cal["event_ts"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    announced = cal["announced_ts"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    order = np.lexsort((event_ts, code))
    code, event_ts, announced = code[order], event_ts[order], announced[order]
    event_kind = cal["event_type"].to_numpy()[order]
    # first entry with event_ts >= t: one before the as-of position of t - 1
    start = asof_join(first_ts - 1, ev_und, event_ts, code) + 1
    first_of_code = np.searchsorted(code, ev_und)
    start = np.maximum(start, first_of_code)
    found = np.zeros(n, dtype=bool)
    choice = np.zeros(n, dtype=np.int64)
    for k in range(4):  # an entry can be unannounced yet; look a few entries further
        idx = start + k
        inside = idx < len(code)
        idx_c = np.minimum(idx, len(code) - 1)
        ok = inside & ~found & (code[idx_c] == ev_und) & (announced[idx_c] <= first_ts) & (event_ts[idx_c] >= first_ts)
        choice = np.where(ok, idx_c, choice)
        found |= ok
    days = np.where(found, (event_ts[choice] - first_ts) / DAY_NS, np.nan)
    kinds = np.where(found, event_kind[choice], None).astype(object)
    after = np.where(found, dominant_close >= event_ts[choice], None).astype(object)
    return days, kinds, after


@lru_cache(maxsize=4)
def _empty_features(reconstruction: ReconstructionConfig, features: FeatureConfig) -> pd.DataFrame:
    tape = NormalizedTape.empty()
    return compute_features(reconstruct(tape.prints, reconstruction), tape.quotes, tape.underlying, None, features)


def empty_features(reconstruction: ReconstructionConfig, features: FeatureConfig) -> pd.DataFrame:
    """A zero-row feature frame with every column (for names and schemas)."""
    return _empty_features(reconstruction, features).copy()
