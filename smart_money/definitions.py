"""The code location: merges the groups' definitions and applies shared policy once. The
environment is read when Dagster loads them (never at import) and the network is never called."""

from __future__ import annotations

import dagster as dg

from smart_money.data import storage
from smart_money.defs.dataset import dataset_definitions
from smart_money.defs.ingest import ingest_definitions
from smart_money.defs.jobs import jobs_definitions
from smart_money.defs.model import model_definitions
from smart_money.defs.options_flow import options_flow_definitions
from smart_money.defs.research import research_definitions
from smart_money.options.market.tape_source import OptionsSource
from smart_money.orchestration.dagster_warnings import quiet_beta_and_preview_warnings
from smart_money.orchestration.executors import executor_for
from smart_money.orchestration.io_manager import PartitionedParquetIOManager
from smart_money.orchestration.names import MONTHLY_JOB, OWNERS
from smart_money.orchestration.partitions import daily_partitions, monthly_partitions
from smart_money.orchestration.resources import data_source_resource, options_store_resource
from smart_money.orchestration.runner import CodeLocation
from smart_money.settings import Settings
from smart_money.settings.options import OptionsSettings

quiet_beta_and_preview_warnings()  # the groups' builders below use those APIs when called


def build_definitions(settings: Settings, options: OptionsSettings | None = None) -> dg.Definitions:
    """Every group of the project for these settings, owned by the team, with its resources and
    the profile's executor."""
    options = options or OptionsSettings.from_env()
    months = monthly_partitions(settings)
    groups = dg.Definitions.merge(
        ingest_definitions(settings, months),
        dataset_definitions(settings, months),
        model_definitions(settings),
        research_definitions(settings, months),
        options_flow_definitions(OptionsSource.configured(settings, options), daily_partitions(settings)),
        jobs_definitions(),
        dg.Definitions(
            resources={
                "data_source": data_source_resource(settings),
                "io_manager": PartitionedParquetIOManager(base_path=storage.assets_location(settings.data_location)),
                "options_store": options_store_resource(settings, options),
            },
            executor=executor_for(settings),
        ),
    )
    return groups.map_asset_specs(func=lambda spec: spec.replace_attributes(owners=OWNERS))


def monthly_job_from_env() -> dg.JobDefinition:
    """The monthly job built from the SMART_MONEY_* environment: what each step process of a
    multiprocess (or Kubernetes) run rebuilds."""
    return build_definitions(Settings.from_env()).resolve_job_def(MONTHLY_JOB)


CODE_LOCATION = CodeLocation(build_definitions, monthly_job_from_env)


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(Settings.from_env())
