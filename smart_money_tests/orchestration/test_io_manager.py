"""The partitioned Parquet IO manager: range writes, multi-partition reads, clear errors."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest

from smart_money.orchestration.io_manager import ALLOW_MISSING, PartitionedParquetIOManager

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
