"""The one pandera-check factory: an asset check that validates the stored frame against a
schema (lazily, every failure collected), names the failing rows and why, and leaves the data
inspectable (a failed blocking check stops downstream assets, never the materialization)."""

# no `from __future__ import annotations`: Dagster reads the context parameter's annotation at runtime
from collections.abc import Callable

import dagster as dg
import pandas as pd
import pandera.pandas as pa
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,  # what Dagster's own partitioned results carry
)
from dagster_pandera import pandera_schema_to_dagster_type

from smart_money.data.quality import describe_failures

# The schema may depend on the run's partitions (e.g. a raw table's window).
SchemaFor = Callable[[dg.AssetCheckExecutionContext], pa.DataFrameSchema]


def column_schema(model: type[pa.DataFrameModel]) -> dg.TableSchema:
    """The model's columns as the UI's Columns tab shows them (constraints included)."""
    return pandera_schema_to_dagster_type(model).metadata["schema"].schema


def per_partition(context: dg.AssetCheckExecutionContext, result: dg.AssetCheckResult) -> dg.AssetCheckResult:
    """`result` of a partitioned check, recorded for each partition of a range run as well.

    In a single-run backfill Dagster plans a partitioned check once per partition but records
    its one result without a partition, so the UI's check list, graph card and partitions bar
    show every partition as skipped while the check's own page says passed. This records the
    range's verdict for each of its partitions (metadata `checked_range` says it covers the range
    as a whole), so all of them agree; a one-partition run needs nothing more."""
    keys = context.partition_keys if context.op_execution_context.has_partition_key_range else []
    if len(keys) > 1:
        spec = next(iter(context.check_specs))
        targets = _materializations_of(context.instance, spec.asset_key, keys)
        for key in keys:
            context.op_execution_context.log_event(
                dg.AssetCheckEvaluation(
                    asset_key=spec.asset_key,
                    check_name=spec.name,
                    passed=result.passed,
                    metadata={**result.metadata, "checked_range": f"{keys[0]}..{keys[-1]}"},
                    # the partition's materialization it checked: the UI counts a check for a
                    # partition only against the partition's latest materialization
                    target_materialization_data=targets.get(key),
                    severity=result.severity,
                    description=result.description,
                    blocking=spec.blocking,
                    partition=key,
                )
            )
    return result


def _materializations_of(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, partitions: list[str]
) -> dict[str, AssetCheckEvaluationTargetMaterializationData]:
    """Each partition's latest materialization (absent: none), read newest first in pages of one
    query for the whole range rather than one query per partition."""
    wanted, found = set(partitions), {}
    records_filter = dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=list(partitions))
    cursor = None
    while True:
        page = instance.fetch_materializations(records_filter, limit=max(len(wanted), 100), cursor=cursor)
        for record in page.records:  # newest first: the first seen of a partition is its latest
            key = record.partition_key
            if key in wanted and key not in found:
                found[key] = AssetCheckEvaluationTargetMaterializationData(
                    run_id=record.event_log_entry.run_id, storage_id=record.storage_id, timestamp=record.timestamp
                )
        if len(found) == len(wanted) or not page.has_more:
            return found
        cursor = page.cursor


def _materialization_of(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, partition: str
) -> AssetCheckEvaluationTargetMaterializationData | None:
    """One partition's latest materialization (the reference of `_materializations_of`)."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[partition]), limit=1
    ).records
    if not records:
        return None
    record = records[0]
    return AssetCheckEvaluationTargetMaterializationData(
        run_id=record.event_log_entry.run_id, storage_id=record.storage_id, timestamp=record.timestamp
    )


def pandera_check(
    asset: dg.AssetsDefinition | str,
    schema: pa.DataFrameSchema | SchemaFor,
    description: str,
    *,
    name: str = "schema",
    partitions_def: dg.PartitionsDefinition | None = None,
    blocking: bool = True,
    prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> dg.AssetChecksDefinition:
    """A check named `name` on `asset` that passes when every row satisfies `schema` (a schema,
    or a function of the check's context returning one). `prepare` selects what is checked,
    e.g. the rows that stay after de-duplication."""

    @dg.asset_check(asset=asset, name=name, blocking=blocking, partitions_def=partitions_def, description=description)
    def check(context: dg.AssetCheckExecutionContext, frame: pd.DataFrame) -> dg.AssetCheckResult:
        checked = prepare(frame) if prepare else frame
        resolved = schema if isinstance(schema, pa.DataFrameSchema) else schema(context)
        failing, table_md = describe_failures(checked, resolved)
        result = dg.AssetCheckResult(
            passed=failing == 0,
            metadata={
                "failing_rows": failing,
                "rows_checked": len(checked),
                "failures": dg.MetadataValue.md(table_md or "none"),
            },
            description=None if failing == 0 else f"{failing} rows violate the schema; see `failures`",
        )
        return per_partition(context, result) if partitions_def is not None else result

    return check
