"""The partitioned Parquet IO manager: range writes, multi-partition reads, clear errors."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest

from smart_money.orchestration.io_manager import ALLOW_MISSING, PartitionedParquetIOManager, UnreadableAssetFile

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
