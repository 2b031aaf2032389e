"""The rules engine: six profiles scored from event features, with guards, directions,
calibrated probabilities and abstention. Vectorized over events; reasons and penalties are
kept as bit masks and decoded only when events are written out.

Per profile (seeds from notes/options-flow.md §3, thresholds in config/rules-v*.json):
  fit      = base + bonus * (share of available bonus items)   if every required item holds
           = cap * (share of required items)                   otherwise (a missing item caps it)
  evidence = w_q * quality + w_p * min(1, premium / scale) + w_a * aggression + w_c * context
  raw      = fit * (0.55 + 0.45 * evidence) * (1 - slope * max(applicable penalties))
An event is emitted for its top profile only if raw, fit, evidence, margin to the runner-up
and penalty pass the `emit` thresholds and no hard guard (stale quotes, low coverage) fired;
otherwise it abstains and says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from smart_money.options.engine.calibration import Calibration
from smart_money.options.engine.contracts import PROFILES
from smart_money.options.engine.event_features import empty_features
from smart_money.options.engine.rules import (
    BEARISH,
    BULLISH,
    DIRECTIONS,
    MIXED,
    NEUTRAL,
    PENALTIES,
    SUPPRESSIONS,
    UNKNOWN,
    RulesConfig,
)


@dataclass
class ProfileEvaluation:
    """One profile's items over all events (boolean arrays; NaN inputs count as not met)."""

    required: dict[str, np.ndarray]
    bonus: dict[str, tuple[np.ndarray, np.ndarray]]  # name -> (hit, available)
    aggression: np.ndarray
    context: np.ndarray
    direction: np.ndarray
    penalties: dict[str, np.ndarray] = field(default_factory=dict)  # name -> value per event (0 = off)
    subtype: np.ndarray | None = None


def _between(x: np.ndarray, bounds: list[float]) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (x >= bounds[0]) & (x <= bounds[1])


def _ge(x, v) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.asarray(x >= v, dtype=bool)


def _le(x, v) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.asarray(x <= v, dtype=bool)


def _clip01(x: np.ndarray) -> np.ndarray:
    return np.clip(np.nan_to_num(x, nan=0.0), 0.0, 1.0)


def _direction_from_bias(bias: np.ndarray, min_bias: float) -> np.ndarray:
    return np.select([bias > min_bias, bias < -min_bias, np.isfinite(bias)], [BULLISH, BEARISH, MIXED], UNKNOWN).astype(
        np.int8
    )


def _col(f: pd.DataFrame, name: str) -> np.ndarray:
    return f[name].to_numpy(dtype=float)


def move_ratio(f: pd.DataFrame, spec: dict, strength_key: str, bps_key: str) -> np.ndarray:
    """The underlying's move against a threshold (1 = at it). Rules from v2 on read the
    multi-horizon `move_strength` over `spec[strength_key]`; v1 rules (no such key) the 30 s
    move over `spec[bps_key]` bp."""
    if strength_key in spec:
        return _col(f, "move_strength") / spec[strength_key]
    return np.abs(_col(f, "underlying_move_bps")) / spec[bps_key]


def signed_move(f: pd.DataFrame, rules: RulesConfig) -> np.ndarray:
    """The move whose direction a hedge follows: the strongest horizon's (v2) or the 30 s one."""
    strongest = "min_move_strength" in rules.profile("hedge_reactive")
    return _col(f, "strongest_move_bps" if strongest else "underlying_move_bps")


def evaluate_profiles(f: pd.DataFrame, rules: RulesConfig) -> dict[str, ProfileEvaluation]:
    """Required items, bonuses, aggression, context and direction of each profile."""
    n = len(f)
    always = np.ones(n, dtype=bool)
    premium = _col(f, "total_premium")
    buy, sell = _col(f, "buy_share"), _col(f, "sell_share")
    one_sided = np.fmax(np.nan_to_num(buy), np.nan_to_num(sell))
    abs_delta = np.abs(_col(f, "delta"))
    coverage = _col(f, "coverage")
    dte, dte_cal = _col(f, "dte_days"), _col(f, "dte_calendar")
    iv_shock = _col(f, "iv_shock")
    move = signed_move(f, rules)
    call_share = _col(f, "call_share")
    n_legs = _col(f, "n_legs")
    structure = f["structure"].to_numpy()
    bias = _col(f, "directional_bias")
    min_bias = rules.values["direction"]["min_bias"]
    sig = rules.values["retail_signature"]
    retail_signature = (
        _le(dte_cal, sig["max_dte"])
        & _ge(_col(f, "otm_pct"), sig["min_otm_pct"])
        & _ge(call_share, sig["min_call_share"])
    )
    days_to_event = _col(f, "days_to_event")
    stock_tied = _col(f, "stock_tied_share")
    out: dict[str, ProfileEvaluation] = {}

    t = rules.profile("institutional_directional")
    out["institutional_directional"] = ProfileEvaluation(
        required={
            "buying_one_side": _ge(buy, t["min_buy_share"]),
            "large_premium": _ge(premium, t["min_premium"]),
            "strike_concentrated": _ge(_col(f, "strike_concentration"), t["min_strike_concentration"]),
            "quotes_cover_prints": _ge(coverage, t["min_coverage"]),
            "swing_tenor": _between(dte, t["dte_days"]),
            "directional_delta": _between(abs_delta, t["abs_delta"]),
            "single_leg": n_legs == 1,
        },
        bonus={
            "sweep": (f["sweep"].to_numpy(dtype=bool), always),
            "iv_up": (_ge(iv_shock, t["bonus_iv_shock"]), np.isfinite(iv_shock)),
            "block_clips": (_ge(_col(f, "median_clip"), t["bonus_median_clip"]), always),
        },
        aggression=_clip01(buy),
        context=_clip01(_col(f, "aggressor_confidence")),
        direction=_direction_from_bias(bias, min_bias),
    )

    t = rules.profile("retail_whale")
    out["retail_whale"] = ProfileEvaluation(
        required={
            "short_dated": _le(dte_cal, t["max_dte"]),
            "otm_delta": _between(abs_delta, t["abs_delta"]),
            "calls": _ge(call_share, t["min_call_share"]),
            "many_prints": _ge(_col(f, "n_prints"), t["min_prints"]),
            "small_clips": _le(_col(f, "median_clip"), t["max_median_clip"]),
            "wide_spread": _ge(_col(f, "spread_bps"), t["min_spread_bps"]),
        },
        bonus={
            "iv_jump": (_ge(iv_shock, t["bonus_iv_shock"]), np.isfinite(iv_shock)),
            "auction_prints": (_col(f, "auction_share") > 0, always),
            "modest_premium": (_le(premium, t["bonus_max_premium"]), always),
            "buying": (_ge(buy, t["bonus_min_buy_share"]), np.isfinite(buy)),
        },
        aggression=_clip01(buy),
        context=_clip01(iv_shock / 0.05),
        direction=_direction_from_bias(bias, min_bias),
    )

    t = rules.profile("event_driven")
    straddle_like = np.isin(structure, ["straddle", "strangle"])
    expiry_gap = dte - days_to_event
    otm_subtype = (n_legs == 1) & _between(abs_delta, t["otm_abs_delta"])
    vol_subtype = straddle_like & _between(abs_delta, t["straddle_abs_delta"])
    bias_dir = _direction_from_bias(bias, rules.values["direction"]["straddle_mixed_bias"])
    out["event_driven"] = ProfileEvaluation(
        required={
            "event_ahead": _between(days_to_event, t["days_to_event"]),
            "first_expiry_after_event": (f["expiry_after_event"].to_numpy() == True)  # noqa: E712
            & _le(expiry_gap, t["max_days_expiry_after_event"]),
            "meaningful_premium": _ge(premium, t["min_premium"]),
            "one_sided": _ge(one_sided, t["min_one_sided"]),
            "event_structure": otm_subtype | vol_subtype,
        },
        bonus={
            "spread_widening": (
                _ge(_col(f, "spread_widening"), t["bonus_spread_widening"]),
                np.isfinite(_col(f, "spread_widening")),
            ),
            "iv_up": (iv_shock > t["bonus_iv_shock"], np.isfinite(iv_shock)),
        },
        aggression=one_sided,
        context=_clip01(_col(f, "pre_event_concentration")),
        direction=np.where(
            vol_subtype, MIXED, np.where(bias_dir == MIXED, MIXED, _direction_from_bias(bias, min_bias))
        ).astype(np.int8),
        subtype=np.where(vol_subtype, "volatility", np.where(otm_subtype, "otm_directional", "")),
    )

    t = rules.profile("vol_seller")
    quiet = move_ratio(f, t, "bonus_max_move_strength", "bonus_max_abs_move_bps")
    vega_sold = _col(f, "vega_sold_share")
    call_side, put_side = _col(f, "call_leg_side"), _col(f, "put_leg_side")
    buy_write = (stock_tied >= 0.5) & (call_side < 0)
    put_write = (n_legs == 1) & (put_side < 0)
    overwrite = (n_legs == 1) & (call_side < 0)
    short_straddle = np.isin(structure, ["straddle", "strangle"]) & (call_side < 0)
    roll = structure == "roll"
    vs_direction = np.select(
        [put_write, buy_write | overwrite, short_straddle, roll & (call_share >= 0.5), roll],
        [BULLISH, BEARISH, NEUTRAL, BEARISH, BULLISH],
        NEUTRAL,
    ).astype(np.int8)
    out["vol_seller"] = ProfileEvaluation(
        required={
            "short_vega": _ge(vega_sold, t["min_vega_sold_share"]),
            "bid_hit_or_roll": _ge(sell, t["min_sell_share"]) | roll,
            "quotes_cover_prints": _ge(coverage, t["min_coverage"]),
            "term_premium": _ge(dte, t["min_dte_days"]),
            "meaningful_premium": _ge(premium, t["min_premium"]),
        },
        bonus={
            "quiet_spot": (_le(quiet, 1.0), np.isfinite(quiet)),
            "large_premium": (_ge(premium, t["bonus_min_premium"]), always),
            "heavy_bid_hit": (_ge(sell, t["bonus_min_sell_share"]), np.isfinite(sell)),
        },
        aggression=_clip01(np.fmax(np.nan_to_num(sell), np.nan_to_num(vega_sold))),
        context=1.0 - _clip01(move_ratio(f, t, "context_move_strength", "context_move_scale_bps")),
        direction=vs_direction,
        subtype=np.select(
            [buy_write, put_write, overwrite, short_straddle, roll],
            ["buy_write", "put_write", "call_overwrite", "short_straddle", "roll"],
            "",
        ),
    )

    t = rules.profile("arbitrage")
    # bought against sold: from the legs' relations where the structure fixes them (a box
    # printed at the mid is balanced), else from the prints' sides
    package_balance = _col(f, "package_balance")
    balance = np.where(np.isfinite(package_balance), package_balance, np.abs(_col(f, "net_bias")))
    complex_share = _col(f, "multi_leg_share") + stock_tied
    symmetry = _col(f, "leg_symmetry")
    box = structure == "box"
    conversion = (structure == "synthetic") & (stock_tied >= t["min_stock_tied_share"])
    out["arbitrage"] = ProfileEvaluation(
        required={
            "multi_leg": _ge(n_legs, t["min_legs"]),
            "symmetric_legs": _ge(symmetry, t["min_symmetry"]),
            "parity_structure": box | conversion,
            "delta_neutral": _le(_col(f, "abs_net_delta"), t["max_abs_net_delta"]) | conversion,
            "balanced_sides": _le(balance, t["max_abs_bias"]),
            "complex_or_simultaneous": _ge(complex_share, t["min_complex_share"])
            | _le(_col(f, "event_window_ms"), t["max_leg_span_ms"]),
        },
        bonus={
            "very_symmetric": (_ge(symmetry, t["bonus_min_symmetry"]), np.isfinite(symmetry)),
            "large_premium": (_ge(premium, t["bonus_min_premium"]), always),
        },
        aggression=_clip01(symmetry),
        context=1.0 - _clip01(balance / t["max_abs_bias"]),
        direction=np.full(n, NEUTRAL, dtype=np.int8),
        subtype=np.select([box, conversion], ["box", "conversion"], ""),
    )

    t = rules.profile("hedge_reactive")
    dealer = (
        _le(dte_cal, t["max_dte_calendar"])
        & (_between(abs_delta, t["abs_delta"]) | _le(_col(f, "atm_proximity"), t["max_atm_proximity"]))
        & _ge(move_ratio(f, t, "min_move_strength", "min_abs_move_bps"), 1.0)
    )
    protective = (
        ((structure == "collar") | ((n_legs == 1) & (put_side > 0) & (stock_tied >= t["min_stock_tied_share"])))
        & _between(dte, t["protective_dte_days"])
        & _between(_col(f, "otm_pct"), t["protective_otm_pct"])
    )
    two_sided = _ge(np.fmin(np.nan_to_num(buy), np.nan_to_num(sell)), t["two_sided_min_share"])
    out["hedge_reactive"] = ProfileEvaluation(
        required={
            "dealer_or_protective_context": dealer | protective,
            "hedge_size": _ge(_col(f, "notional"), t["min_notional"]),
        },
        bonus={
            "two_sided": (two_sided, np.isfinite(buy)),
            "large_size": (_ge(_col(f, "total_size"), t["bonus_min_size"]), always),
            **(
                {"with_the_move": (((call_share >= 0.5) & (move > 0)) | ((call_share < 0.5) & (move < 0)), always)}
                if t.get("bonus_with_the_move")
                else {}
            ),
        },
        aggression=one_sided,
        context=_clip01(move_ratio(f, t, "context_move_strength", "context_move_scale_bps")),
        direction=np.where(
            protective & ~dealer, BEARISH, np.select([move < 0, move > 0], [BEARISH, BULLISH], UNKNOWN)
        ).astype(np.int8),
        subtype=np.select([dealer, protective], ["dealer_gamma", "protective"], ""),
    )

    _attach_penalties(out, f, rules, retail_signature, one_sided, bias)
    return out


def _attach_penalties(
    out: dict[str, ProfileEvaluation], f: pd.DataFrame, rules: RulesConfig, retail_signature, one_sided, bias
) -> None:
    p = rules.values["penalties"]
    spread = _col(f, "spread_bps")
    premium = _col(f, "total_premium")
    arbitrage_fits = np.all(np.stack(list(out["arbitrage"].required.values())), axis=0)
    conditions = {
        "wide_option_spread": _ge(spread, p["wide_option_spread"]["min_spread_bps"])
        & _ge(_col(f, "spread_abs"), p["wide_option_spread"]["min_spread_abs"]),
        "retail_wide_spread": _ge(spread, p["retail_wide_spread"]["min_spread_bps"]),
        "wide_underlying_spread": _ge(_col(f, "underlying_spread_bps"), p["wide_underlying_spread"]["min_spread_bps"]),
        "inside_market": _ge(_col(f, "inside_share"), p["inside_market"]["min_inside_share"]),
        "special_prints": _ge(_col(f, "special_share"), p["special_prints"]["min_share"]),
        "small_premium": premium < p["small_premium"]["max_premium"],
        "weak_direction": ~(np.abs(bias) > p["weak_direction"]["max_abs_bias"])
        & (one_sided < p["weak_direction"]["max_one_sided"]),
        "retail_frenzy": retail_signature,
        "negotiated_block": _ge(_col(f, "cross_share"), p["negotiated_block"]["min_share"])
        | (
            _ge(_col(f, "auction_share"), p["negotiated_block"]["min_share"])
            & _le(_col(f, "n_prints"), p["negotiated_block"]["max_auction_prints"])
        ),
        "arbitrage_structure": arbitrage_fits,
        "no_event": f["calendar_available"].to_numpy(dtype=bool) & ~np.isfinite(_col(f, "days_to_event")),
        "spot_moving": _ge(move_ratio(f, p["spot_moving"], "min_move_strength", "min_abs_move_bps"), 1.0),
        "no_spot_context": ~np.isfinite(signed_move(f, rules)),
        "event_soon": _le(_col(f, "days_to_event"), p["event_soon"]["max_days"]),
    }
    for name, mask in conditions.items():
        spec = p[name]
        applies = spec.get("applies", [q for q in PROFILES if q not in spec.get("exempt", [])])
        for profile in applies:
            value = spec["retail_value"] if (name == "special_prints" and profile == "retail_whale") else spec["value"]
            out[profile].penalties[name] = np.where(mask, value, 0.0)


def _bits(items: dict[str, np.ndarray], names: tuple[str, ...] | list[str]) -> np.ndarray:
    mask = np.zeros(len(next(iter(items.values()))) if items else 0, dtype=np.int64)
    for name, hit in items.items():
        mask |= np.where(hit, np.int64(1) << names.index(name), 0)
    return mask


def reason_names(rules: RulesConfig) -> dict[str, list[str]]:
    """Bit order of each profile's reason mask (required items, then bonus items)."""
    evaluated = evaluate_profiles(empty_features(rules.reconstruction(), rules.features()), rules)
    return {p: [*e.required, *e.bonus] for p, e in evaluated.items()}


def score_events(f: pd.DataFrame, rules: RulesConfig, calibration: Calibration) -> pd.DataFrame:
    """Columns added to the feature frame: per profile raw/fit/evidence/penalty/probability/
    direction/reason and penalty masks, then the event decision (primary profile, direction,
    probability, margin, abstained, suppression mask)."""
    n = len(f)
    sc = rules.values["scoring"]
    w = sc["evidence_weights"]
    emit = rules.values["emit"]
    quality = _clip01(_col(f, "coverage") - _col(f, "stale_share"))
    premium_factor = np.minimum(1.0, _col(f, "total_premium") / sc["premium_scale"])
    evaluated = evaluate_profiles(f, rules)
    columns: dict[str, np.ndarray] = {}
    raws, fits, evidences, penalties, probabilities = [], [], [], [], []
    for profile in PROFILES:
        e = evaluated[profile]
        required = np.stack(list(e.required.values()))
        all_required = required.all(axis=0)
        hits = np.stack([h & a for h, a in e.bonus.values()]) if e.bonus else np.zeros((0, n), bool)
        available = np.stack([a for _, a in e.bonus.values()]) if e.bonus else np.zeros((0, n), bool)
        bonus_share = np.where(available.sum(axis=0) > 0, hits.sum(axis=0) / np.maximum(available.sum(axis=0), 1), 0.0)
        fit = np.where(
            all_required,
            sc["fit_when_required_met"]["base"] + sc["fit_when_required_met"]["bonus"] * bonus_share,
            sc["fit_cap_when_required_missing"] * required.mean(axis=0),
        )
        evidence = (
            w["quality"] * quality
            + w["premium"] * premium_factor
            + w["aggression"] * _clip01(e.aggression)
            + w["context"] * _clip01(e.context)
        )
        penalty = np.max(np.stack(list(e.penalties.values())), axis=0) if e.penalties else np.zeros(n)
        raw = fit * (0.55 + 0.45 * evidence) * (1.0 - sc["penalty_slope"] * penalty)
        probability = np.clip(calibration.apply(profile, raw), 0.0, 1.0)
        names = [*e.required, *e.bonus]
        reasons = _bits({**e.required, **{k: h & a for k, (h, a) in e.bonus.items()}}, names)
        columns.update(
            {
                f"{profile}__raw": raw,
                f"{profile}__fit": fit,
                f"{profile}__evidence": evidence,
                f"{profile}__penalty": penalty,
                f"{profile}__probability": probability,
                f"{profile}__direction": e.direction,
                f"{profile}__reasons": reasons,
                f"{profile}__penalties": _bits({k: v > 0 for k, v in e.penalties.items()}, PENALTIES)
                if e.penalties
                else np.zeros(n, np.int64),
                f"{profile}__subtype": e.subtype if e.subtype is not None else np.full(n, "", dtype=object),
            }
        )
        raws.append(raw)
        fits.append(fit)
        evidences.append(evidence)
        penalties.append(penalty)
        probabilities.append(probability)

    raw_m, fit_m, ev_m, pen_m, prob_m = (np.stack(x, axis=1) for x in (raws, fits, evidences, penalties, probabilities))
    order = np.argsort(-raw_m, axis=1, kind="stable")
    top, second = order[:, 0], order[:, 1]
    rows = np.arange(n)
    top_raw = raw_m[rows, top]
    margin = top_raw - raw_m[rows, second]
    fits_all = fit_m >= sc["fit_when_required_met"]["base"]
    competing = fits_all.sum(axis=1) >= 2
    hard = rules.values["hard_abstain"]
    suppress = {
        "stale_quotes": _ge(_col(f, "stale_share"), hard["max_stale_share"]),
        "low_coverage": _col(f, "coverage") < hard["min_coverage"],
        "top_score_low": top_raw < emit["min_raw"],
        "fit_low": fit_m[rows, top] < emit["min_fit"],
        "evidence_low": ev_m[rows, top] < emit["min_evidence"],
        "margin_low": margin < emit["min_margin"],
        "competing_profiles": competing & (margin < emit["min_margin_competing"]),
        "penalty_high": pen_m[rows, top] > emit["max_penalty"],
        "calibration_disagrees": prob_m[rows, top] < prob_m.max(axis=1),
    }
    suppressed = _bits(suppress, SUPPRESSIONS)
    abstained = suppressed != 0
    profile_names = np.array(PROFILES, dtype=object)
    direction_m = np.stack([columns[f"{p}__direction"] for p in PROFILES], axis=1)
    columns.update(
        {
            "primary_profile_id": np.where(abstained, None, profile_names[top]),
            "primary_probability": np.where(abstained, np.nan, prob_m[rows, top]),
            "primary_direction": np.where(
                abstained, "unknown", np.array(DIRECTIONS, dtype=object)[direction_m[rows, top]]
            ),
            "top_profile_id": profile_names[top],
            "margin": margin,
            "abstained": abstained,
            "suppressed_mask": suppressed,
            "scoring_version": np.full(n, rules.version, dtype=object),
            "calibration_version": np.full(n, calibration.version, dtype=object),
        }
    )
    # one frame from the feature columns and the new ones, without consolidating them into 2-D
    # blocks (a concat or a copying constructor would copy every column once more)
    kept = {name: values for name, values in f.items() if name not in columns}
    return pd.DataFrame({**kept, **columns}, index=f.index, copy=False)


def decode(mask: int, names: tuple[str, ...] | list[str]) -> list[str]:
    return [name for i, name in enumerate(names) if mask >> i & 1]


def band(probability: float, rules: RulesConfig) -> str:
    b = rules.values["bands"]
    return "high" if probability >= b["high"] else "medium" if probability >= b["medium"] else "low"
