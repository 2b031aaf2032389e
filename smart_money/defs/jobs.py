"""Jobs and schedules: the monthly refresh of the flow model and the daily options flow."""

from __future__ import annotations

import dagster as dg

from smart_money.orchestration.names import (
    FLOW_MODEL_GROUPS,
    MONTHLY_JOB,
    MONTHLY_SCHEDULE,
    OPTIONS_FLOW_JOB,
    OPTIONS_GROUP,
)


def monthly_refresh_job() -> dg.UnresolvedAssetJobDefinition:
    """The whole monthly flow-model graph for one month (or a range, as one run); partitioned
    by the shared monthly definition of its assets."""
    return dg.define_asset_job(
        MONTHLY_JOB,
        selection=dg.AssetSelection.groups(*FLOW_MODEL_GROUPS),
        description="Pull and validate one month of smart-money data, rebuild the dataset, retrain, evaluate and "
        "register the flow model.",
    )


def monthly_refresh_schedule(job: dg.UnresolvedAssetJobDefinition) -> dg.UnresolvedPartitionedAssetScheduleDefinition:
    """On the 5th at 06:00 (the partitions' New York time zone), refresh the month that just ended: its filings lag by
    up to two business days (Form 4) and its labels resolve by the 3rd."""
    return dg.build_schedule_from_partitioned_job(
        job,
        name=MONTHLY_SCHEDULE,
        day_of_month=5,
        hour_of_day=6,
        description="Monthly refresh of the previous month (backfill missed months instead).",
    )


def options_flow_job() -> dg.UnresolvedAssetJobDefinition:
    """One trading day of the options-flow engine: market -> parent events -> scored events
    (ClickHouse) -> evaluation; partitioned by day."""
    return dg.define_asset_job(
        OPTIONS_FLOW_JOB,
        selection=dg.AssetSelection.groups(OPTIONS_GROUP),
        description="Options prints to stored smart-money events and their evaluation, for one day.",
    )


def jobs_definitions() -> dg.Definitions:
    monthly = monthly_refresh_job()
    return dg.Definitions(jobs=[monthly, options_flow_job()], schedules=[monthly_refresh_schedule(monthly)])
