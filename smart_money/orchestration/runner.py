"""Running the monthly graph as one run (what `smart-money run` and the benchmarks call): in this
process with the `local` profile's in-process executor, or with step processes (multiprocess,
Kubernetes) through a reconstructable job that each step rebuilds from the environment."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import partial

import dagster as dg

from smart_money.orchestration.failures import FailureCause, failure_causes
from smart_money.orchestration.home import run_tags
from smart_money.orchestration.instance import ensure_dagster_home
from smart_money.orchestration.names import MONTHLY_JOB
from smart_money.orchestration.partitions import monthly_partitions
from smart_money.orchestration.prefetch import independent_universes_prefetched
from smart_money.orchestration.run_events import RunObserver, follow, launch_tag
from smart_money.settings import Settings

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


@dataclass(frozen=True)
class CodeLocation:
    """What the runner needs of the code location (`smart_money.definitions.CODE_LOCATION`):
    its Definitions for given settings, and the module-level function each step process of a
    multiprocess or Kubernetes run calls to rebuild the monthly job from the environment."""

    build: Callable[[Settings], dg.Definitions]
    job_from_env: Callable[[], dg.JobDefinition]


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
    causes: list[FailureCause] = field(default_factory=list)  # of a failed run, outermost first

    @property
    def failed_checks(self) -> list[tuple[str, str, bool, str]]:
        return [c for c in self.checks if not c[2]]


def run_monthly_graph(
    location: CodeLocation,
    settings: Settings,
    instance: dg.DagsterInstance | None = None,
    log_level: str = "WARNING",
    op_config: dict[str, dict] | None = None,
    assets: list[str] | None = None,
    chunk_months: int | None = None,
    observer: RunObserver | None = None,
) -> RunSummary:
    """Materialize every month of the configured range through the whole graph, as one run.
    `op_config` sets asset configs, e.g. {"evaluation_report": {"independent_worlds": 1}};
    `assets` limits the run to some of the job's assets (default: all).

    `chunk_months` bounds memory by history length: the monthly assets (universe, raw pulls,
    features, labels) run `chunk_months` months at a time, each run loading only its months and
    their look-back partitions, then one run builds the unpartitioned dataset and model assets
    over the whole range. Every month's partitions are the same either way (a partition depends
    only on its month and the configured first month), so is the model.

    `observer` is told each run's id, steps and warnings while it executes (`run_events`)."""
    if instance is None:
        ensure_dagster_home(settings)
        instance = dg.DagsterInstance.get()
    defs = location.build(settings)
    keys = monthly_partitions(settings).get_partition_keys()
    if not keys:
        raise ValueError("the configured range has no complete month yet")
    if chunk_months is not None and chunk_months < 1:
        raise ValueError(f"chunk_months must be a positive number of months, not {chunk_months}")
    job = defs.resolve_job_def(MONTHLY_JOB)
    run_range = partial(_run, location, settings, instance, job, log_level, op_config, observer=observer)
    with independent_universes_prefetched(settings, keys, op_config, assets):
        if chunk_months is None or chunk_months >= len(keys):
            return run_range(keys, assets)
        return _run_chunks(run_range, defs, job, keys, assets, chunk_months)


def _run_chunks(
    run_range: Callable[[list[str], list[str] | None], RunSummary],
    defs: dg.Definitions,
    job: dg.JobDefinition,
    keys: list[str],
    assets: list[str] | None,
    chunk_months: int,
) -> RunSummary:
    """The monthly assets `chunk_months` months at a time, then the rest over the whole range."""
    selected = assets or [key.to_user_string() for key in job.asset_layer.executable_asset_keys]
    monthly, whole_range = _split_by_partitioning(defs, selected)
    partitioned = _partitioned(defs, monthly)
    runs: list[RunSummary] = []
    for i in range(0, len(keys), chunk_months):
        chunk_assets = monthly if i == 0 else [a for a in monthly if a in partitioned]  # the universe once
        runs.append(run_range(keys[i : i + chunk_months], chunk_assets))
        if not runs[-1].success:
            break
    if runs[-1].success and whole_range:
        runs.append(run_range(keys, whole_range))
    return _combine(runs, keys)


def _partitioned(defs: dg.Definitions, names: list[str]) -> set[str]:
    graph = defs.resolve_asset_graph()
    return {n for n in names if graph.get(dg.AssetKey(n)).is_partitioned}


def _split_by_partitioning(defs: dg.Definitions, names: list[str]) -> tuple[list[str], list[str]]:
    """(partitioned assets and the unpartitioned ones they read, e.g. the universe; the rest)."""
    graph = defs.resolve_asset_graph()
    partitioned = _partitioned(defs, names)
    feeding = {p.to_user_string() for n in partitioned for p in graph.get(dg.AssetKey(n)).parent_keys}
    monthly = [n for n in names if n in partitioned or (n in feeding and n not in partitioned)]
    return monthly, [n for n in names if n not in monthly]


def _combine(runs: list[RunSummary], keys: list[str]) -> RunSummary:
    """One summary of chunked runs: partitioned assets' rows summed over the chunks."""
    assets: dict[str, AssetOutcome] = {}
    for run in runs:
        for outcome in run.assets:
            if outcome.asset in assets and outcome.rows is not None and assets[outcome.asset].rows is not None:
                assets[outcome.asset] = AssetOutcome(
                    outcome.asset, assets[outcome.asset].rows + outcome.rows, outcome.metadata
                )
            else:
                assets[outcome.asset] = outcome
    failed = next((r for r in runs if not r.success), None)
    return RunSummary(
        run_id=",".join(r.run_id for r in runs),
        success=failed is None,
        first_partition=keys[0],
        last_partition=keys[-1],
        assets=list(assets.values()),
        checks=sorted({c for r in runs for c in r.checks}),
        error=failed.error if failed else None,
        causes=failed.causes if failed else [],
    )


def _run(
    location: CodeLocation,
    settings: Settings,
    instance: dg.DagsterInstance,
    job: dg.JobDefinition,
    log_level: str,
    op_config: dict[str, dict] | None,
    keys: list[str],
    assets: list[str] | None,
    observer: RunObserver | None = None,
) -> RunSummary:
    """One run of the monthly job over the partition range keys[0]..keys[-1]."""
    selection = set(assets) if assets else None
    ops = {
        name: {"config": config} for name, config in (op_config or {}).items() if selection is None or name in selection
    }
    launch = launch_tag() if observer else {}
    run = dict(
        instance=instance,
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}, "ops": ops},
        tags={RANGE_START_TAG: keys[0], RANGE_END_TAG: keys[-1], **run_tags(), **launch},
        raise_on_error=False,
        asset_selection=[dg.AssetKey(a) for a in assets] if assets else None,
    )
    with follow(instance, launch, observer) if observer else nullcontext():
        if settings.step_executor == "in_process":
            result = job.execute_in_process(**run)
        else:
            with environment(settings.to_env()):
                result = dg.execute_job(dg.reconstructable(location.job_from_env), **run)
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
    error, causes = None, []
    if not result.success:
        failures = [e for e in result.all_events if e.is_failure]
        error = failures[0].message if failures else "run failed"
        causes = failure_causes(result.all_events)
    return RunSummary(result.run_id, result.success, keys[0], keys[-1], list(assets.values()), checks, error, causes)


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
