"""Checks of the options-flow group: the prints and the scored events satisfy their contracts."""

from __future__ import annotations

from datetime import date

import dagster as dg
import pandera.pandas as pa

from smart_money.options.engine.schemas import PrintsFrame, ScoredEventsFrame, on_days
from smart_money.orchestration.checks import SchemaFor, pandera_check


def _on_partition_days(model: type[pa.DataFrameModel], column: str) -> SchemaFor:
    """The model's schema plus: `column` falls on the checked partitions' New York days."""

    def schema(context: dg.AssetCheckExecutionContext) -> pa.DataFrameSchema:
        return on_days(model.to_schema(), column, (date.fromisoformat(k) for k in context.partition_keys))

    return schema


def options_flow_checks(partitions: dg.PartitionsDefinition) -> list[dg.AssetChecksDefinition]:
    return [
        pandera_check(
            "option_prints",
            _on_partition_days(PrintsFrame, "ts"),
            "Every print satisfies PrintsFrame: unique print_id, UTC timestamps on the partition's New York day, "
            "C/P rights, positive strike and size, real OPRA condition letters.",
            partitions_def=partitions,
        ),
        pandera_check(
            "smart_money_events",
            _on_partition_days(ScoredEventsFrame, "first_ts_ns"),
            "Every event satisfies ScoredEventsFrame: unique event_id, event time on the partition's New York day, "
            "probabilities in [0, 1], known profiles and directions, abstained exactly when no primary profile.",
            partitions_def=partitions,
        ),
    ]
