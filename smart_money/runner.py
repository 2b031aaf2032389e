"""Running the monthly graph as one run (what `smart-money run` and the benchmarks call): in this
process with the `local` profile's in-process executor, or with step processes (multiprocess,
Kubernetes) through a reconstructable job that each step rebuilds from the environment."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import dagster as dg

from smart_money.core.settings import Settings
from smart_money.definitions import build_definitions
from smart_money.instance import ensure_dagster_home
from smart_money.jobs import MONTHLY_JOB
from smart_money.partitions import monthly_partitions

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


@dataclass
class AssetOutcome:
    asset: str
    rows: int | None
    metadata: dict[str, object] = field(default_factory=dict)


@dataclass
class RunSummary:
    run_id: str
    success: bool
    first_partition: str
    last_partition: str
    assets: list[AssetOutcome]
    checks: list[tuple[str, str, bool, str]]  # asset, check, passed, severity
    error: str | None = None

    @property
    def failed_checks(self) -> list[tuple[str, str, bool, str]]:
        return [c for c in self.checks if not c[2]]


def run_monthly_graph(
    settings: Settings,
    instance: dg.DagsterInstance | None = None,
    log_level: str = "WARNING",
    op_config: dict[str, dict] | None = None,
    assets: list[str] | None = None,
) -> RunSummary:
    """Materialize every month of the configured range through the whole graph, as one run.
    `op_config` sets asset configs, e.g. {"evaluation_report": {"independent_worlds": 1}};
    `assets` limits the run to some of the job's assets (default: all)."""
    if instance is None:
        ensure_dagster_home(settings)
        instance = dg.DagsterInstance.get()
    defs = build_definitions(settings)
    keys = monthly_partitions(settings).get_partition_keys()
    if not keys:
        raise ValueError("the configured range has no complete month yet")
    run = dict(
        instance=instance,
        run_config={
            "loggers": {"console": {"config": {"log_level": log_level}}},
            "ops": {name: {"config": config} for name, config in (op_config or {}).items()},
        },
        tags={RANGE_START_TAG: keys[0], RANGE_END_TAG: keys[-1]},
        raise_on_error=False,
        asset_selection=[dg.AssetKey(a) for a in assets] if assets else None,
    )
    if settings.step_executor == "in_process":
        result = defs.resolve_job_def(MONTHLY_JOB).execute_in_process(**run)
    else:
        with environment(settings.to_env()):
            result = dg.execute_job(dg.reconstructable(monthly_job_from_env), **run)
    assets: dict[str, AssetOutcome] = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        name = mat.asset_key.to_user_string()
        if name in assets:  # a range run reports every partition with the run's metadata
            continue
        metadata = {k: v.value for k, v in mat.metadata.items()}
        rows = metadata.get("dagster/row_count")
        assets[name] = AssetOutcome(name, int(rows) if rows is not None else None, metadata)
    checks = sorted(
        {
            (e.asset_key.to_user_string(), e.check_name, e.passed, e.severity.value)
            for e in result.get_asset_check_evaluations()
        }
    )
    error = None
    if not result.success:
        failures = [e for e in result.all_events if e.is_failure]
        error = failures[0].message if failures else "run failed"
    return RunSummary(result.run_id, result.success, keys[0], keys[-1], list(assets.values()), checks, error)


def monthly_job_from_env() -> dg.JobDefinition:
    """The monthly job built from the SMART_MONEY_* environment: what each step process of a
    multiprocess (or Kubernetes) run rebuilds."""
    return build_definitions(Settings.from_env()).resolve_job_def(MONTHLY_JOB)


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of the block (step processes inherit them)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
