"""Checks of the raw layer: each table's pandera schema within its partitions' windows (blocking)
and the share of rows quarantined (warning); the universe's schema."""

# no `from __future__ import annotations`: Dagster reads the context parameter's annotation at runtime
import dagster as dg
import pandas as pd

from smart_money.data import storage
from smart_money.data.quality import window_schema
from smart_money.data.raw_pull import partition_window
from smart_money.data.schemas import TABLES, UNIVERSE
from smart_money.defs.ingest.assets import quarantine_path
from smart_money.orchestration.checks import pandera_check, per_partition
from smart_money.settings import Settings

QUARANTINE_WARN_RATE = 0.02


def raw_schema_check(
    asset: dg.AssetsDefinition, table: str, settings: Settings, partitions: dg.PartitionsDefinition
) -> dg.AssetChecksDefinition:
    spec = TABLES[table]
    first_month = pd.Timestamp(settings.start)

    def schema_for(context: dg.AssetCheckExecutionContext):
        keys = context.partition_keys
        first = partition_window(table, pd.Timestamp(keys[0]), first_month)
        last = partition_window(table, pd.Timestamp(keys[-1]), first_month)
        return window_schema(spec, first.lower, last.upper)

    return pandera_check(
        asset,
        schema_for,
        f"Every stored row satisfies the {spec.schema.__name__} pandera schema (types, ranges, allowed "
        "codes, unique natural key, known_at >= event_date) and lies inside its partition's window "
        "(no future-dated rows).",
        partitions_def=partitions,
        # a prices partition repeats the first days of the next month (labels): the later copy counts
        prepare=(lambda frame: frame.drop_duplicates(list(spec.key), keep="last")) if table == "prices" else None,
    )


def quarantine_rate_check(
    asset: dg.AssetsDefinition, table: str, settings: Settings, partitions: dg.PartitionsDefinition
) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset,
        name="quarantine_rate",
        partitions_def=partitions,
        description=f"Warns when more than {QUARANTINE_WARN_RATE:.0%} of the rows received were quarantined.",
        required_resource_keys={"io_manager"},
    )
    def quarantine_check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        # counts only: the row counts of the stored and quarantined files, no table is loaded
        stored = context.resources.io_manager.stored_rows(asset.key, context.partition_keys)
        quarantined = 0
        for key in context.partition_keys:
            path = quarantine_path(settings, table, key)
            if storage.exists(path):
                quarantined += storage.parquet_rows(path)
        total = quarantined + stored
        rate = quarantined / total if total else 0.0
        result = dg.AssetCheckResult(
            passed=rate <= QUARANTINE_WARN_RATE,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"rows_quarantined": quarantined, "rows_stored": stored, "rate": rate},
        )
        return per_partition(context, result)

    return quarantine_check


def universe_schema_check(asset: dg.AssetsDefinition) -> dg.AssetChecksDefinition:
    return pandera_check(asset, UNIVERSE.schema.to_schema(), "Universe rows satisfy UniverseSchema.")
