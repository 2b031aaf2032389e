"""The raw layer end to end, in process, through the real IO manager and checks."""

from __future__ import annotations

import json

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from smart_money.data.schemas import TABLES
from smart_money.definitions import build_definitions
from smart_money.orchestration.io_manager import PartitionedParquetIOManager

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
    # insider trades reach four years back: the routine/opportunistic split reads three calendar years
    first_insider = pd.read_parquet(root / "raw_insider_trades" / f"{MONTHS[0]}.parquet")
    assert first_insider["known_at"].min() < pd.Timestamp(MONTHS[0]) - pd.DateOffset(months=48)
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
    import smart_money.defs.ingest.assets as ingest

    defs = build_definitions(small_settings)
    instance = dg.DagsterInstance.ephemeral()
    job = defs.resolve_job_def("monthly_refresh_job")
    raw_layer = ["universe", *RAW_ASSETS]
    result = job.execute_in_process(
        instance=instance, partition_key=MONTHS[0], asset_selection=[dg.AssetKey(a) for a in raw_layer]
    )
    assert result.success
    quarantine = small_settings.data_dir / "quarantine" / "insider_trades"
    assert any(quarantine.iterdir())  # the simulator's garbled lines
    # the rate check counts what is stored and quarantined (from the files' footers)
    rate = next(
        e
        for e in result.get_asset_check_evaluations()
        if (e.asset_key.to_user_string(), e.check_name) == ("raw_insider_trades", "quarantine_rate")
    )
    stored = pd.read_parquet(small_settings.data_dir / "assets" / "raw_insider_trades" / f"{MONTHS[0]}.parquet")
    quarantined = pd.read_parquet(quarantine / f"{MONTHS[0]}.parquet")
    assert rate.metadata["rows_stored"].value == len(stored) > 0
    assert rate.metadata["rows_quarantined"].value == len(quarantined) > 0

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
        instance=instance,
        partition_key=MONTHS[0],
        raise_on_error=False,
        asset_selection=[dg.AssetKey(a) for a in raw_layer],
    )
    assert not result.success
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert [(e.asset_key.to_user_string(), e.check_name) for e in failed] == [("raw_insider_trades", "schema")]
    assert failed[0].metadata["failing_rows"].value == 2
    assert "shares: greater_than(0)" in failed[0].metadata["failures"].value


METADATA_KEYS = {
    "model_id",
    "version",
    "algorithm",
    "features",
    "data",
    "metrics",
    "baselines",
    "oracle",
    "mirror_label",
    "feature_importance",
    "gates",
    "lineage",
}


def test_the_run_ends_with_a_registered_model_whose_artifacts_reproduce_its_predictions(pipeline_run):
    from smart_money.model.registry import Registry

    settings, summary = pipeline_run
    registry = Registry(settings.models_dir)
    entry = registry.index()["versions"][-1]
    folder = registry.verify(entry["version"])
    metadata = json.loads((folder / "metadata.json").read_text())
    assert METADATA_KEYS <= set(metadata)
    assert metadata["model_id"] == "smart_money_flow" and metadata["algorithm"] == "LightGBM"
    assert set(metadata["data"]) >= {"source", "first_month", "last_month", "n_train", "n_val", "n_test"}
    assert set(metadata["metrics"]["test"]) >= {
        "roc_auc",
        "pr_auc",
        "accuracy",
        "precision",
        "recall",
        "f1",
        "brier",
        "brier_skill",
        "log_loss",
        "ece",
        "top_decile_precision",
        "base_rate",
    }
    assert set(metadata["oracle"]) == {"public_test_roc_auc", "truth_test_roc_auc"}
    assert all(set(g) >= {"passed", "value", "threshold"} for g in metadata["gates"].values())
    assert metadata["lineage"]["dagster_run_id"] == summary.run_id

    import lightgbm as lgb

    from smart_money.model.flow_model import FlowModel

    stored = pd.read_parquet(folder / "test_predictions.parquet")
    assert lgb.Booster(model_file=str(folder / "model.txt")).num_trees() >= 1
    reloaded = FlowModel.load(folder).predict_proba(stored)
    np.testing.assert_array_equal(reloaded, stored["probability"].to_numpy())


def chromium() -> str:
    import shutil

    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    pytest.skip("no Chromium on this machine (CI installs Debian's chromium package)")


def test_the_html_report_shows_every_section_in_a_headless_browser(pipeline_run, tmp_path):
    import subprocess

    from smart_money.model.registry import Registry

    settings, _ = pipeline_run
    registry = Registry(settings.models_dir)
    report = registry.folder(registry.index()["versions"][-1]["version"]) / "report.html"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [chromium(), *flags, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120
    ).stdout
    for section in ("data", "metrics", "baselines", "oracle", "direction", "calibration", "walk_forward", "features"):
        assert f'id="{section}"' in dom, section
    assert dom.count("data:image/png;base64,") >= 7
    screenshot = tmp_path / "report.png"
    subprocess.run(
        [chromium(), *flags, "--window-size=1200,3000", f"--screenshot={screenshot}", report.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert screenshot.stat().st_size > 50_000
