"""Dagster resources: the configured data source and the options-flow event store.

Both carry only what the definitions were built with (settings as environment variables, a
store URL) and open the real thing per run, through the same factories the CLI and the HTTP
service use. Secrets travel as `EnvVar`s, so they never appear in run config or the UI.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import dagster as dg
from pydantic import PrivateAttr

from smart_money.data.source import DataSource
from smart_money.options.store import EventStore, describe_url
from smart_money.settings import Settings
from smart_money.settings.fmp import API_KEY_VARIABLE, FmpSettings
from smart_money.settings.options import CLICKHOUSE_URL_VARIABLE, OptionsSettings
from smart_money.settings.source_check import check_source_settings
from smart_money.sources import open_source


class DataSourceResource(dg.ConfigurableResource):
    """The data source of the run (simulated, fmp or public_records), opened once per run by
    `sources.open_source` and closed after it. `environment` holds the SMART_MONEY_* and FMP_*
    settings captured when the definitions were built (no secrets); the FMP key comes from
    FMP_API_KEY through `EnvVar`."""

    environment: dict[str, str]
    fmp_api_key: str | None = None
    _source: DataSource | None = PrivateAttr(default=None)

    @property
    def settings(self) -> Settings:
        return Settings.from_env(self.environment)

    def _open(self, log: logging.Logger) -> DataSource:
        return open_source(self.settings, self.environment, log=log, fmp_api_key=self.fmp_api_key)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._source = self._open(dg.get_dagster_logger("smart_money.source"))

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._source is not None:
            self._source.close()
            self._source = None

    def get(self) -> DataSource:
        if self._source is None:  # used outside a run (tests, benchmarks)
            self._source = self._open(logging.getLogger("smart_money.source"))
        return self._source


def data_source_resource(settings: Settings, environ: Mapping[str, str] | None = None) -> DataSourceResource:
    """The resource for these settings; raises SettingsError now for a missing key or folder."""
    check_source_settings(settings, environ)
    environment = settings.to_env()
    if settings.source == "fmp":
        environment |= FmpSettings.from_env(environ).to_env()
        return DataSourceResource(environment=environment, fmp_api_key=dg.EnvVar(API_KEY_VARIABLE))
    return DataSourceResource(environment=environment)


class OptionsEventStoreResource(dg.ConfigurableResource):
    """Where `smart_money_events` lives: `chdb:///path` (embedded) or a ClickHouse server URL."""

    url: str

    def open(self) -> EventStore:
        return EventStore(self.url)

    @property
    def location(self) -> str:
        return describe_url(self.url)


def options_store_resource(settings: Settings, options: OptionsSettings) -> OptionsEventStoreResource:
    """chDB under data/clickhouse, or the server in SMART_MONEY_CLICKHOUSE_URL (kept as an
    EnvVar so credentials never land in the run config)."""
    if options.clickhouse_url:
        return OptionsEventStoreResource(url=dg.EnvVar(CLICKHOUSE_URL_VARIABLE))
    return OptionsEventStoreResource(url=options.store_url(settings.data_dir))
