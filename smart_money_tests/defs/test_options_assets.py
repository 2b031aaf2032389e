"""The options_flow group in Dagster: one day through every asset, checks and ClickHouse."""

from __future__ import annotations

from datetime import date

import dagster as dg
import pandas as pd
import pytest

from smart_money.definitions import build_definitions
from smart_money.options.market.synthetic import catalogue
from smart_money.options.store import EventStore
from smart_money.orchestration.names import MONTHLY_JOB, OPTIONS_FLOW_JOB
from smart_money.settings import Settings
from smart_money.settings.options import OptionsSettings

OPTIONS_ASSETS = {
    "option_prints",
    "option_quotes",
    "underlying_quotes",
    "event_calendar",
    "parent_events",
    "smart_money_events",
    "options_evaluation",
}


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    monkeypatch.setenv("SMART_MONEY_OPTIONS_SCENARIOS", "60")
    monkeypatch.delenv("SMART_MONEY_CLICKHOUSE_URL", raising=False)
    monkeypatch.delenv("SMART_MONEY_OPTIONS_DIR", raising=False)
    return Settings(start=date(2024, 6, 1), end=date(2024, 6, 1), symbols=5, home=tmp_path)


def run_day(settings: Settings, day: str) -> dg.ExecuteInProcessResult:
    job = build_definitions(settings).resolve_job_def(OPTIONS_FLOW_JOB)
    return job.execute_in_process(partition_key=day, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


def materialized(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    out = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        out[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
    return out


def test_a_trading_day_runs_through_every_asset_into_clickhouse(settings):
    result = run_day(settings, "2024-06-12")
    assert result.success
    meta = materialized(result)
    assert set(meta) == OPTIONS_ASSETS
    assert all(e.passed for e in result.get_asset_check_evaluations())
    events = meta["smart_money_events"]
    assert events["dagster/row_count"] >= 55 and events["inserted_into_clickhouse"] == events["dagster/row_count"]
    assert meta["options_evaluation"]["labelled"] is True
    with EventStore(OptionsSettings().store_url(settings.data_dir)) as store:
        assert store.count() == events["dagster/row_count"]
    # re-running the day is idempotent: same events, nothing new in ClickHouse
    again = materialized(run_day(settings, "2024-06-12"))
    assert again["smart_money_events"]["inserted_into_clickhouse"] == 0


def test_a_closed_market_day_materializes_empty(settings):
    result = run_day(settings, "2024-06-15")  # a Saturday
    assert result.success
    meta = materialized(result)
    assert meta["option_prints"]["dagster/row_count"] == 0 and meta["smart_money_events"]["dagster/row_count"] == 0


def test_user_files_replace_the_synthetic_market(settings, tmp_path, monkeypatch):
    tape, _ = catalogue(per_variant=1, day=date(2024, 6, 12))
    folder = tmp_path / "options_input"
    for kind, frame in (("prints", tape.prints), ("quotes", tape.quotes), ("underlying", tape.underlying)):
        (folder / kind).mkdir(parents=True)
        frame.to_parquet(folder / kind / "2024-06-12.parquet")
    tape.calendar.to_parquet(folder / "calendar.parquet")
    monkeypatch.setenv("SMART_MONEY_OPTIONS_DIR", str(folder))
    result = run_day(settings, "2024-06-12")
    assert result.success
    meta = materialized(result)
    assert meta["option_prints"]["dagster/row_count"] == len(tape.prints) and meta["option_prints"]["source"] == "files"
    assert meta["options_evaluation"]["labelled"] is False


def test_the_monthly_refresh_job_leaves_the_options_group_out(settings):
    defs = build_definitions(settings)
    monthly = {k.to_user_string() for k in defs.resolve_job_def(MONTHLY_JOB).asset_layer.selected_asset_keys}
    options = defs.resolve_job_def(OPTIONS_FLOW_JOB)
    assert monthly and not OPTIONS_ASSETS & monthly
    assert {k.to_user_string() for k in options.asset_layer.selected_asset_keys} == OPTIONS_ASSETS
    assert options.partitions_def.get_partition_keys()[:2] == ["2024-06-01", "2024-06-02"]


def test_the_checks_fail_when_a_day_file_holds_events_of_another_day(settings, tmp_path, monkeypatch):
    tape, _ = catalogue(per_variant=1, day=date(2024, 6, 12))
    moved = tape.prints["underlying"] == tape.prints["underlying"].iloc[0]  # one scenario, a day late
    tape.prints.loc[moved, "ts"] += pd.Timedelta(days=1)
    folder = tmp_path / "options_input"
    for kind, frame in (("prints", tape.prints), ("quotes", tape.quotes), ("underlying", tape.underlying)):
        (folder / kind).mkdir(parents=True)
        frame.to_parquet(folder / kind / "2024-06-12.parquet")
    monkeypatch.setenv("SMART_MONEY_OPTIONS_DIR", str(folder))
    result = run_day(settings, "2024-06-12")
    checks = {e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations()}
    assert not checks["option_prints"].passed
    assert checks["option_prints"].metadata["failing_rows"].value == int(moved.sum())
    assert "not on the partition's day" in checks["option_prints"].metadata["failures"].value
