"""The configured DataSource without Dagster: for the HTTP service, the CLI and worker processes.

The Dagster resources (`smart_money/resources.py`) build the same sources inside runs; this
module is the plain-Python way to get one from `Settings` (the environment is read when it is
called, never at import).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

import pandas as pd

from smart_money.data import calendar as cal
from smart_money.settings import Settings, SettingsError
from smart_money.data.source import DataSource

SIMULATED_HORIZON_MONTHS = 3  # the simulated world reaches a little past today


def simulated_source(n_symbols: int, seed: int, strength: float) -> DataSource:
    """The embedded synthetic market, generated up to a few months past the current month
    (the horizon decides how far it is generated, never what a month contains)."""
    from smart_money.sources.simulated import SimulatedSource, SimulationParams

    horizon = cal.add_months(cal.month_start(pd.Timestamp.today()), SIMULATED_HORIZON_MONTHS)
    return SimulatedSource(n_symbols=n_symbols, seed=seed, params=SimulationParams(strength=strength), horizon=horizon)


def fmp_source(settings: Settings, environ: Mapping[str, str] | None = None) -> DataSource:
    """Financial Modeling Prep with the FMP_* settings and the key from FMP_API_KEY."""
    from smart_money.data.raw_pull import LOOKBACK_MONTHS
    from smart_money.sources.fmp import DiskCache, FmpClient, FmpConfig, FmpSettings, FmpSource
    from smart_money.sources.fmp.config import API_KEY_VARIABLE

    env = os.environ if environ is None else environ
    key = env.get(API_KEY_VARIABLE, "").strip()
    if not key:
        raise SettingsError(f"SMART_MONEY_SOURCE=fmp needs {API_KEY_VARIABLE}: set it to your Financial Modeling Prep API key")
    fmp = FmpSettings.from_env(env)
    shared = {f.name for f in dataclasses.fields(FmpConfig)} & {f.name for f in dataclasses.fields(FmpSettings)}
    client = FmpClient(FmpConfig(api_key=key, **{name: getattr(fmp, name) for name in shared}))
    return FmpSource(
        client,
        DiskCache(fmp.cache_root(settings.data_dir), fmp.cache_ttl_days, fmp.finalized_ttl_days),
        selection=settings.symbols,
        history_start=cal.add_months(pd.Timestamp(settings.start), -LOOKBACK_MONTHS).date(),
        index_etfs=fmp.index_etfs,
    )


def open_source(settings: Settings, environ: Mapping[str, str] | None = None) -> DataSource:
    """The DataSource that SMART_MONEY_SOURCE names, configured like the Dagster resource."""
    if settings.source == "simulated":
        size = settings.symbols if isinstance(settings.symbols, int) else 500
        return simulated_source(max(size, 1), settings.seed, settings.simulation_strength)
    if settings.source == "fmp":
        return fmp_source(settings, environ)
    raise SettingsError(f"SMART_MONEY_SOURCE={settings.source!r} is not available yet in this version; use simulated or fmp")
