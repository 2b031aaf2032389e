"""Dagster resources: the data source the raw assets pull from."""

from __future__ import annotations


import dagster as dg
import pandas as pd
from pydantic import PrivateAttr

from smart_money.core import calendar as cal
from smart_money.core.settings import Settings
from smart_money.sources.base import DataSource


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
            from smart_money.sources.simulated import SimulatedSource, SimulationParams

            horizon = cal.add_months(cal.month_start(pd.Timestamp.today()), 3)
            self._source = SimulatedSource(
                n_symbols=self.n_symbols,
                seed=self.seed,
                params=SimulationParams(strength=self.strength),
                horizon=horizon,
            )
        return self._source


def source_resource(settings: Settings) -> DataSourceResource:
    """The resource for SMART_MONEY_SOURCE (read when Definitions are built)."""
    if settings.source == "simulated":
        size = settings.symbols if isinstance(settings.symbols, int) else 500
        return SimulatedSourceResource(
            n_symbols=max(size, 1), seed=settings.seed, strength=settings.simulation_strength
        )
    raise NotImplementedError(
        f"SMART_MONEY_SOURCE={settings.source!r} is not available yet in this version; "
        "use SMART_MONEY_SOURCE=simulated"
    )
