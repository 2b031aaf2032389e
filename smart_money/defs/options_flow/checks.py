"""Checks of the options-flow group: the prints and the scored events satisfy their contracts."""

from __future__ import annotations

import dagster as dg

from smart_money.options.engine.schemas import PrintsFrame, ScoredEventsFrame
from smart_money.orchestration.checks import pandera_check


def options_flow_checks(partitions: dg.PartitionsDefinition) -> list[dg.AssetChecksDefinition]:
    return [
        pandera_check(
            "option_prints",
            PrintsFrame.to_schema(),
            "Every print satisfies PrintsFrame: unique print_id, UTC timestamps, C/P rights, positive strike and size, "
            "real OPRA condition letters.",
            partitions_def=partitions,
        ),
        pandera_check(
            "smart_money_events",
            ScoredEventsFrame.to_schema(),
            "Every event satisfies ScoredEventsFrame: unique event_id, probabilities in [0, 1], known profiles and "
            "directions, abstained exactly when no primary profile.",
            partitions_def=partitions,
        ),
    ]
