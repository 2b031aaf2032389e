"""SMART_MONEY_SOURCE=fmp end to end: the monthly job's raw layer, `features` and `labels` for two
months x 20 symbols against the fake FMP server (two months are too few dates to split and
train on, so the model stage is left out):
clean, with injected faults (identical output), and again from the cache (zero HTTP calls);
the API key appears in no log, file, cache entry or metadata."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from smart_money.definitions import CODE_LOCATION
from smart_money.orchestration.io_manager import RUNS_FOLDER
from smart_money.orchestration.resources import data_source_resource
from smart_money.orchestration.runner import run_monthly_graph
from smart_money.settings import Settings, SettingsError
from smart_money.sources.fmp import FmpClient
from smart_money_tests.support.fake_fmp import FakeFmpServer, Faults

KEY = "sk-fmp-PIPELINE-5d1e8f2a9b"
THROUGH_FEATURES = [
    "universe",
    "raw_insider_trades",
    "raw_institutional_holdings",
    "raw_congress_trades",
    "raw_etf_holdings",
    "raw_prices",
    "features",
    "labels",
]
LIMIT, PERIOD = 60, 1.0
FAULTS = Faults(
    server_error_rate=0.05, truncated_rate=0.03, error_body_rate=0.03, timeout_rate=0.02, slow_answer_s=2.0, seed=5
)


def fmp_env(monkeypatch, fake: FakeFmpServer) -> None:
    for name, value in {
        "FMP_API_KEY": KEY,
        "FMP_BASE_URL": fake.url,
        "FMP_RATE_LIMIT_PER_MIN": str(LIMIT),
        "FMP_RATE_LIMIT_PERIOD_S": str(PERIOD),
        "FMP_TIMEOUT_S": "1.0",
        "FMP_BACKOFF_INITIAL_S": "0.02",
        "FMP_MAX_RETRIES": "8",
    }.items():
        monkeypatch.setenv(name, value)


def settings_in(home: Path) -> Settings:
    return Settings(source="fmp", start=date(2023, 1, 1), end=date(2023, 2, 1), symbols=20, seed=3, home=home)


def run(settings: Settings):
    instance = dg.DagsterInstance.ephemeral()
    summary = run_monthly_graph(CODE_LOCATION, settings, instance=instance, log_level="INFO", assets=THROUGH_FEATURES)
    events = "\n".join(str(record) for record in instance.all_logs(summary.run_id))
    return summary, events


def stored_tables(home: Path) -> dict[str, pd.DataFrame]:
    """The stored assets (the run-scoped copies of unpartitioned ones left out: named by run id)."""
    root = home / "data" / "assets"
    files = [p for p in sorted(root.rglob("*.parquet")) if p.relative_to(root).parts[0] != RUNS_FOLDER]
    return {str(p.relative_to(root)): pd.read_parquet(p) for p in files}


def test_two_month_backfill_through_the_monthly_job(small_source, tmp_path, monkeypatch, caplog, capfd):
    caplog.set_level(logging.INFO)
    clients = []

    class CountedClient(FmpClient):
        def __init__(self, *args, **kwargs):
            clients.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr("smart_money.sources.FmpClient", CountedClient)  # the one factory builds the client
    with FakeFmpServer(small_source, api_key=KEY, rate_limit=LIMIT, rate_period_s=PERIOD) as fake:
        fmp_env(monkeypatch, fake)
        clean, clean_events = run(settings_in(tmp_path / "clean"))
        clean_statuses = dict(fake.stats.statuses)
    assert clean.success, clean.error
    assert len(clients) == 1  # one client, so one rate limiter, for every asset of the run
    assert not [c for c in clean.failed_checks if c[3] == "ERROR"]
    # No 429 reaches the pipeline: the run succeeded above, and any 429 was retried. (That the
    # limiter alone never draws one is test_fmp_client's, and bench.fmp's with the server in its own
    # process: here the fake server shares the loaded test process, whose scheduling delays can
    # bunch requests on the server's clock.)
    assert clean_statuses.get(429, 0) == sum(a.metadata.get("source_rate_limited", 0) for a in clean.assets)
    by_asset = {a.asset: a for a in clean.assets}
    assert by_asset["universe"].rows == 21  # 20 stocks and SPY
    for table in ("insider_trades", "institutional_holdings", "congress_trades", "prices"):
        assert by_asset[f"raw_{table}"].rows > 0, table
        assert by_asset[f"raw_{table}"].metadata["source_http_calls"] > 0
    assert by_asset["raw_etf_holdings"].metadata["gaps"] == 1  # FMP keeps no ETF history: a stated gap
    assert "FMP institutional_holdings: 140/140 units" in clean_events  # progress in the run's log
    assert "FMP prices done: " in clean_events and "hit rate" in clean_events

    with FakeFmpServer(small_source, api_key=KEY, rate_limit=LIMIT, rate_period_s=PERIOD, faults=FAULTS) as fake:
        fmp_env(monkeypatch, fake)
        noisy, noisy_events = run(settings_in(tmp_path / "noisy"))
        injected = sum(fake.stats.injected.values())
        fake.reset_stats()
        warm, warm_events = run(settings_in(tmp_path / "noisy"))
        warm_requests = fake.stats.requests
    assert noisy.success and warm.success, (noisy.error, warm.error)
    assert injected > 10
    assert (
        sum(a.metadata.get("source_retries", 0) for a in noisy.assets) > 0
    )  # (the universe's retries are not in metadata)
    clean_tables, noisy_tables = stored_tables(tmp_path / "clean"), stored_tables(tmp_path / "noisy")
    assert (
        clean_tables.keys() == noisy_tables.keys() and len(clean_tables) == 15
    )  # universe + (5 tables, features, labels) x 2 months
    for name, frame in clean_tables.items():
        pd.testing.assert_frame_equal(frame, noisy_tables[name], obj=name)
    assert warm_requests == 0
    assert all(a.metadata["source_cache_hit_rate"] == 1.0 for a in warm.assets if a.metadata.get("source_units"))

    # the key is nowhere: logs, run events, metadata, stored data, quarantine, cache
    assert KEY not in caplog.text + capfd.readouterr().err + clean_events + noisy_events + warm_events
    assert KEY not in repr([a.metadata for a in clean.assets + noisy.assets + warm.assets])
    for home in (tmp_path / "clean", tmp_path / "noisy"):
        files = [p for p in home.rglob("*") if p.is_file()]
        assert any("cache" in str(p) for p in files)
        for path in files:
            assert KEY.encode() not in path.read_bytes() and KEY not in str(path), path


def test_the_fmp_source_needs_a_key_and_keeps_it_out_of_the_definitions(tmp_path, monkeypatch):
    monkeypatch.delenv("FMP_API_KEY", raising=False)
    with pytest.raises(SettingsError, match="FMP_API_KEY"):
        data_source_resource(settings_in(tmp_path))
    monkeypatch.setenv("FMP_API_KEY", KEY)
    monkeypatch.setenv("FMP_RATE_LIMIT_PER_MIN", "750")
    resource = data_source_resource(settings_in(tmp_path))
    assert (
        resource.environment["FMP_RATE_LIMIT_PER_MIN"] == "750" and resource.environment["SMART_MONEY_SOURCE"] == "fmp"
    )
    assert KEY not in repr(resource) and KEY not in repr(resource.environment)
    assert resource.get().cache.root == tmp_path / "data" / "cache" / "fmp"
    monkeypatch.setenv("FMP_API", "v5")
    with pytest.raises(SettingsError, match="FMP_API"):
        data_source_resource(settings_in(tmp_path))
