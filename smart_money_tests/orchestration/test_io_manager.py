"""The partitioned Parquet IO manager: range writes, multi-partition reads, clear errors."""

from __future__ import annotations

import json

import dagster as dg
import pandas as pd
import pytest

from smart_money.orchestration.io_manager import (
    ALLOW_MISSING,
    RUNS_FOLDER,
    PartitionedParquetIOManager,
    UnreadableAssetFile,
)

MONTHLY = dg.MonthlyPartitionsDefinition(start_date="2023-01-01", end_date="2023-07-01")
KEY = dg.AssetKey(["raw_thing"])


def frame(month: str, n: int = 3) -> pd.DataFrame:
    return pd.DataFrame({"month": [month] * n, "value": range(n)})


def test_range_output_is_split_and_read_back_as_one_frame(tmp_path):
    manager = PartitionedParquetIOManager(base_path=str(tmp_path))
    keys = ["2023-01-01", "2023-02-01", "2023-03-01"]
    out = dg.build_output_context(asset_key=KEY, asset_partitions_def=MONTHLY, partition_key=keys[0])
    manager.handle_output(out, {keys[0]: frame(keys[0])})
    for key in keys[1:]:
        manager.handle_output(
            dg.build_output_context(asset_key=KEY, asset_partitions_def=MONTHLY, partition_key=key),
            {key: frame(key, 2)},
        )
    assert sorted(p.name for p in (tmp_path / "raw_thing").iterdir()) == [f"{k}.parquet" for k in keys]

    ctx = dg.build_input_context(
        asset_key=KEY, asset_partitions_def=MONTHLY, asset_partition_key_range=dg.PartitionKeyRange(keys[0], keys[-1])
    )
    loaded = manager.load_input(ctx)
    assert len(loaded) == 7 and sorted(loaded["month"].unique()) == keys


def test_missing_partition_names_what_to_materialize(tmp_path):
    manager = PartitionedParquetIOManager(base_path=str(tmp_path))
    manager.handle_output(
        dg.build_output_context(asset_key=KEY, asset_partitions_def=MONTHLY, partition_key="2023-01-01"),
        frame("2023-01-01"),
    )
    ctx = dg.build_input_context(
        asset_key=KEY,
        asset_partitions_def=MONTHLY,
        asset_partition_key_range=dg.PartitionKeyRange("2023-01-01", "2023-02-01"),
    )
    with pytest.raises(FileNotFoundError, match="not materialized for partitions 2023-02-01"):
        manager.load_input(ctx)
    tolerant = dg.build_input_context(
        asset_key=KEY,
        asset_partitions_def=MONTHLY,
        asset_partition_key_range=dg.PartitionKeyRange("2023-01-01", "2023-02-01"),
        definition_metadata={ALLOW_MISSING: True},
    )
    assert len(manager.load_input(tolerant)) == 3


def test_unpartitioned_frames_and_dicts_round_trip(tmp_path):
    manager = PartitionedParquetIOManager(base_path=str(tmp_path))
    manager.handle_output(dg.build_output_context(asset_key=dg.AssetKey("table")), frame("x"))
    manager.handle_output(dg.build_output_context(asset_key=dg.AssetKey("report")), {"auc": 0.61})
    assert len(manager.load_input(dg.build_input_context(asset_key=dg.AssetKey("table")))) == 3
    assert manager.load_input(dg.build_input_context(asset_key=dg.AssetKey("report"))) == {"auc": 0.61}
    with pytest.raises(FileNotFoundError, match="has not been materialized"):
        manager.load_input(dg.build_input_context(asset_key=dg.AssetKey("nothing")))


def test_a_truncated_partition_names_its_file_and_the_fix(tmp_path):
    manager = PartitionedParquetIOManager(base_path=str(tmp_path))
    for key in ("2023-01-01", "2023-02-01"):
        manager.handle_output(
            dg.build_output_context(asset_key=KEY, asset_partitions_def=MONTHLY, partition_key=key), frame(key, 50)
        )
    damaged = tmp_path / "raw_thing" / "2023-02-01.parquet"
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])  # a copy cut short
    ctx = dg.build_input_context(
        asset_key=KEY,
        asset_partitions_def=MONTHLY,
        asset_partition_key_range=dg.PartitionKeyRange("2023-01-01", "2023-02-01"),
    )
    with pytest.raises(UnreadableAssetFile) as error:
        manager.load_input(ctx)
    message = str(error.value)
    assert str(damaged) in message and "partition 2023-02-01 of raw_thing" in message
    assert "Re-materialize" in message and "--select raw_thing --partition 2023-02-01" in message
    assert "Buffer" not in message.split("(")[0]  # the file first, pyarrow's words only as the detail
    report = tmp_path / "report.json"
    manager.handle_output(dg.build_output_context(asset_key=dg.AssetKey("report")), {"auc": 0.61})
    report.write_text('{"auc": 0.6')
    with pytest.raises(UnreadableAssetFile, match=r"report is stored in .*report\.json.*Re-materialize report"):
        manager.load_input(dg.build_input_context(asset_key=dg.AssetKey("report")))


def test_a_step_reads_its_own_runs_output_even_when_another_run_rewrote_the_shared_file(tmp_path):
    """What two runs on one storage did to each other before run-scoped copies: the model's
    record (and so its candidate folder) was read back from the path the other run had just
    rewritten."""
    shared = tmp_path / "candidate.json"

    @dg.asset
    def candidate(context) -> dict:  # (no annotation: this module has postponed annotations)
        return {"run_id": context.run.run_id}

    @dg.asset(deps=[candidate])
    def other_run_writes() -> None:
        shared.write_text('{"run_id": "another run"}')  # the shared path, as a concurrent run would

    @dg.asset(deps=[other_run_writes])
    def registered(context, candidate: dict) -> dict:
        return {"registered": candidate["run_id"], "run_id": context.run.run_id}

    manager = PartitionedParquetIOManager(base_path=str(tmp_path))
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [candidate, other_run_writes, registered], resources={"io_manager": manager}, instance=instance
    )
    stored = json.loads((tmp_path / "registered.json").read_text())
    assert stored["registered"] == stored["run_id"] == result.run_id
    assert (
        json.loads((tmp_path / RUNS_FOLDER / result.run_id / "candidate.json").read_text())["run_id"] == result.run_id
    )

    # a later run that does not produce `candidate` reads the shared (latest) file
    later = dg.materialize(
        [candidate, registered], selection=[registered], resources={"io_manager": manager}, instance=instance
    )
    assert json.loads((tmp_path / "registered.json").read_text()) == {
        "registered": "another run",
        "run_id": later.run_id,
    }
