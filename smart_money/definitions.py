"""The one place Definitions are built. The environment is read when Dagster loads them."""

from __future__ import annotations

import os

import dagster as dg

from smart_money.defs.dataset.assets import build_dataset
from smart_money.defs.ingest.assets import build_ingest
from smart_money.defs.model.assets import build_model_assets
from smart_money.defs.options_flow.assets import OptionsEventStoreResource, build_options_flow
from smart_money.data import storage
from smart_money.settings import Settings
from smart_money.orchestration.executors import executor_for
from smart_money.orchestration.io_manager import PartitionedParquetIOManager
from smart_money.defs.jobs import monthly_refresh_job, monthly_refresh_schedule, options_flow_job
from smart_money.options.market.tape_source import OptionsSource
from smart_money.options.store import URL_VARIABLE, store_url
from smart_money.orchestration.partitions import daily_partitions, monthly_partitions
from smart_money.orchestration.resources import source_resource


def build_definitions(settings: Settings) -> dg.Definitions:
    partitions = monthly_partitions(settings)
    ingest_assets, ingest_checks = build_ingest(settings, partitions)
    dataset_assets, dataset_checks = build_dataset(settings, partitions)
    assets = [*ingest_assets, *dataset_assets, *build_model_assets(settings)]
    checks = [*ingest_checks, *dataset_checks]
    job = monthly_refresh_job()
    options_assets, options_checks = build_options_flow(OptionsSource.from_env(settings), daily_partitions(settings))
    return dg.Definitions(
        assets=[*assets, *options_assets],
        asset_checks=[*checks, *options_checks],
        jobs=[job, options_flow_job()],
        schedules=[monthly_refresh_schedule(job)],
        resources={
            "data_source": source_resource(settings),
            "io_manager": PartitionedParquetIOManager(base_path=storage.join(settings.data_location, "assets")),
            "options_store": options_store_resource(settings),
        },
        executor=executor_for(settings),
    )


def options_store_resource(settings: Settings) -> OptionsEventStoreResource:
    """chDB under data/clickhouse, or the server in SMART_MONEY_CLICKHOUSE_URL (kept as an
    EnvVar so credentials never land in the run config)."""
    if os.environ.get(URL_VARIABLE, "").strip():
        return OptionsEventStoreResource(url=dg.EnvVar(URL_VARIABLE))
    return OptionsEventStoreResource(url=store_url(settings.data_dir, {}))


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(Settings.from_env())
