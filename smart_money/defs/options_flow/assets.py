"""Options-flow assets (group `options_flow`, daily partitions in New York time).

option_prints / option_quotes / underlying_quotes / event_calendar: one trading day of input,
    from the synthetic market (default) or SMART_MONEY_OPTIONS_DIR files.
parent_events: prints grouped into parent events, with every feature.
smart_money_events: the six-profile scores, written to ClickHouse (`smart_money_events`).
options_evaluation: per-profile metrics against the synthetic market's hidden labels.
"""

# no `from __future__ import annotations`: Dagster reads the context parameter's annotation at runtime
from collections import Counter
from datetime import date

import dagster as dg
import pandas as pd

from smart_money.options.engine.batch import storage_rows, with_membership
from smart_money.options.engine.calibration import load_calibration
from smart_money.options.engine.contracts import PROFILES
from smart_money.options.engine.event_features import compute_features
from smart_money.options.engine.frames import NormalizedTape, empty_underlying
from smart_money.options.engine.reconstruction import reconstruct
from smart_money.options.engine.rules import load_rules
from smart_money.options.engine.scoring import score_events
from smart_money.options.evaluation import label_events, metrics
from smart_money.options.market.tape_source import OptionsSource
from smart_money.orchestration.metadata import frame_preview, plain_metadata
from smart_money.orchestration.names import OPTIONS_GROUP
from smart_money.orchestration.resources import OptionsEventStoreResource

MARKET_ASSETS = ("option_prints", "option_quotes", "underlying_quotes", "event_calendar")
PREVIEW_COLUMNS = [
    "event_id",
    "underlying_id",
    "event_kind",
    "n_prints",
    "total_premium",
    "dte_days",
    "structure",
    "primary_profile_id",
    "primary_probability",
    "primary_direction",
    "abstained",
]


def _options_asset(name: str, partitions: dg.PartitionsDefinition, description: str, kinds: set[str] | None = None):
    """@asset with what every options-flow asset shares (group, daily partitions)."""
    return dg.asset(
        name=name,
        group_name=OPTIONS_GROUP,
        partitions_def=partitions,
        kinds=kinds or {"python", "parquet"},
        description=description,
    )


def _day(context: dg.AssetExecutionContext) -> date:
    return pd.Timestamp(context.partition_key).date()


def build_market_asset(source: OptionsSource, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    descriptions = {
        "option_prints": "OPRA-style option prints of the day (print_id, ts, contract, price, size, venue, OPRA "
        "condition letter), validated.",
        "option_quotes": "Option NBBO quotes of the day (as-of joined to prints: last quote with quote_ts <= "
        "print_ts).",
        "underlying_quotes": "Underlying bid/ask quotes of the day (spot, moneyness, moves around events).",
        "event_calendar": "Announced corporate events (earnings ...), used point in time (announced_ts <= t).",
    }
    outs = {
        name: dg.AssetOut(
            group_name=OPTIONS_GROUP,
            kinds={"python", "parquet"},
            description=descriptions[name],
            tags={"layer": "raw", "source": source.name},
        )
        for name in MARKET_ASSETS
    }

    @dg.multi_asset(outs=outs, name="option_market", partitions_def=partitions, can_subset=False)
    def option_market(context: dg.AssetExecutionContext):
        day = _day(context)
        tape = source.normalized_day(day)
        closed = tape is None
        tape = tape or NormalizedTape.empty()
        calendar = (
            tape.calendar
            if tape.calendar is not None
            else pd.DataFrame(columns=["underlying", "event_type", "announced_ts", "event_ts"])
        )
        common = {"source": source.name, "market_open_or_data": not closed}
        frames = {
            "option_prints": tape.prints,
            "option_quotes": tape.quotes,
            "underlying_quotes": tape.underlying,
            "event_calendar": calendar,
        }
        for name, frame in frames.items():
            extra = {}
            if name == "option_prints" and len(frame):
                extra = {
                    "underlyings": int(frame["underlying"].nunique()),
                    "conditions": dg.MetadataValue.json(
                        {str(k): int(v) for k, v in frame["condition"].value_counts().items() if v}
                    ),
                    "first_ts": str(frame["ts"].min()),
                    "last_ts": str(frame["ts"].max()),
                }
            yield dg.Output(
                frame,
                output_name=name,
                metadata={"dagster/row_count": len(frame), **common, **extra, "preview": frame_preview(frame)},
            )

    return option_market


def build_parent_events_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @_options_asset(
        "parent_events",
        partitions,
        "Prints grouped into parent events (same contract within the burst window; multi-leg "
        "structures across contracts of one underlying), with deterministic IDs and every feature: NBBO "
        "placement, aggressor mix, coverage, quote age, venues and sweeps, gaps, premium, DTE to the 16:00 "
        "New York close, moneyness, structure, OPRA condition shares, spot move, IV shock, calendar alignment.",
    )
    def parent_events(
        option_prints: pd.DataFrame,
        option_quotes: pd.DataFrame,
        underlying_quotes: pd.DataFrame,
        event_calendar: pd.DataFrame,
    ) -> dg.Output[pd.DataFrame]:
        rules = load_rules()
        rec = reconstruct(option_prints, rules.reconstruction())
        calendar = event_calendar if len(event_calendar) else None
        underlying = underlying_quotes if len(underlying_quotes) else empty_underlying()
        features = with_membership(compute_features(rec, option_quotes, underlying, calendar, rules.features()), rec)
        return dg.Output(
            features,
            metadata={
                "dagster/row_count": len(features),
                "prints_in_events": int(features["n_prints"].sum()) if len(features) else 0,
                "multi_leg_events": int((features["event_kind"] == "multi_leg_event").sum()) if len(features) else 0,
                "structures": dg.MetadataValue.json(dict(Counter(features["structure"])))
                if len(features)
                else dg.MetadataValue.json({}),
                **plain_metadata({"dropped_prints": rec.dropped}),
                "rules_version": rules.version,
                "preview": frame_preview(
                    features[
                        [
                            "event_id",
                            "underlying_id",
                            "event_kind",
                            "n_prints",
                            "n_legs",
                            "structure",
                            "total_premium",
                            "dte_days",
                            "coverage",
                            "buy_share",
                            "sell_share",
                        ]
                    ]
                    if len(features)
                    else features
                ),
            },
        )

    return parent_events


def build_events_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @_options_asset(
        "smart_money_events",
        partitions,
        kinds={"python", "parquet", "clickhouse"},
        description="Parent events scored over the six profiles (institutional_directional, retail_whale, "
        "event_driven, vol_seller, arbitrage, hedge_reactive) with guards, calibrated probabilities, "
        "directions, reasons, suppressions and abstention; also inserted (idempotently) into the "
        "ClickHouse table `smart_money_events`.",
    )
    def smart_money_events(
        context: dg.AssetExecutionContext, parent_events: pd.DataFrame, options_store: OptionsEventStoreResource
    ) -> dg.Output[pd.DataFrame]:
        rules = load_rules()
        calibration = load_calibration(rules)
        scored = score_events(parent_events, rules, calibration)
        with options_store.open() as store:
            inserted = store.insert(storage_rows(scored, rules, run_mode="replay"))
        emitted = scored[~scored["abstained"]] if len(scored) else scored
        return dg.Output(
            scored,
            metadata={
                "dagster/row_count": len(scored),
                "emitted": len(emitted),
                "abstention_rate": float(scored["abstained"].mean()) if len(scored) else 0.0,
                "by_primary_profile": dg.MetadataValue.json(
                    {str(k): int(v) for k, v in Counter(emitted["primary_profile_id"]).items()}
                ),
                "inserted_into_clickhouse": inserted,
                "clickhouse": options_store.location,
                "scoring_version": rules.version,
                "calibration_version": calibration.version,
                "preview": frame_preview(scored[PREVIEW_COLUMNS] if len(scored) else scored),
            },
        )

    return smart_money_events


def build_evaluation_asset(source: OptionsSource, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @_options_asset(
        "options_evaluation",
        partitions,
        "Per-profile precision, recall, ECE and Brier of the day's events against the synthetic "
        "market's hidden labels (joined by member prints; the engine never sees them). On user files there "
        "are no labels: only emitted counts and mean probabilities.",
    )
    def options_evaluation(
        context: dg.AssetExecutionContext, smart_money_events: pd.DataFrame
    ) -> dg.Output[pd.DataFrame]:
        synthetic = source.synthetic_day(_day(context)) if source.input_dir is None else None
        if synthetic is None or not len(smart_money_events):
            emitted = (
                smart_money_events[~smart_money_events["abstained"]] if len(smart_money_events) else smart_money_events
            )
            frame = pd.DataFrame(
                {
                    "profile": list(PROFILES),
                    "emitted": [
                        int((emitted["primary_profile_id"] == p).sum()) if len(emitted) else 0 for p in PROFILES
                    ],
                    "mean_probability": [
                        float(smart_money_events[f"{p}__probability"].mean())
                        if len(smart_money_events)
                        else float("nan")
                        for p in PROFILES
                    ],
                }
            )
            return dg.Output(
                frame, metadata={"labelled": False, "dagster/row_count": len(frame), "table": frame_preview(frame)}
            )
        result = metrics(label_events(smart_money_events, synthetic[1]))
        frame = pd.DataFrame(
            [
                {
                    "profile": p,
                    "precision": result["per_profile"][p]["precision"],
                    "recall": result["per_profile"][p]["recall"],
                    "support": result["per_profile"][p]["support"],
                    "ece": result["calibration"][p]["ece"],
                    "brier": result["calibration"][p]["brier"],
                }
                for p in PROFILES
            ]
        )
        return dg.Output(
            frame,
            metadata={
                "labelled": True,
                "events": result["events"],
                "abstention_rate": result["abstention_rate"],
                "noise_abstention_rate": result["abstention_rate_noise"],
                "direction": dg.MetadataValue.json(result["direction"]),
                "abstention_by_family": dg.MetadataValue.json(result["abstention_by_family"]),
                "table": frame_preview(frame),
            },
        )

    return options_evaluation
