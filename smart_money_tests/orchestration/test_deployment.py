"""Deployment profiles: the same graph on Dagster's PostgreSQL storage with a process per step,
and with every asset and model file on an S3-compatible object store (moto's server)."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from smart_money.definitions import CODE_LOCATION, build_definitions
from smart_money.model.registry import Registry
from smart_money.orchestration.instance import instance_config
from smart_money.orchestration.io_manager import RUNS_FOLDER
from smart_money.orchestration.names import MONTHLY_JOB
from smart_money.orchestration.runner import environment, run_monthly_graph
from smart_money.settings import Settings, SettingsError
from smart_money_tests.support.settings import FAST_EVALUATION, small_settings_at


def test_the_profile_picks_the_executor_when_definitions_are_built(tmp_path):
    base = small_settings_at(tmp_path)
    executors = {}
    for profile in ("local", "postgres", "kubernetes"):
        job = build_definitions(replace(base, profile=profile)).resolve_job_def(MONTHLY_JOB)
        executors[profile] = job.executor_def.name
    assert executors == {"local": "in_process", "postgres": "in_process", "kubernetes": "k8s"}
    override = Settings.from_env(
        {"SMART_MONEY_PROFILE": "postgres", "SMART_MONEY_EXECUTOR": "in-process", "SMART_MONEY_END": "2023-09"}
    )
    assert override.step_executor == "in_process"
    with pytest.raises(SettingsError, match="SMART_MONEY_PROFILE='cloud'"):
        Settings.from_env({"SMART_MONEY_PROFILE": "cloud"})
    with pytest.raises(SettingsError, match="SMART_MONEY_MAX_CONCURRENT"):
        Settings.from_env({"SMART_MONEY_MAX_CONCURRENT": "0"})


def test_settings_survive_the_trip_through_the_environment(tmp_path):
    settings = replace(
        small_settings_at(tmp_path),
        profile="postgres",
        max_concurrent_steps=2,
        data_url="s3://bucket/data",
        hedge_funds=("0000000001",),
        min_inst_ownership_pct=None,
    )
    assert Settings.from_env(settings.to_env()) == replace(settings, executor="in_process")


def registered(settings: Settings) -> tuple[dict, dict]:
    registry = Registry(settings.models_location)
    entry = registry.index()["versions"][-1]
    metadata = json.loads((registry.folder(entry["version"]) / "metadata.json").read_text())
    return entry, metadata


def comparable(metadata: dict) -> dict:
    """What must not depend on where or how the run executed."""
    keys = (
        "metrics",
        "baselines",
        "mirror_label",
        "oracle",
        "independent_universe",
        "walk_forward",
        "feature_importance",
        "gates",
        "data",
    )
    return {k: metadata.get(k) for k in keys} | {
        "dataset_sha256": metadata["lineage"]["dataset_sha256"],
        "status": metadata["status"],
    }


@pytest.fixture
def postgres_instance(postgres_server, tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(instance_config("postgres"), home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", postgres_server.url)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        yield instance
        instance.wipe()


@pytest.mark.parametrize("executor", ["in_process", pytest.param("multiprocess", marks=pytest.mark.slow)])
def test_postgres_profile_backfill_registers_the_same_model_in_process_and_with_a_process_per_step(
    pipeline_run, postgres_instance, tmp_path, executor
):
    """The profile's own executor (a run's steps in its process) and SMART_MONEY_EXECUTOR=multiprocess."""
    from dagster._core.run_coordinator import QueuedRunCoordinator
    from dagster_postgres import PostgresRunStorage

    assert isinstance(postgres_instance.run_storage, PostgresRunStorage)
    assert isinstance(postgres_instance.run_coordinator, QueuedRunCoordinator)
    local_settings, local_summary = pipeline_run
    settings = replace(
        local_settings, home=tmp_path / "home", profile="postgres", executor=executor, max_concurrent_steps=2
    )

    summary = run_monthly_graph(CODE_LOCATION, settings, instance=postgres_instance, op_config=FAST_EVALUATION)

    assert summary.success, summary.error
    assert (summary.first_partition, summary.last_partition) == ("2022-10-01", "2023-09-01")
    assert {a.asset for a in summary.assets} == {a.asset for a in local_summary.assets}
    # multiprocess: every step ran in a process of its own; in_process: all in this one; the
    # history lives in PostgreSQL either way
    records = postgres_instance.all_logs(summary.run_id, of_type=dg.DagsterEventType.STEP_START)
    step_pids = {r.dagster_event.pid for r in records}
    assert len(records) >= 11
    if executor == "multiprocess":
        assert os.getpid() not in step_pids and len(step_pids) == len(records)
    else:
        assert step_pids == {os.getpid()}
    assert postgres_instance.get_run_by_id(summary.run_id).is_success
    # the registered model and its numbers are those of the local in-process run on the same data
    local_entry, local_metadata = registered(local_settings)
    entry, metadata = registered(settings)
    assert (
        entry["metrics"] == local_entry["metrics"]
        and entry["sha256"]["model.txt"] == local_entry["sha256"]["model.txt"]
    )
    assert comparable(metadata) == comparable(local_metadata)


@pytest.mark.slow
def test_a_backfill_in_chunks_of_months_stores_the_same_partitions_and_registers_the_same_model(pipeline_run, tmp_path):
    """chunk_months bounds memory by history length; nothing a user sees may change."""
    from smart_money.data import storage

    local_settings, local_summary = pipeline_run
    settings = replace(local_settings, home=tmp_path / "home")
    instance = dg.DagsterInstance.ephemeral()

    summary = run_monthly_graph(CODE_LOCATION, settings, instance=instance, op_config=FAST_EVALUATION, chunk_months=5)

    assert summary.success, summary.error
    # 12 months in chunks of 5: three runs of the monthly assets, then one of the model assets
    runs = summary.run_id.split(",")
    assert len(runs) == 4
    ranges = [
        (r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
        for r in map(instance.get_run_by_id, runs)
    ]
    assert ranges == [
        ("2022-10-01", "2023-02-01"),
        ("2023-03-01", "2023-07-01"),
        ("2023-08-01", "2023-09-01"),
        ("2022-10-01", "2023-09-01"),
    ]
    rows, local_rows = {a.asset: a.rows for a in summary.assets}, {a.asset: a.rows for a in local_summary.assets}
    # price partitions reach 7 days into the next month: the chunks' sums count those days twice
    assert rows.pop("raw_prices") > local_rows.pop("raw_prices") and rows == local_rows
    for asset in ("raw_insider_trades", "raw_institutional_holdings", "raw_prices", "features", "labels"):
        for month in sorted(p.name for p in (local_settings.data_dir / "assets" / asset).iterdir()):
            pd.testing.assert_frame_equal(
                storage.read_parquet(settings.data_dir / "assets" / asset / month),
                storage.read_parquet(local_settings.data_dir / "assets" / asset / month),
            )
    local_entry, local_metadata = registered(local_settings)
    entry, metadata = registered(settings)
    assert entry["sha256"]["model.txt"] == local_entry["sha256"]["model.txt"]
    assert comparable(metadata) == comparable(local_metadata)
    with pytest.raises(ValueError, match="chunk_months"):
        run_monthly_graph(CODE_LOCATION, settings, instance=instance, chunk_months=0)


@pytest.mark.slow
def test_a_run_on_object_storage_writes_and_reads_every_asset_there(s3_server, tmp_path, monkeypatch):
    import s3fs

    bucket = s3_server.create_bucket("smart-money-flow-test")
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    settings = replace(small_settings_at(tmp_path / "home"), data_url=f"{bucket}/data", models_url=f"{bucket}/models")

    summary = run_monthly_graph(
        CODE_LOCATION, settings, instance=dg.DagsterInstance.ephemeral(), op_config=FAST_EVALUATION
    )

    assert summary.success, summary.error
    s3 = s3fs.S3FileSystem(endpoint_url=s3_server.endpoint)
    stored = {Path(p).name for p in s3.ls(f"{bucket}/data/assets")}
    job = build_definitions(settings).resolve_job_def(MONTHLY_JOB)
    expected = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}
    assert {name.removesuffix(".parquet").removesuffix(".json") for name in stored} == expected | {RUNS_FOLDER}
    (run_copies,) = s3.ls(f"{bucket}/data/assets/{RUNS_FOLDER}")  # the run's own unpartitioned assets
    assert {Path(p).name for p in s3.ls(run_copies)} >= {"trained_model.json", "training_dataset.parquet"}
    months = s3.ls(f"{bucket}/data/assets/raw_prices")
    assert len(months) == 12 and all(m.endswith(".parquet") for m in months)
    assert s3.ls(f"{bucket}/data/quarantine")  # the simulated dirt is quarantined there too
    # nothing went to local disk: downstream assets could only have read their inputs from S3
    assert not (settings.home / "data").exists() and not (settings.home / "models").exists()
    # the registered model loads back from the bucket with its hashes verified
    registry = Registry(settings.models_location)
    model, metadata = registry.load_model("1.0.0")
    assert metadata["version"] == "1.0.0" and model.predict_proba(registry_test_rows(registry)).size > 0
    assert s3.exists(f"{bucket}/models/smart-money-flow/v1.0.0/report.html")


def registry_test_rows(registry: Registry):
    from smart_money.data import storage

    return storage.read_parquet(registry.folder("1.0.0") / "test_predictions.parquet")


def test_postgres_instance_config_needs_its_url(tmp_path, monkeypatch):
    """Without DAGSTER_POSTGRES_URL the postgres profile refuses to load instead of falling back."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(instance_config("postgres"), home / "dagster.yaml")
    monkeypatch.delenv("DAGSTER_POSTGRES_URL", raising=False)
    with pytest.raises(Exception, match="DAGSTER_POSTGRES_URL"):
        with environment({"DAGSTER_HOME": str(home)}):
            dg.DagsterInstance.from_config(str(home)).run_storage  # noqa: B018
