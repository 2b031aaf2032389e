"""The engine end to end: normalized prints/quotes/underlying/calendar -> scored events, and
the conversions of scored rows into SmartMoneyEvent records and storage rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from pydantic_core import from_json

from smart_money.options.engine.calibration import Calibration, load_calibration
from smart_money.options.engine.contracts import (
    PROFILES,
    EventFeatures,
    EventMeta,
    ProfileScore,
    SmartMoneyEvent,
)
from smart_money.options.engine.event_features import compute_features, condition_letters
from smart_money.options.engine.frames import empty_underlying
from smart_money.options.engine.reconstruction import Reconstruction, reconstruct
from smart_money.options.engine.rules import (
    DIRECTIONS,
    PENALTIES,
    SUPPRESSIONS,
    RulesConfig,
    load_rules,
)
from smart_money.options.engine.scoring import decode, reason_names, score_events


@dataclass
class ScoredBatch:
    """Scored events (one row each, columnar) and the reconstruction they came from."""

    events: pd.DataFrame
    reconstruction: Reconstruction

    def subset(self, keep: np.ndarray) -> ScoredBatch:
        """The batch restricted to the events where `keep` is true (prints and packets too)."""
        rec = self.reconstruction
        old = np.flatnonzero(keep)
        new_index = np.full(len(keep), -1, dtype=np.int64)
        new_index[old] = np.arange(len(old))
        print_mask = keep[rec.event_of_print]
        packet_mask = keep[rec.packets["event"].to_numpy()]
        packet_index = np.full(len(packet_mask), -1, dtype=np.int64)
        packet_index[packet_mask] = np.arange(int(packet_mask.sum()))
        events = rec.events.loc[keep].reset_index(drop=True)
        lengths = (events["print_end"] - events["print_start"]).to_numpy()
        events["print_end"] = np.cumsum(lengths)
        events["print_start"] = events["print_end"] - lengths
        packets = rec.packets.loc[packet_mask].reset_index(drop=True)
        packets["event"] = new_index[packets["event"].to_numpy()]
        sub = Reconstruction(
            rec.prints.loc[print_mask].reset_index(drop=True),
            packet_index[rec.packet_of_print[print_mask]],
            new_index[rec.event_of_print[print_mask]],
            packets,
            events,
            rec.dropped,
        )
        return ScoredBatch(self.events.loc[keep].reset_index(drop=True), sub)

    def with_membership(self) -> pd.DataFrame:
        """The scored events plus their `member_print_ids` and `packet_ids` (lists)."""
        return with_membership(self.events, self.reconstruction)

    @staticmethod
    def concat(batches: list[ScoredBatch]) -> pd.DataFrame:
        """Scored event rows of several batches (for comparisons and storage)."""
        frames = [b.events for b in batches if len(b.events)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def member_print_ids(rec: Reconstruction) -> list[list[str]]:
    """Member print IDs of each event, in (ts, print_id) order."""
    ids = rec.prints["print_id"].to_numpy()
    ts = rec.prints["ts"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    order = np.lexsort((ids.astype(str), ts, rec.event_of_print)) if len(ids) else np.zeros(0, np.int64)
    ids = ids[order]
    starts, ends = rec.events["print_start"].to_numpy(), rec.events["print_end"].to_numpy()
    return [ids[lo:hi].tolist() for lo, hi in zip(starts.tolist(), ends.tolist())]


def packet_ids(rec: Reconstruction) -> list[list[str]]:
    """`flowpacket:{contract}:{first_ms}:{last_ms}` for each packet of each event."""
    p = rec.prints
    if not len(p):
        return []
    packet = rec.packet_of_print
    n_packets = int(packet.max()) + 1
    ts_ms = p["ts"].to_numpy(dtype="datetime64[ns]").view(np.int64) // 1_000_000
    first = np.full(n_packets, np.iinfo(np.int64).max)
    last = np.full(n_packets, np.iinfo(np.int64).min)
    np.minimum.at(first, packet, ts_ms)
    np.maximum.at(last, packet, ts_ms)
    row = np.zeros(n_packets, dtype=np.int64)
    row[packet] = np.arange(len(p))
    head = p.iloc[row]
    labels = (
        "flowpacket:"
        + head["underlying"].astype(str)
        + ":"
        + head["expiry"].dt.strftime("%Y%m%d")
        + ":"
        + head["right"].astype(str)
        + ":"
        + head["strike"].map("{:g}".format)
        + ":"
        + pd.Series(first).astype(str).to_numpy()
        + ":"
        + pd.Series(last).astype(str).to_numpy()
    ).to_numpy()
    event_of_packet = rec.packets["event"].to_numpy()
    bounds = np.searchsorted(event_of_packet, np.arange(len(rec.events) + 1))
    return [labels[lo:hi].tolist() for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist())]


def with_membership(events: pd.DataFrame, rec: Reconstruction) -> pd.DataFrame:
    """Event rows (in `rec.events` order) plus `member_print_ids` and `packet_ids` lists."""
    out = events.copy()
    out["member_print_ids"] = member_print_ids(rec)
    out["packet_ids"] = packet_ids(rec)
    return out


def score_frames(
    prints: pd.DataFrame,
    quotes: pd.DataFrame,
    underlying: pd.DataFrame | None = None,
    calendar: pd.DataFrame | None = None,
    rules: RulesConfig | None = None,
    calibration: Calibration | None = None,
) -> ScoredBatch:
    """Reconstruction + features + scoring over normalized frames (see `frames`)."""
    rules = rules or load_rules()
    calibration = calibration if calibration is not None else load_calibration(rules)
    rec = reconstruct(prints, rules.reconstruction())
    features = compute_features(
        rec, quotes, empty_underlying() if underlying is None else underlying, calendar, rules.features()
    )
    return ScoredBatch(score_events(features, rules, calibration), rec)


FEATURE_FIELDS = tuple(EventFeatures.model_fields)
# source_ts as a datetime: epoch + whole microseconds (what Timestamp.floor("us") gives, without
# its per-call cost, a quarter of the writing time)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _decoder(names: tuple[str, ...] | list[str]):
    """decode() memoized per mask value (masks repeat across events)."""
    cache: dict[int, list[str]] = {}

    def lookup(mask: int) -> list[str]:
        if mask not in cache:
            cache[mask] = decode(mask, names)
        return cache[mask]

    return lookup


def features_json(events: pd.DataFrame) -> list[str]:
    """The typed feature set (contracts.EventFeatures) of each event as a JSON object
    (pandas' C encoder: NaN becomes null)."""
    cols = [c for c in FEATURE_FIELDS if c != "conditions"]
    frame = events[cols].copy()
    frame["conditions"] = [condition_letters(int(m)) for m in events["condition_mask"].to_numpy()]
    if not len(frame):
        return []
    return frame.to_json(orient="records", lines=True, double_precision=10).splitlines()


def profile_scores_json(events: pd.DataFrame, rules: RulesConfig) -> list[str]:
    """Per event: a JSON array of the six profile scores (contracts.ProfileScore), sorted by
    probability (descending, ties in profile order)."""
    n = len(events)
    if n == 0:
        return []
    names = reason_names(rules)
    penalty_names = _decoder(PENALTIES)
    top = events["top_profile_id"].to_numpy()
    margin = events["margin"].to_numpy(dtype=float)
    per_profile = []
    for p in PROFILES:
        reasons = _decoder(names[p])
        subtype = events[f"{p}__subtype"].to_numpy()
        prob = events[f"{p}__probability"].to_numpy(dtype=float)
        b = rules.values["bands"]
        frame = pd.DataFrame(
            {
                "profile_id": p,
                "probability": prob,
                "confidence_band": np.where(prob >= b["high"], "high", np.where(prob >= b["medium"], "medium", "low")),
                "direction": np.array(DIRECTIONS, dtype=object)[events[f"{p}__direction"].to_numpy()],
                "reasons": [
                    reasons(int(m)) + ([f"subtype:{st}"] if st else [])
                    for m, st in zip(events[f"{p}__reasons"].to_numpy(), subtype)
                ],
                "raw_score": events[f"{p}__raw"].to_numpy(dtype=float),
                "fit": events[f"{p}__fit"].to_numpy(dtype=float),
                "evidence": events[f"{p}__evidence"].to_numpy(dtype=float),
                "penalties": [penalty_names(int(m)) for m in events[f"{p}__penalties"].to_numpy()],
                "margin": np.where(top == p, margin, 0.0),
                "scoring_version": events["scoring_version"].to_numpy(),
                "calibration_version": events["calibration_version"].to_numpy(),
            }
        )
        per_profile.append(
            np.array(frame.to_json(orient="records", lines=True, double_precision=6).splitlines(), dtype=object)
        )
    parts = np.stack(per_profile, axis=1)
    probabilities = np.stack([events[f"{p}__probability"].to_numpy(dtype=float) for p in PROFILES], axis=1)
    order = np.argsort(-np.round(probabilities, 6), axis=1, kind="stable")
    ranked = np.take_along_axis(parts, order, axis=1)
    return ["[" + ",".join(row) + "]" for row in ranked.tolist()]


def smart_money_events(
    events: pd.DataFrame, rules: RulesConfig, run_mode: str = "replay", ingest_ts: datetime | None = None
) -> list[SmartMoneyEvent]:
    """Typed SmartMoneyEvent records from scored events with membership
    (ScoredBatch.with_membership); what `options-score` writes as JSON lines."""
    ingest_ts = ingest_ts or datetime.now(UTC)
    # pydantic-core's JSON reader: the same values as json.loads, in about half the time
    features = [from_json(f) for f in features_json(events)]
    scores = [from_json(x) for x in profile_scores_json(events, rules)]
    suppression = _decoder(SUPPRESSIONS)
    out = []
    columns = [
        "event_id",
        "underlying_id",
        "event_kind",
        "event_window_ms",
        "first_ts_ns",
        "primary_profile_id",
        "primary_direction",
        "abstained",
        "suppressed_mask",
        "member_print_ids",
        "packet_ids",
    ]
    for i, row in enumerate(events[columns].itertuples(index=False)):
        out.append(
            SmartMoneyEvent(
                meta=EventMeta(
                    source_ts=_EPOCH + timedelta(microseconds=int(row.first_ts_ns) // 1000),  # floored to µs
                    ingest_ts=ingest_ts,
                    seq=i,
                    trace_id=row.event_id,
                ),
                event_id=row.event_id,
                packet_ids=list(row.packet_ids),
                member_print_ids=list(row.member_print_ids),
                underlying_id=row.underlying_id,
                event_kind=row.event_kind,
                event_window_ms=float(row.event_window_ms),
                features=EventFeatures(**features[i]),
                profile_scores=[ProfileScore(**s) for s in scores[i]],
                primary_profile_id=row.primary_profile_id if isinstance(row.primary_profile_id, str) else None,
                primary_direction=row.primary_direction,
                abstained=bool(row.abstained),
                suppressed_reasons=suppression(int(row.suppressed_mask)),
                run_mode=run_mode,
            )
        )
    return out


def storage_rows(
    ev: pd.DataFrame, rules: RulesConfig, run_mode: str = "replay", ingest_ts: datetime | None = None
) -> pd.DataFrame:
    """Rows of the `smart_money_events` table (store.COLUMNS), one per scored event with
    membership (ScoredBatch.with_membership)."""
    ingest_ts = ingest_ts or datetime.now(UTC)
    n = len(ev)
    suppression = _decoder(SUPPRESSIONS)
    suppressed = [json.dumps(suppression(int(m))) for m in ev["suppressed_mask"].to_numpy()]
    return pd.DataFrame(
        {
            "source_ts": pd.to_datetime(ev["first_ts_ns"].to_numpy(), unit="ns", utc=True),
            "ingest_ts": pd.Series([pd.Timestamp(ingest_ts)] * n, dtype="datetime64[ns, UTC]"),
            "seq": np.arange(n, dtype=np.uint64),
            "trace_id": ev["event_id"].to_numpy(),
            "event_id": ev["event_id"].to_numpy(),
            "packet_ids": [list(x) for x in ev["packet_ids"]],
            "member_print_ids": [list(x) for x in ev["member_print_ids"]],
            "underlying_id": ev["underlying_id"].to_numpy(),
            "event_kind": ev["event_kind"].to_numpy(),
            "event_window_ms": ev["event_window_ms"].to_numpy(dtype=float),
            "features_json": features_json(ev),
            "profile_scores_json": profile_scores_json(ev, rules),
            "primary_profile_id": ev["primary_profile_id"].fillna("").to_numpy(),
            "primary_probability": ev["primary_probability"].to_numpy(dtype=float),
            "primary_direction": ev["primary_direction"].to_numpy(),
            "abstained": ev["abstained"].to_numpy(dtype=bool),
            "suppressed_reasons_json": suppressed,
            "dte_days": ev["dte_days"].to_numpy(dtype=float),
            "total_premium": ev["total_premium"].to_numpy(dtype=float),
            "scoring_version": ev["scoring_version"].to_numpy(),
            "calibration_version": ev["calibration_version"].to_numpy(),
            "run_mode": run_mode,
        }
    )


def event_signature(events: pd.DataFrame) -> pd.DataFrame:
    """What must agree between live processing and replay, keyed by event ID."""
    cols = ["event_id", "primary_profile_id", "primary_direction", "abstained", "suppressed_mask"]
    sig = events[cols].copy()
    for p in PROFILES:
        sig[p] = events[f"{p}__probability"].round(6)
    return sig.set_index("event_id").sort_index()


def to_json_lines(events: list[SmartMoneyEvent]) -> str:
    return "".join(e.model_dump_json() + "\n" for e in events)
