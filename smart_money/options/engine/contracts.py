"""Typed contracts of the options engine.

Pydantic models for single records (what the CLI writes as JSON lines and an API would serve);
the pandera models of the columnar frames (what the Dagster checks validate) are in `schemas`,
so the scoring path does not import pandera. Timestamps are UTC; expiries are New York dates.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from smart_money.options.engine.conditions import CONDITIONS

PROFILES = (
    "institutional_directional",
    "retail_whale",
    "event_driven",
    "vol_seller",
    "arbitrage",
    "hedge_reactive",
)
ProfileId = Literal[
    "institutional_directional", "retail_whale", "event_driven", "vol_seller", "arbitrage", "hedge_reactive"
]
Direction = Literal["bullish", "bearish", "neutral", "mixed", "unknown"]
ConfidenceBand = Literal["high", "medium", "low"]
EventKind = Literal["single_leg_event", "multi_leg_event"]
Right = Literal["C", "P"]
RunMode = Literal["live", "replay", "synthetic"]
Structure = Literal[
    "single", "straddle", "strangle", "synthetic", "collar", "vertical", "ladder", "roll", "box", "multi_leg"
]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OptionPrint(_Record):
    """One OPRA last sale. No identity, aggressor or open/close flag exists on the tape."""

    print_id: str = Field(min_length=1)
    ts: datetime
    underlying: str = Field(min_length=1)
    expiry: date
    strike: float = Field(gt=0)
    right: Right
    price: float = Field(ge=0)
    size: int = Field(gt=0)
    venue: str = Field(min_length=1)
    condition: str = "I"
    multiplier: int = Field(default=100, gt=0, description="100, or the OCC deliverable")
    ref_print_id: str | None = Field(default=None, description="The print a cancel (A/C/E/G) refers to")

    @field_validator("condition")
    @classmethod
    def _known_letter(cls, value: str) -> str:
        value = value.strip() or "I"
        if value not in CONDITIONS:
            raise ValueError(f"unknown OPRA condition {value!r}")
        return value


class NbboQuote(_Record):
    """National best bid and offer of one option contract."""

    ts: datetime
    underlying: str
    expiry: date
    strike: float = Field(gt=0)
    right: Right
    bid: float = Field(ge=0)
    ask: float = Field(ge=0)

    @model_validator(mode="after")
    def _not_crossed(self) -> NbboQuote:
        if self.ask < self.bid:
            raise ValueError("ask below bid")
        return self


class UnderlyingQuote(_Record):
    ts: datetime
    underlying: str
    bid: float = Field(gt=0)
    ask: float = Field(gt=0)


class CalendarEntry(_Record):
    """A scheduled corporate event. Usable at time t only when announced_ts <= t <= event_ts."""

    underlying: str
    event_type: str = Field(min_length=1, description="earnings, mna, fda, dividend, other")
    announced_ts: datetime
    event_ts: datetime

    @model_validator(mode="after")
    def _announced_first(self) -> CalendarEntry:
        if self.announced_ts > self.event_ts:
            raise ValueError("announced_ts after event_ts")
        return self


class EventFeatures(_Record):
    """Everything the rules read, computed from prints, quotes, spot and calendar (null = the
    data did not allow it; nothing is filled with a default)."""

    n_prints: int
    n_legs: int
    total_size: int
    total_premium: float
    notional: float | None
    median_clip: float
    max_print_size: int
    event_window_ms: float
    mean_gap_ms: float | None
    max_gap_ms: float | None
    venue_count: int
    sweep: bool
    iso_share: float
    coverage: float
    stale_share: float
    buy_share: float | None
    sell_share: float | None
    inside_share: float | None
    net_bias: float | None
    directional_bias: float | None
    aggressor_confidence: float
    aa_count: int
    a_count: int
    mid_count: int
    b_count: int
    bb_count: int
    quote_age_ms: float | None
    spread_bps: float | None
    spread_abs: float | None
    spread_widening: float | None
    underlying_spread_bps: float | None
    dte_days: float
    dte_calendar: int
    dte_max_days: float
    spot: float | None
    moneyness: float | None
    atm_proximity: float | None
    otm_pct: float | None
    iv: float | None
    iv_shock: float | None
    delta: float | None
    net_delta: float | None  # null when a leg's side is unknown (see unknown_side_share)
    abs_net_delta: float | None  # |net delta|, also known when only the legs' relations are
    unknown_side_share: float | None  # share of contracts on legs with no side, seen or inferred
    package_side: float  # +1 bought, -1 sold, 0 unknown (the legs' size-weighted vote)
    package_balance: float | None  # |bought - sold| / contracts, from the legs' relations
    vega_sold_share: float | None
    call_share: float
    strike_count: int
    strike_concentration: float
    expiry_count: int
    structure: Structure
    leg_symmetry: float | None
    call_leg_side: float
    put_leg_side: float
    special_share: float
    multi_leg_share: float
    stock_tied_share: float
    auction_share: float
    cross_share: float
    underlying_move_bps: float | None
    move_30s_bps: float | None  # the underlying's move up to the first print over each horizon
    move_2m_bps: float | None
    move_5m_bps: float | None
    move_15m_bps: float | None
    move_strength: float | None  # max |move| / its horizon's scale
    strongest_move_bps: float | None
    strongest_move_horizon_s: float | None
    calendar_available: bool
    days_to_event: float | None
    event_type: str | None
    expiry_after_event: bool | None
    pre_event_concentration: float | None
    conditions: str


class ProfileScore(_Record):
    profile_id: ProfileId
    probability: float = Field(ge=0, le=1)
    confidence_band: ConfidenceBand
    direction: Direction
    reasons: list[str]
    raw_score: float
    fit: float
    evidence: float
    penalties: list[str]
    margin: float
    scoring_version: str
    calibration_version: str


class EventMeta(_Record):
    source_ts: datetime
    ingest_ts: datetime
    seq: int = Field(ge=0)
    trace_id: str


class SmartMoneyEvent(_Record):
    meta: EventMeta
    event_id: str
    packet_ids: list[str]
    member_print_ids: list[str]
    underlying_id: str
    event_kind: EventKind
    event_window_ms: float
    features: EventFeatures
    profile_scores: list[ProfileScore]
    primary_profile_id: ProfileId | None
    primary_direction: Direction
    abstained: bool
    suppressed_reasons: list[str]
    run_mode: RunMode

    @model_validator(mode="after")
    def _consistent(self) -> SmartMoneyEvent:
        if self.abstained != (self.primary_profile_id is None):
            raise ValueError("primary_profile_id must be null exactly when the event abstained")
        probabilities = [s.probability for s in self.profile_scores]
        if probabilities != sorted(probabilities, reverse=True):
            raise ValueError("profile_scores must be sorted by probability, descending")
        return self


# --- compatibility views (the reference's alert pipeline) -------------------------------------


class ClassifierHit(_Record):
    classifier_id: str
    confidence: float
    direction: Direction
    explanations: list[str]


class AlertEvent(_Record):
    """The reference's alert, unchanged, plus the optional fields new consumers read."""

    event_id: str
    source_ts: datetime
    underlying_id: str
    score: float
    severity: Literal["high", "medium", "low"]
    hits: list[ClassifierHit]
    evidence_refs: list[str]
    primary_profile_id: ProfileId | None = None
    profile_scores: list[ProfileScore] | None = None


MAX_HITS = 3
HIT_THRESHOLD = 0.5


def classifier_hits(event: SmartMoneyEvent) -> list[ClassifierHit]:
    """None when abstained; else the primary profile plus any other at >= 0.5 (max 3)."""
    if event.abstained:
        return []
    chosen = [s for s in event.profile_scores if s.profile_id == event.primary_profile_id]
    chosen += [
        s for s in event.profile_scores if s.profile_id != event.primary_profile_id and s.probability >= HIT_THRESHOLD
    ]
    hits = []
    for score in chosen[:MAX_HITS]:
        explanations = [f"probability {score.probability:.2f}", *score.reasons]
        explanations += [f"Suppression guard: {p}" for p in score.penalties]
        hits.append(
            ClassifierHit(
                classifier_id=f"smart_money_{score.profile_id}",
                confidence=score.probability,
                direction=score.direction,
                explanations=explanations,
            )
        )
    return hits


def alert_event(event: SmartMoneyEvent) -> AlertEvent | None:
    """The alert for an emitted event (None when the engine abstained: no alert)."""
    hits = classifier_hits(event)
    if not hits:
        return None
    top = hits[0].confidence
    severity = "high" if top >= 0.72 else "medium" if top >= 0.52 else "low"
    return AlertEvent(
        event_id=event.event_id,
        source_ts=event.meta.source_ts,
        underlying_id=event.underlying_id,
        score=top,
        severity=severity,
        hits=hits,
        evidence_refs=[event.event_id, *event.packet_ids, *event.member_print_ids],
        primary_profile_id=event.primary_profile_id,
        profile_scores=event.profile_scores,
    )
