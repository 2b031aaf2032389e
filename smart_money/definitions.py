"""The one place Definitions are built. The environment is read when Dagster loads them."""

from __future__ import annotations

import dagster as dg

from smart_money.assets.dataset import build_dataset
from smart_money.assets.ingest import build_ingest
from smart_money.assets.model import build_model_assets
from smart_money.core.settings import Settings
from smart_money.io_manager import PartitionedParquetIOManager
from smart_money.jobs import monthly_refresh_job, monthly_refresh_schedule
from smart_money.partitions import monthly_partitions
from smart_money.resources import source_resource


def build_definitions(settings: Settings) -> dg.Definitions:
    partitions = monthly_partitions(settings)
    ingest_assets, ingest_checks = build_ingest(settings, partitions)
    dataset_assets, dataset_checks = build_dataset(settings, partitions)
    assets = [*ingest_assets, *dataset_assets, *build_model_assets(settings)]
    checks = [*ingest_checks, *dataset_checks]
    job = monthly_refresh_job()
    return dg.Definitions(
        assets=assets,
        asset_checks=checks,
        jobs=[job],
        schedules=[monthly_refresh_schedule(job)],
        resources={
            "data_source": source_resource(settings),
            "io_manager": PartitionedParquetIOManager(base_path=str(settings.data_dir / "assets")),
        },
        executor=dg.in_process_executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(Settings.from_env())
