"""Point-in-time features for any session date, computed through the configured source.

A prediction for (symbol, date) needs the symbol's features as of that date's close. They are
computed exactly as the `features` asset computes them (`dataset.features.compute_features`, rows
known by the date's 16:00 New York cutoff only), for the whole configured universe at once:
one source pull of the date's month with the usual 13-month look-back, then one vectorised
cross-section. The cross-section is cached per date, so every later symbol of that date is a
lookup.

Pulling a window and holding the raw tables costs far more memory than serving (about 0.8 GB
for 500 simulated symbols), so the pull runs in a short-lived worker process that returns only
the cross-section (a few hundred rows) and exits; the server's memory stays that of the model.

If the smart-money tables cannot be had (the source fails on them), the cross-section still
carries the price context (`smart_money_error` says why), so the stock analysis answers while
predictions for that date report the failure.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import logging
import multiprocessing
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from cachetools import TTLCache

from smart_money.data import calendar as cal
from smart_money.data.raw_pull import pull_raw, pull_universe
from smart_money.data.source import DataSource
from smart_money.dataset.catalogue import FEATURES
from smart_money.dataset.features import (
    PriceMatrix,
    UniverseRules,
    build_feature_inputs,
    compute_features,
    members_at,
    price_block,
)
from smart_money.settings import Settings
from smart_money.sources import open_source

log = logging.getLogger("smart_money.serve")

NEW_YORK_TZ = ZoneInfo("America/New_York")
EARLIEST_DATE = pd.Timestamp(cal.CALENDAR_START)
CROSS_SECTION_TTL_S = 3600.0  # a vendor may still add rows known by a past cutoff; recompute hourly
CROSS_SECTION_DATES = 32
SMART_MONEY_TABLES = ("insider_trades", "institutional_holdings", "congress_trades", "etf_holdings")


class InvalidDate(ValueError):
    """The requested date cannot be served (before the calendar, or after the latest close)."""


class FeaturesUnavailable(RuntimeError):
    """The source could not provide the date's features; the message is safe to show."""


@lru_cache(maxsize=4096)
def _session_on_or_before(day: date) -> pd.Timestamp:
    return cal.session_on_or_before(pd.Timestamp(day))


def latest_close(now: datetime | None = None) -> pd.Timestamp:
    """The latest session whose 16:00 New York close has passed (a naive `now` is New York
    time)."""
    moment = now or datetime.now(UTC)
    local = moment.astimezone(NEW_YORK_TZ) if moment.tzinfo else moment
    today = local.date()
    session = _session_on_or_before(today)
    if session.date() == today and local.time() < cal.MARKET_CLOSE:
        session = _session_on_or_before(today - timedelta(days=1))
    return session


def resolve_day(requested: date | None, now: datetime | None = None) -> pd.Timestamp:
    """The session a request is served as of: the requested date (or the last session before
    it, on weekends and holidays), by default the latest close."""
    latest = latest_close(now)
    if requested is None:
        return latest
    if requested < EARLIEST_DATE.date():
        raise InvalidDate(
            f"date {requested:%Y-%m-%d} is before {EARLIEST_DATE:%Y-%m-%d}, the start of the exchange calendar"
        )
    if requested > latest.date():
        raise InvalidDate(
            f"date {requested:%Y-%m-%d} is after the latest close ({latest:%Y-%m-%d}); features exist only for dates "
            "whose close has passed"
        )
    return _session_on_or_before(requested)


@dataclass(frozen=True)
class DayFeatures:
    """The universe's features as of one session's close (index: symbol)."""

    day: pd.Timestamp
    frame: pd.DataFrame  # FEATURES + excluded_reason (+ asof_* provenance)
    source: str
    smart_money_error: str | None = None

    @cached_property
    def _values(self) -> tuple[dict[str, int], np.ndarray]:
        positions = {symbol: i for i, symbol in enumerate(self.frame.index)}
        return positions, self.frame.reindex(columns=list(FEATURES)).to_numpy(dtype=float)

    def has(self, symbol: str) -> bool:
        return symbol in self._values[0]

    def inputs(self, symbols: list[str]) -> pd.DataFrame:
        """The model inputs (FEATURES columns) of these symbols, one row each, in order."""
        positions, values = self._values
        return pd.DataFrame(values[[positions[s] for s in symbols]], columns=list(FEATURES))


def _table(source, table: str, symbols: list[str], month: pd.Timestamp) -> pd.DataFrame:
    return pull_raw(source, table, symbols, [month], month).outcome.valid


def compute_day(settings: Settings, day: pd.Timestamp, source: DataSource | None = None) -> DayFeatures:
    """The cross-section of `day` from the configured source (runs in the worker process)."""
    source = source or open_source(settings)
    month = cal.month_start(day)
    universe, _ = pull_universe(source, settings.symbols)
    stocks = universe.loc[universe["asset_type"] == "stock", "symbol"].tolist()
    prices = _table(source, "prices", universe["symbol"].tolist(), month)
    market = source.market_index()
    try:
        tables = {table: _table(source, table, stocks, month) for table in SMART_MONEY_TABLES}
    except Exception as exc:  # keep the price context; predictions report why they cannot run
        log.exception("smart-money tables failed for %s", day.date())
        block = price_block(PriceMatrix(prices), day, market)
        frame = pd.DataFrame(index=members_at(universe, day)).join(block, how="left")
        frame["prices_missing"] = frame["prices_missing"].fillna(1.0)
        frame = frame.reindex(columns=list(FEATURES)).assign(excluded_reason="")
        reason = f"the {source.name} source failed on the smart-money tables ({type(exc).__name__})"
        return DayFeatures(day, frame, source.name, reason)
    inputs = build_feature_inputs(universe, {**tables, "prices": prices}, source, settings.hedge_funds)
    rules = UniverseRules(settings.min_inst_ownership_pct, settings.require_insider_activity)
    frame = compute_features(inputs, [day], rules).set_index("symbol")
    return DayFeatures(day, frame.drop(columns=["sample_date", "cutoff"]), source.name)


class FeatureProvider:
    """Cached cross-sections per date; misses are computed by `compute(settings, day)` in a
    worker process (one at a time, a fresh process each, so its memory is returned)."""

    def __init__(
        self,
        settings: Settings,
        compute: Callable[[Settings, pd.Timestamp], DayFeatures] = compute_day,
        timeout_s: float = 600.0,
    ):
        self.settings = settings
        self.compute = compute
        self.timeout_s = timeout_s
        self._cache: TTLCache = TTLCache(CROSS_SECTION_DATES, CROSS_SECTION_TTL_S)
        self._pending: dict[pd.Timestamp, cf.Future] = {}
        self._lock = threading.Lock()
        self._executor: cf.ProcessPoolExecutor | None = None
        self.computed = 0

    def _pool(self) -> cf.ProcessPoolExecutor:
        if self._executor is None:
            context = multiprocessing.get_context("spawn")
            self._executor = cf.ProcessPoolExecutor(max_workers=1, mp_context=context, max_tasks_per_child=1)
        return self._executor

    def cached(self, day: pd.Timestamp) -> DayFeatures | None:
        with self._lock:
            return self._cache.get(day)

    def submit(self, day: pd.Timestamp) -> cf.Future:
        """A future of the day's cross-section (one computation per day, however many ask)."""
        with self._lock:
            hit = self._cache.get(day)
            if hit is not None:
                done: cf.Future = cf.Future()
                done.set_result(hit)
                return done
            if day in self._pending:
                return self._pending[day]
            try:
                future = self._pool().submit(self.compute, self.settings, day)
            except cf.process.BrokenProcessPool:
                self._executor = None
                future = self._pool().submit(self.compute, self.settings, day)
            self._pending[day] = future
        future.add_done_callback(lambda f, d=day: self._settle(d, f))
        return future

    def _settle(self, day: pd.Timestamp, future: cf.Future) -> None:
        with self._lock:
            self._pending.pop(day, None)
            if future.cancelled():
                return
            error = future.exception()
            if error is None:
                self._cache[day] = future.result()
                self.computed += 1
            elif isinstance(error, cf.process.BrokenProcessPool):
                self._executor = None

    def _unwrap(self, day: pd.Timestamp, error: BaseException) -> FeaturesUnavailable:
        log.error("features for %s failed: %r", day.date(), error)
        if isinstance(error, (TimeoutError, cf.TimeoutError)):
            return FeaturesUnavailable(f"features for {day:%Y-%m-%d} are still being computed; retry shortly")
        return FeaturesUnavailable(
            f"the {self.settings.source} source could not provide features for {day:%Y-%m-%d} ({type(error).__name__})"
        )

    def get(self, day: pd.Timestamp) -> DayFeatures:
        hit = self.cached(day)
        if hit is not None:
            return hit
        try:
            return self.submit(day).result(timeout=self.timeout_s)
        except Exception as exc:
            raise self._unwrap(day, exc) from exc

    async def aget(self, day: pd.Timestamp) -> DayFeatures:
        hit = self.cached(day)
        if hit is not None:
            return hit
        try:
            # shielded: a caller giving up must not cancel the computation others wait for
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(self.submit(day))), self.timeout_s)
        except Exception as exc:
            raise self._unwrap(day, exc) from exc

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
