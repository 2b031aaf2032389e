"""Checks of the dataset group: the features and labels schemas (blocking, per partition) and
the training dataset's validation findings (CRITICAL blocking, WARNING shown)."""

# no `from __future__ import annotations`: Dagster reads the context parameter's annotation at runtime
import dagster as dg
import pandas as pd

from smart_money.dataset.training_set import (
    CRITICAL,
    WARNING,
    features_schema,
    labels_schema,
    report_markdown,
    validate_training_dataset,
)
from smart_money.orchestration.checks import pandera_check


def features_check(asset: dg.AssetsDefinition, partitions: dg.PartitionsDefinition) -> dg.AssetChecksDefinition:
    return pandera_check(
        asset,
        features_schema(),
        "Features schema: every catalogue column, indicators 0/1, unique (symbol, sample date), and no "
        "family input newer than the sample's cutoff.",
        partitions_def=partitions,
    )


def labels_check(asset: dg.AssetsDefinition, partitions: dg.PartitionsDefinition) -> dg.AssetChecksDefinition:
    return pandera_check(
        asset,
        labels_schema(),
        "Labels schema: label iff resolved, label end after the sample date.",
        partitions_def=partitions,
    )


def training_dataset_checks(asset: dg.AssetsDefinition) -> list[dg.AssetChecksDefinition]:
    @dg.asset_check(
        asset=asset,
        name="critical",
        blocking=True,
        description="No CRITICAL finding: schema, temporal integrity (no input newer than its sample's cutoff, "
        "labels after the sample), no constant features.",
    )
    def critical(frame: pd.DataFrame) -> dg.AssetCheckResult:
        findings = [f for f in validate_training_dataset(frame) if f.severity == CRITICAL]
        return dg.AssetCheckResult(
            passed=not findings,
            metadata={"findings": dg.MetadataValue.md(report_markdown(findings) if findings else "none")},
        )

    @dg.asset_check(
        asset=asset,
        name="warnings",
        description="WARNING findings (completeness, label balance, coverage): shown, not blocking.",
    )
    def warnings(frame: pd.DataFrame) -> dg.AssetCheckResult:
        findings = [f for f in validate_training_dataset(frame) if f.severity == WARNING]
        return dg.AssetCheckResult(
            passed=not findings,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"findings": dg.MetadataValue.md(report_markdown(findings) if findings else "none")},
        )

    return [critical, warnings]
