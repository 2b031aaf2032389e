"""Checks of the research group: the events schema per partition (blocking) and the rule that
a partition holds only events public in its month."""

# no `from __future__ import annotations`: Dagster reads the context parameter's annotation at runtime
import dagster as dg
import pandas as pd

from smart_money.data import calendar as cal
from smart_money.orchestration.checks import pandera_check, per_partition
from smart_money.research.events import DisclosureEventsSchema


def events_schema_check(asset: dg.AssetsDefinition, partitions: dg.PartitionsDefinition) -> dg.AssetChecksDefinition:
    return pandera_check(
        asset,
        DisclosureEventsSchema.to_schema(),
        "Disclosure events schema: known families, unique ids, at least one actor, never public before they happened.",
        partitions_def=partitions,
    )


def events_month_check(asset: dg.AssetsDefinition, partitions: dg.PartitionsDefinition) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset,
        name="public_in_partition_month",
        blocking=True,
        partitions_def=partitions,
        description="Every event of the checked partitions became public (known_at) inside their months.",
    )
    def public_in_partition_month(context: dg.AssetCheckExecutionContext, frame: pd.DataFrame) -> dg.AssetCheckResult:
        keys = context.partition_key_range
        first, last = pd.Timestamp(keys.start), pd.Timestamp(keys.end)
        outside = frame[(frame["known_at"] < first) | (frame["known_at"] >= cal.add_months(last, 1))]
        return per_partition(context, dg.AssetCheckResult(passed=outside.empty, metadata={"outside": len(outside)}))

    return public_in_partition_month
