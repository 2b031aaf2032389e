"""The raw layer end to end, in process, through the real IO manager and checks."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest

from smart_money.core.schemas import TABLES
from smart_money.definitions import build_definitions
from smart_money.io_manager import PartitionedParquetIOManager

RAW_ASSETS = [f"raw_{t}" for t in TABLES]


MONTHS = [f"{m:%Y-%m-%d}" for m in pd.date_range("2022-10-01", "2023-09-01", freq="MS")]


def test_multi_month_run_materializes_every_partition_with_checks(pipeline_run):
    settings, summary = pipeline_run
    assert summary.success, summary.error
    assert (summary.first_partition, summary.last_partition) == (MONTHS[0], MONTHS[-1])
    assert [c for c in summary.failed_checks if c[3] == "ERROR"] == []
    checked = {(a, c) for a, c, _, _ in summary.checks}
    assert {(a, "schema") for a in RAW_ASSETS} <= checked

    root = settings.data_dir / "assets"
    for asset in [*RAW_ASSETS, "features", "labels"]:
        files = sorted(p.name for p in (root / asset).iterdir())
        assert files == [f"{m}.parquet" for m in MONTHS], asset
    by_asset = {a.asset: a for a in summary.assets}
    assert by_asset["universe"].rows == 30 + 14  # 30 stocks and the simulated ETFs
    assert by_asset["raw_insider_trades"].metadata["symbols_covered"] > 10
    assert by_asset["training_dataset"].rows > 300

    # the first partition carries the look-back; later ones only their month
    first = pd.read_parquet(root / "raw_prices" / f"{MONTHS[0]}.parquet")
    later = pd.read_parquet(root / "raw_insider_trades" / "2023-02-01.parquet")
    assert first["date"].min() < pd.Timestamp(MONTHS[0]) - pd.DateOffset(months=12)
    assert later["known_at"].between(pd.Timestamp("2023-02-01"), pd.Timestamp("2023-03-01"), inclusive="left").all()
    # a month's prices reach into the next so its labels resolve
    march = pd.read_parquet(root / "raw_prices" / "2023-03-01.parquet")
    assert march["date"].max() >= pd.Timestamp("2023-04-03")


def test_an_unpartitioned_consumer_reads_all_months_as_one_frame(pipeline_run):
    settings, _ = pipeline_run
    partitions = build_definitions(settings).resolve_job_def("monthly_refresh_job").partitions_def
    manager = PartitionedParquetIOManager(base_path=str(settings.data_dir / "assets"))
    context = dg.build_input_context(
        asset_key=dg.AssetKey("raw_insider_trades"),
        asset_partitions_def=partitions,
        asset_partition_key_range=dg.PartitionKeyRange(MONTHS[0], MONTHS[-1]),
    )
    frame = manager.load_input(context)
    assert frame["known_at"].max() < pd.Timestamp("2023-10-01")
    assert frame["record_id"].is_unique


def test_bad_rows_are_quarantined_and_a_schema_violation_fails_the_blocking_check(small_settings, monkeypatch):
    """A source that sends a line dated after its filing: the row goes to quarantine (counted in
    metadata); a stored frame that still violates the schema fails the blocking check."""
    import smart_money.assets.ingest as ingest

    defs = build_definitions(small_settings)
    instance = dg.DagsterInstance.ephemeral()
    job = defs.resolve_job_def("monthly_refresh_job")
    raw_layer = ["universe", *RAW_ASSETS]
    result = job.execute_in_process(instance=instance, partition_key=MONTHS[0], asset_selection=[dg.AssetKey(a) for a in raw_layer])
    assert result.success
    quarantine = small_settings.data_dir / "quarantine" / "insider_trades"
    assert any(quarantine.iterdir())  # the simulator's garbled lines

    # Now make the stored frame itself invalid (as a buggy normaliser would) and rerun.
    original = ingest.pull_raw

    def leaky_pull(*args, **kwargs):
        pull = original(*args, **kwargs)
        if pull.table == "insider_trades":
            for frame in pull.partitions.values():
                frame.loc[frame.index[:2], "shares"] = -1.0
        return pull

    monkeypatch.setattr(ingest, "pull_raw", leaky_pull)
    defs = build_definitions(small_settings)
    result = defs.resolve_job_def("monthly_refresh_job").execute_in_process(
        instance=instance, partition_key=MONTHS[0], raise_on_error=False, asset_selection=[dg.AssetKey(a) for a in raw_layer]
    )
    assert not result.success
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert [(e.asset_key.to_user_string(), e.check_name) for e in failed] == [("raw_insider_trades", "schema")]
    assert failed[0].metadata["failing_rows"].value == 2
    assert "shares: greater_than(0)" in failed[0].metadata["failures"].value
