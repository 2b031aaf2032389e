"""Data sources behind one interface (`smart_money.data.source.DataSource`): the simulated
market (default), Financial Modeling Prep and local public records, and the one factory that
opens the configured source for runs, the HTTP service, the CLI and the benchmarks."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import pandas as pd

from smart_money.data import calendar as cal
from smart_money.data.raw_pull import LOOKBACK_MONTHS
from smart_money.data.source import DataSource
from smart_money.settings import Settings
from smart_money.settings.fmp import FmpSettings, require_api_key
from smart_money.settings.source_check import check_source_settings
from smart_money.sources.fmp import DiskCache, FmpClient, FmpSource
from smart_money.sources.public_records import PublicRecordsSource
from smart_money.sources.simulated import SimulatedSource, SimulationParams

SIMULATED_HORIZON_MONTHS = 3  # the simulated world reaches a little past today


def simulated_source(n_symbols: int, seed: int, strength: float) -> SimulatedSource:
    """The embedded synthetic market, generated up to a few months past the current month
    (the horizon decides how far it is generated, never what a month contains)."""
    horizon = cal.add_months(cal.month_start(pd.Timestamp.today()), SIMULATED_HORIZON_MONTHS)
    return SimulatedSource(n_symbols=n_symbols, seed=seed, params=SimulationParams(strength=strength), horizon=horizon)


def open_source(
    settings: Settings,
    environ: Mapping[str, str] | None = None,
    log: logging.Logger | None = None,
    fmp_api_key: str | None = None,
) -> DataSource:
    """The DataSource SMART_MONEY_SOURCE names. FMP_* settings come from `environ` (default: the
    process environment), the FMP key from `fmp_api_key` or FMP_API_KEY."""
    check_source_settings(settings, environ if fmp_api_key is None else {**(environ or {}), "FMP_API_KEY": fmp_api_key})
    if settings.source == "simulated":
        size = settings.symbols if isinstance(settings.symbols, int) else 500
        return simulated_source(max(size, 1), settings.seed, settings.simulation_strength)
    if settings.source == "fmp":
        fmp = FmpSettings.from_env(environ)
        client = FmpClient(
            fmp, fmp_api_key or require_api_key(environ), rate_limit_file=fmp.rate_limit_file(settings.data_dir)
        )
        return FmpSource(
            client,
            fmp_disk_cache(settings, fmp),
            selection=settings.symbols,
            history_start=cal.add_months(pd.Timestamp(settings.start), -LOOKBACK_MONTHS).date(),
            index_etfs=fmp.index_etfs,
            log=log,
        )
    assert settings.public_records_dir is not None  # checked above
    return PublicRecordsSource(settings.public_records_dir, log=log)


def fmp_disk_cache(settings: Settings, fmp: FmpSettings | None = None) -> DiskCache:
    """The FMP disk cache of `settings` (FMP_CACHE_DIR, else <data dir>/cache/fmp) with the
    FMP_* TTLs (`fmp`, default: from the environment)."""
    fmp = fmp or FmpSettings.from_env()
    return DiskCache(fmp.cache_root(settings.data_dir), fmp.cache_ttl_days, fmp.finalized_ttl_days)


def universe_stocks(settings: Settings, skip: int = 0, limit: int | None = None) -> list[str]:
    """The configured source's stocks in universe order (what SMART_MONEY_SYMBOLS=N takes the
    first N of), without the first `skip` and at most `limit` of them."""
    frame = open_source(settings).universe()
    stocks = frame.loc[frame["asset_type"] == "stock", "symbol"].drop_duplicates().tolist()[skip:]
    return stocks[:limit] if limit else stocks
