"""Parquet IO manager that stores one file per monthly partition and handles partition ranges.

Dagster's UPath-based managers refuse to persist an output covering several partitions
(dagster#14332), which rules out single-run backfills. This one accepts, for a range run, a
`{partition_key: DataFrame}` dict (or a DataFrame when the run has one partition), writes each
partition's file atomically, and on load concatenates whatever partitions the input asks for,
so an unpartitioned downstream asset reads all months as one DataFrame. JSON-serialisable dicts
of unpartitioned assets are stored as JSON. Paths may be local or any fsspec URL. A stored file
that cannot be read back (a partition cut short) fails the load with its path and the fix:
re-materialize that partition (or asset).

An unpartitioned asset is stored twice: at `<asset>.<suffix>` (the latest, what readers outside
Dagster and later runs see) and under `runs/<run id>/` (RUNS_FOLDER). A step reading an asset
produced earlier in the same run reads the run's copy, so a model candidate, its evaluation and
its registration always belong to one run even when another run on the same storage rewrites the
shared path in between (orchestration.home removes the copies of ended runs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dagster as dg
import pandas as pd

from smart_money.data import storage
from smart_money.data.pause_points import pause_point
from smart_money.data.raw_pull import concat_partitions

ALLOW_MISSING = "allow_missing_partitions"
RUNS_FOLDER = "runs"


class UnreadableAssetFile(ValueError):
    """A materialized partition (or asset) whose file cannot be read back."""


class PartitionedParquetIOManager(dg.ConfigurableIOManager):
    base_path: str

    def _path(self, asset_key: dg.AssetKey, partition_key: str | None, suffix: str, run_id: str | None = None) -> str:
        root = storage.join(self.base_path, RUNS_FOLDER, run_id) if run_id else self.base_path
        return storage.asset_file(root, asset_key.path, partition_key, suffix)

    def _write_unpartitioned(self, context: dg.OutputContext, suffix: str, write: Callable[[str], None]) -> None:
        """The run's copy first, then the shared (latest) path."""
        run_id = _run_id(lambda: context.run_id)
        if run_id:
            write(self._path(context.asset_key, None, suffix, run_id))
        write(self._path(context.asset_key, None, suffix))

    def _unpartitioned_path(self, context: dg.InputContext, suffix: str) -> str | None:
        """Where to read an unpartitioned input: the producing run's copy when the producer ran in
        this run (it must exist) or an earlier run that still has it; else the shared path."""
        producer = _run_id(lambda: context.upstream_output.run_id) if context.upstream_output else None
        if producer:
            scoped = self._path(context.asset_key, None, suffix, producer)
            if storage.exists(scoped):
                return scoped
            if producer == _run_id(lambda: context.step_context.run_id):
                return None
        shared = self._path(context.asset_key, None, suffix)
        return shared if storage.exists(shared) else None

    @staticmethod
    def _read(read: Callable[[str], Any], path: str, asset_key: dg.AssetKey, partition_key: str | None) -> Any:
        try:
            return read(path)
        except storage.UnreadableFile as error:
            asset = asset_key.to_user_string()
            what = f"partition {partition_key} of {asset}" if partition_key else asset
            raise UnreadableAssetFile(
                f"{what} is stored in {path}, which cannot be read ({error.detail}): the file was cut short or "
                f"damaged. Re-materialize {what} (in the Dagster UI, or `dagster asset materialize -m "
                f"smart_money.definitions --select {asset}"
                + (f" --partition {partition_key}" if partition_key else "")
                + "`), then run this step again."
            ) from error

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if obj is None:
            return
        self._store(context, obj)
        pause_point(f"after:{context.asset_key.to_user_string()}")

    def _store(self, context: dg.OutputContext, obj: Any) -> None:
        if context.has_asset_partitions:
            keys = context.asset_partition_keys
            parts = obj if isinstance(obj, dict) else None
            if parts is None:
                if len(keys) != 1:
                    raise TypeError(
                        f"{context.asset_key.to_user_string()}: a run over {len(keys)} partitions must "
                        "return {partition_key: DataFrame}"
                    )
                parts = {keys[0]: obj}
            extra = set(parts) - set(keys)
            if extra:
                raise ValueError(
                    f"{context.asset_key.to_user_string()}: output for partitions outside the run: {sorted(extra)}"
                )
            for key in keys:
                frame = parts.get(key)
                if not isinstance(frame, pd.DataFrame):
                    raise TypeError(
                        f"{context.asset_key.to_user_string()}[{key}]: expected a DataFrame, got {type(frame).__name__}"
                    )
                storage.write_parquet(self._path(context.asset_key, key, "parquet"), frame)
            context.add_output_metadata({"partitions_written": len(keys)})
        elif isinstance(obj, pd.DataFrame):
            self._write_unpartitioned(context, "parquet", lambda path: storage.write_parquet(path, obj))
        elif isinstance(obj, dict):
            self._write_unpartitioned(context, "json", lambda path: storage.write_json(path, obj))
        else:
            raise TypeError(f"{context.asset_key.to_user_string()}: cannot store {type(obj).__name__}")

    def stored_rows(self, asset_key: dg.AssetKey, partition_keys: list[str]) -> int:
        """Rows stored in these partitions of the asset, read from the Parquet footers (what a
        check that only counts needs, without loading the tables)."""
        total, missing = 0, []
        for key in partition_keys:
            path = self._path(asset_key, key, "parquet")
            try:
                total += self._read(storage.parquet_rows, path, asset_key, key)
            except FileNotFoundError:
                missing.append(key)
        if missing:
            raise FileNotFoundError(
                f"{asset_key.to_user_string()} is not materialized for partitions "
                f"{', '.join(missing)}; materialize (backfill) them first"
            )
        return total

    def load_input(self, context: dg.InputContext) -> Any:
        asset_key = context.asset_key
        if context.has_asset_partitions:
            keys = context.asset_partition_keys
            allow_missing = bool((context.definition_metadata or {}).get(ALLOW_MISSING))
            frames, missing = [], []
            for key in keys:
                path = self._path(asset_key, key, "parquet")
                if storage.exists(path):
                    frames.append(self._read(storage.read_parquet, path, asset_key, key))
                else:
                    missing.append(key)
            if missing and not allow_missing:
                raise FileNotFoundError(
                    f"{asset_key.to_user_string()} is not materialized for partitions "
                    f"{', '.join(missing)}; materialize (backfill) them first"
                )
            if missing:
                context.log.warning(f"{asset_key.to_user_string()}: skipping missing partitions {missing}")
            return concat_partitions(frames) if frames else pd.DataFrame()
        parquet = self._unpartitioned_path(context, "parquet")
        if parquet:
            return self._read(storage.read_parquet, parquet, asset_key, None)
        json_path = self._unpartitioned_path(context, "json")
        if json_path:
            return self._read(storage.read_json, json_path, asset_key, None)
        raise FileNotFoundError(f"{asset_key.to_user_string()} has not been materialized yet")


def _run_id(get: Callable[[], str]) -> str | None:
    """A context's run id, or None where the context has none (e.g. built by hand in a test)."""
    try:
        return get()
    except (dg.DagsterInvariantViolationError, AttributeError):
        return None
