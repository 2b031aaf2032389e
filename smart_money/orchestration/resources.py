"""Dagster resources: the data source the raw assets pull from."""

from __future__ import annotations

import dataclasses
import logging

import dagster as dg
import pandas as pd
from pydantic import PrivateAttr

from smart_money.data import calendar as cal
from smart_money.settings import Settings
from smart_money.data.source import DataSource


class DataSourceResource(dg.ConfigurableResource):
    """Base of the source resources: `get()` returns the configured DataSource."""

    def get(self) -> DataSource:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def source_name(self) -> str:
        return self.get().name


class SimulatedSourceResource(DataSourceResource):
    """The embedded synthetic market (no key, no network)."""

    n_symbols: int = 500
    seed: int = 7
    strength: float = 1.0
    _source: DataSource | None = PrivateAttr(default=None)

    def get(self) -> DataSource:
        if self._source is None:
            from smart_money.sources.factory import simulated_source

            self._source = simulated_source(self.n_symbols, self.seed, self.strength)
        return self._source


class FmpSourceResource(DataSourceResource):
    """Financial Modeling Prep over httpx (sources/fmp/). One client per run: its rate limiter
    budgets every request of every asset in the run; the `smart_money_source` pool keeps runs
    from pulling at the same time. The key comes from FMP_API_KEY through EnvVar, so it never
    appears in the definitions, the run config or the UI."""

    api_key: str
    base_url: str
    api: str = "stable"
    rate_limit: int = 300
    rate_period_s: float = 60.0
    max_concurrency: int = 8
    timeout_s: float = 30.0
    max_retries: int = 6
    backoff_initial_s: float = 1.0
    cache_dir: str
    cache_ttl_days: float = 7.0
    finalized_ttl_days: float = 365.0
    symbols: str = "500"
    history_start: str = "2000-01-01"
    index_etfs: str = "SPY"
    _source: DataSource | None = PrivateAttr(default=None)

    def _build(self, log: logging.Logger):
        from smart_money.settings import parse_symbols
        from smart_money.sources.fmp import DiskCache, FmpClient, FmpConfig, FmpSource

        shared = {f.name for f in dataclasses.fields(FmpConfig)} & set(type(self).model_fields)
        client = FmpClient(FmpConfig(**{name: getattr(self, name) for name in shared}))
        cache = DiskCache(self.cache_dir, self.cache_ttl_days, self.finalized_ttl_days)
        return FmpSource(
            client,
            cache,
            selection=parse_symbols(self.symbols),
            history_start=pd.Timestamp(self.history_start).date(),
            index_etfs=tuple(s.strip() for s in self.index_etfs.split(",") if s.strip()),
            log=log,
        )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._source = self._build(dg.get_dagster_logger("fmp"))

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._source is not None:
            self._source.client.close()  # type: ignore[attr-defined]
            self._source = None

    def get(self) -> DataSource:
        if self._source is None:  # used outside a run (CLI, benchmarks)
            self._source = self._build(logging.getLogger("smart_money.fmp"))
        return self._source


def fmp_resource(settings: Settings) -> FmpSourceResource:
    """FmpSourceResource configured from FMP_* variables (read now, when Definitions are built);
    fails with a clear message when FMP_API_KEY is not set."""
    from smart_money.data.raw_pull import LOOKBACK_MONTHS
    from smart_money.settings import SettingsError
    from smart_money.sources.fmp.config import API_KEY_VARIABLE, FmpSettings, has_api_key

    if not has_api_key():
        raise SettingsError(f"SMART_MONEY_SOURCE=fmp needs {API_KEY_VARIABLE}: set it to your Financial Modeling Prep API key")
    fmp = FmpSettings.from_env()
    symbols = str(settings.symbols) if isinstance(settings.symbols, int) else ",".join(settings.symbols)
    same_names = {k: v for k, v in dataclasses.asdict(fmp).items() if k in FmpSourceResource.model_fields and k != "cache_dir"}
    return FmpSourceResource(
        **{**same_names, "index_etfs": ",".join(fmp.index_etfs)},
        api_key=dg.EnvVar(API_KEY_VARIABLE),
        cache_dir=str(fmp.cache_root(settings.data_dir)),
        symbols=symbols,
        history_start=f"{cal.add_months(pd.Timestamp(settings.start), -LOOKBACK_MONTHS):%Y-%m-%d}",
    )


class PublicRecordsSourceResource(DataSourceResource):
    """Public records from local files (sources/public_records/): the folder of
    SMART_MONEY_PUBLIC_RECORDS_DIR, read when a run needs it (never when definitions load)."""

    records_dir: str
    _source: DataSource | None = PrivateAttr(default=None)

    def _build(self, log: logging.Logger) -> DataSource:
        from pathlib import Path

        from smart_money.sources.public_records import PublicRecordsSource

        return PublicRecordsSource(Path(self.records_dir), log=log)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._source = self._build(dg.get_dagster_logger("public_records"))

    def get(self) -> DataSource:
        if self._source is None:  # used outside a run (CLI, benchmarks)
            self._source = self._build(logging.getLogger("smart_money.public_records"))
        return self._source


def public_records_resource(settings: Settings) -> PublicRecordsSourceResource:
    from smart_money.settings import SettingsError

    folder = settings.public_records_dir
    if folder is None:
        raise SettingsError("SMART_MONEY_SOURCE=public_records needs SMART_MONEY_PUBLIC_RECORDS_DIR: the folder of public records (see docs/real-data.md)")
    if not folder.is_dir():
        raise SettingsError(f"SMART_MONEY_PUBLIC_RECORDS_DIR={folder}: no such folder")
    return PublicRecordsSourceResource(records_dir=str(folder))


def source_resource(settings: Settings) -> DataSourceResource:
    """The resource for SMART_MONEY_SOURCE (read when Definitions are built)."""
    if settings.source == "simulated":
        size = settings.symbols if isinstance(settings.symbols, int) else 500
        return SimulatedSourceResource(
            n_symbols=max(size, 1), seed=settings.seed, strength=settings.simulation_strength
        )
    if settings.source == "fmp":
        return fmp_resource(settings)
    if settings.source == "public_records":
        return public_records_resource(settings)
    raise NotImplementedError(f"SMART_MONEY_SOURCE={settings.source!r} has no resource")
