"""What the Dagster UI reads about checks: partitioned checks run over a range (a single-run
backfill) are recorded for every partition, the model's gates are a WARN check, and loading the
code location prints no Beta/Preview warning."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import date

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from smart_money.definitions import CODE_LOCATION
from smart_money.orchestration.runner import run_monthly_graph
from smart_money_tests.support.settings import small_settings_at

MONTHS = ["2022-10-01", "2022-11-01", "2022-12-01"]


def test_a_range_run_records_each_partitioned_check_for_every_partition(tmp_path):
    settings = dataclasses.replace(small_settings_at(tmp_path), end=date(2022, 12, 1))
    instance = dg.DagsterInstance.ephemeral()
    summary = run_monthly_graph(CODE_LOCATION, settings, instance=instance, assets=["universe", "raw_congress_trades"])
    assert summary.success, summary.error
    keys = [dg.AssetCheckKey(dg.AssetKey("raw_congress_trades"), name) for name in ("schema", "quarantine_rate")]
    infos = instance.event_log_storage.get_asset_check_partition_info(keys)
    for key in keys:
        by_partition = {i.partition_key: i.latest_execution_status for i in infos if i.check_key == key}
        assert {k: by_partition.get(k) for k in MONTHS} == dict.fromkeys(
            MONTHS, AssetCheckExecutionRecordStatus.SUCCEEDED
        ), (key, by_partition)  # not left PLANNED, which the UI shows as skipped
        for info in infos:  # each checked the partition's latest materialization (else the UI shows it missing)
            if info.check_key == key and info.partition_key in MONTHS:
                assert info.latest_target_materialization_storage_id == info.latest_materialization_storage_id
                assert info.latest_materialization_storage_id is not None
    evaluations = [
        e
        for e in instance.get_records_for_run(summary.run_id).records
        if e.event_log_entry.dagster_event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    ranged = [e.event_log_entry.dagster_event.asset_check_evaluation_data for e in evaluations]
    assert all(ev.metadata["checked_range"].value == f"{MONTHS[0]}..{MONTHS[-1]}" for ev in ranged if ev.partition), (
        ranged
    )


def test_the_registered_model_has_a_warn_gates_check_that_fails_when_rejected(pipeline_run):
    settings, summary = pipeline_run
    from smart_money.model.registry import REJECTED, Registry

    entry = Registry(settings.models_location).index()["versions"][-1]
    gates = [c for c in summary.checks if c[:2] == ("registered_model", "gates")]
    assert gates == [("registered_model", "gates", entry["status"] != REJECTED, "WARN")]


def test_loading_the_code_location_prints_no_beta_or_preview_warning(tmp_path):
    code = (
        "import warnings; warnings.simplefilter('default');"
        "from smart_money.definitions import defs; defs().resolve_job_def('monthly_refresh_job')"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMART_MONEY_", "PYTHONWARNINGS"))}
    env["SMART_MONEY_HOME"] = str(tmp_path)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "BetaWarning" not in proc.stderr and "PreviewWarning" not in proc.stderr, proc.stderr


def test_the_batched_materialization_lookup_equals_one_query_per_partition():
    from smart_money.orchestration.checks import _materialization_of, _materializations_of

    partitions = dg.StaticPartitionsDefinition([f"p{i}" for i in range(7)])

    @dg.asset(partitions_def=partitions)
    def thing() -> int:
        return 1

    instance = dg.DagsterInstance.ephemeral()
    for keys in (["p0", "p1", "p2", "p3"], ["p1", "p3"], ["p3"]):  # p1 and p3 twice, p3 three times
        for key in keys:
            assert dg.materialize([thing], instance=instance, partition_key=key).success
    wanted = [f"p{i}" for i in range(7)]  # p4..p6 never materialized
    batched = _materializations_of(instance, thing.key, wanted)
    reference = {k: m for k in wanted if (m := _materialization_of(instance, thing.key, k)) is not None}
    assert batched == reference and sorted(batched) == ["p0", "p1", "p2", "p3"]
