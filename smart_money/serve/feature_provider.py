"""Point-in-time features for any session date, computed through the configured source.

A prediction for (symbol, date) needs the symbol's features as of that date's close. On a
month's sample date whose `features` asset partition was materialized they are read from it
(`read_materialized`); otherwise they are computed exactly as the `features` asset computes
them (`dataset.features.compute_features`, rows known by the date's 16:00 New York cutoff
only), for the whole configured universe at once: one source pull of the date's month with the
usual 13-month look-back, prepared once (`pull_month`), then one vectorised cross-section per
date (`MonthInputs.day`). The cross-section is cached per date, so every later symbol of that
date is a lookup.

Pulling a window and holding the raw tables costs far more memory than serving (about 0.8 GB
for 500 simulated symbols), so that work runs in a feature worker process that returns only
the cross-section (a few hundred rows); the server's memory stays that of the model. The worker
lives on between dates and keeps the last two months it pulled prepared (`compute_day_warm`),
so another date of such a month is one `compute_features` call (a few hundred ms for 500
symbols) instead of a pull (seconds); it exits after WORKER_IDLE_S without a date, returning its
memory. That work is bounded (`FeatureProvider`): one computation per date whatever the number
of requests waiting for it, a few dates at most in flight, stopped (the worker terminated) when
nobody waits any more, failures remembered for a minute, and dates that cannot have features
(not a session, before the data, after the latest close) refused before any work starts
(`resolve_day`).

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
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property, lru_cache
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as mp_wait
from multiprocessing.process import BaseProcess
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from cachetools import TTLCache

from smart_money.data import calendar as cal
from smart_money.data import storage
from smart_money.data.raw_pull import concat_partitions, pull_raw, pull_universe
from smart_money.data.source import DataSource
from smart_money.dataset.catalogue import FEATURES
from smart_money.dataset.features import (
    FEATURE_LOOKBACK_MONTHS,
    FeatureInputs,
    PriceMatrix,
    UniverseRules,
    build_feature_inputs,
    compute_features,
    members_at,
    prepare,
    price_block,
)
from smart_money.settings import Settings
from smart_money.sources import open_source

log = logging.getLogger("smart_money.serve")

NEW_YORK_TZ = ZoneInfo("America/New_York")
EARLIEST_DATE = pd.Timestamp(cal.CALENDAR_START)
CROSS_SECTION_TTL_S = 3600.0  # a vendor may still add rows known by a past cutoff; recompute hourly
CROSS_SECTION_DATES = 32
WAIT_S = 120.0  # how long a request waits for its date's features before a 503 "still computing"
MAX_PENDING_DATES = 3  # dates computing or queued at once; another new date gets 503 + Retry-After
FAILURE_TTL_S = 60.0  # a failed date answers with its failure this long before it is tried again
FAILED_DATES = 1024
SHUTTING_DOWN = "the server is shutting down; retry when it is back"
WORKER_IDLE_S = 600.0  # a worker process with no date to compute this long exits (its memory returned)
DISCONNECT_POLL_S = 0.25  # how often a waiting request checks that its client is still there
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


def resolve_day(requested: date | None, now: datetime | None = None, first: date | None = None) -> pd.Timestamp:
    """The session a request is served as of: the requested date, by default the latest close.
    InvalidDate for a date that cannot have features: before `first` (the data's first date) or
    the exchange calendar, not a session (a weekend or holiday: the message names the session
    before), or after the latest close."""
    latest = latest_close(now)
    if requested is None:
        return latest
    earliest = max(EARLIEST_DATE.date(), first) if first is not None else EARLIEST_DATE.date()
    if requested < earliest:
        what = (
            "the start of the exchange calendar"
            if earliest == EARLIEST_DATE.date()
            else "the first month of the configured data (SMART_MONEY_START)"
        )
        raise InvalidDate(f"date {requested:%Y-%m-%d} is before {earliest:%Y-%m-%d}, {what}")
    if requested > latest.date():
        raise InvalidDate(
            f"date {requested:%Y-%m-%d} is after the latest close ({latest:%Y-%m-%d}); features exist only for dates "
            "whose close has passed"
        )
    session = _session_on_or_before(requested)
    if session.date() != requested:
        raise InvalidDate(
            f"date {requested:%Y-%m-%d} ({requested:%A}) is not a trading session of the exchange calendar; the "
            f"session before it is {session:%Y-%m-%d}"
        )
    return session


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


def _table(source, settings: Settings, table: str, symbols: list[str], month: pd.Timestamp) -> pd.DataFrame:
    """`table`'s rows the `features` asset reads for `month`: its raw partitions over the asset's
    look-back, split as the raw assets split them, in month order (so the rows come in the same
    order as from stored partitions, and sums over them are bit-identical)."""
    months = raw_partitions_needed(settings, month)[table]
    pull = pull_raw(source, table, symbols, months, _first_month(settings, month))
    return concat_partitions(list(pull.partitions.values()))


@dataclass
class MonthInputs:
    """One month's pull (the month with the usual look-back), prepared once: every session of
    that month is then one `compute_features` call on it (`day`), the same computation as the
    `features` asset's. When the source failed on the smart-money tables, only the price context
    (`smart_money_error` says why)."""

    month: pd.Timestamp
    source: str
    settings: Settings
    universe: pd.DataFrame
    market: str
    inputs: FeatureInputs | None = None
    prepared: tuple[dict[str, pd.DataFrame], PriceMatrix] | None = None
    prices: PriceMatrix | None = None
    smart_money_error: str | None = None
    pulled_at: float = 0.0  # time.monotonic() of the pull

    def day(self, day: pd.Timestamp) -> DayFeatures:
        """The cross-section of `day` (a session of this month)."""
        assert cal.month_start(day) == self.month, (day, self.month)
        if self.inputs is None:
            assert self.prices is not None
            block = price_block(self.prices, day, self.market)
            frame = pd.DataFrame(index=members_at(self.universe, day)).join(block, how="left")
            frame["prices_missing"] = frame["prices_missing"].fillna(1.0)
            frame = frame.reindex(columns=list(FEATURES)).assign(excluded_reason="")
            return DayFeatures(day, frame, self.source, self.smart_money_error)
        rules = UniverseRules(self.settings.min_inst_ownership_pct, self.settings.require_insider_activity)
        frame = compute_features(self.inputs, [day], rules, prepared=self.prepared).set_index("symbol")
        return DayFeatures(day, frame.drop(columns=["sample_date", "cutoff"]), self.source)


def pull_month(settings: Settings, month: pd.Timestamp, source: DataSource | None = None) -> MonthInputs:
    """Pull `month` (with its look-back) from the configured source and prepare it."""
    source = source or open_source(settings)
    month = cal.month_start(month)
    pulled_at = time.monotonic()
    universe, _ = pull_universe(source, settings.symbols)
    stocks = universe.loc[universe["asset_type"] == "stock", "symbol"].tolist()
    prices = _table(source, settings, "prices", universe["symbol"].tolist(), month)
    market = source.market_index()
    try:
        tables = {table: _table(source, settings, table, stocks, month) for table in SMART_MONEY_TABLES}
    except Exception as exc:  # keep the price context; predictions report why they cannot run
        log.exception("smart-money tables failed for %s", f"{month:%Y-%m}")
        reason = f"the {source.name} source failed on the smart-money tables ({type(exc).__name__})"
        return MonthInputs(
            month, source.name, settings, universe, market, prices=PriceMatrix(prices), smart_money_error=reason,
            pulled_at=pulled_at,
        )  # fmt: skip
    inputs = build_feature_inputs(universe, {**tables, "prices": prices}, source, settings.hedge_funds)
    return MonthInputs(month, source.name, settings, universe, market, inputs, prepare(inputs), pulled_at=pulled_at)


def asset_path(settings: Settings, asset: str, partition: pd.Timestamp | None = None) -> str:
    """Where `smart-money run`'s io manager stores an asset or one monthly partition of it."""
    key = None if partition is None else f"{partition:%Y-%m-%d}"
    return storage.asset_file(storage.assets_location(settings.data_location), [asset], key, "parquet")


def _first_month(settings: Settings, month: pd.Timestamp) -> pd.Timestamp:
    """The configured first month (whose partition holds the history before it); `month` itself
    for a month before it."""
    return min(cal.month_start(pd.Timestamp(settings.start)), cal.month_start(month))


def raw_partitions_needed(settings: Settings, month: pd.Timestamp) -> dict[str, list[pd.Timestamp]]:
    """The raw partitions the `features` asset reads for `month`, per table: its look-back
    (FEATURE_LOOKBACK_MONTHS) up to the month, none before the configured first month (whose
    partition also holds the history before it)."""
    month, first = cal.month_start(month), _first_month(settings, month)
    return {
        table: cal.months_between(max(first, cal.add_months(month, -months)), month)
        for table, months in FEATURE_LOOKBACK_MONTHS.items()
    }


def _universe_matches(settings: Settings, universe: pd.DataFrame) -> bool:
    """Whether a stored universe is the one the configured symbols select (a home whose run had
    other symbols is not used)."""
    stocks = universe.loc[universe["asset_type"] == "stock", "symbol"].drop_duplicates()
    if isinstance(settings.symbols, int):
        return len(stocks) == settings.symbols
    return set(stocks) == set(settings.symbols)


# the raw partitions the last `read_month` read (path -> (file stamp, frame)): the next month
# needs most of them again (the look-back), so only its new ones are read
_partitions: dict[str, tuple[tuple[int, int], pd.DataFrame]] = {}
READ_THREADS = 2


def _stamp(path: str) -> tuple[int, int] | None:
    """(mtime ns, size) of a local file; None for object storage (not kept)."""
    local = storage.local_path(path)
    if local is None:
        return None
    info = local.stat()
    return info.st_mtime_ns, info.st_size


def _read_partitions(paths: list[str]) -> dict[str, pd.DataFrame]:
    """The partitions at `paths`, the unchanged ones kept from the last call, the others read
    (a few at once); the ones kept afterwards are exactly these."""
    stamps = {path: _stamp(path) for path in paths}
    out = {p: _partitions[p][1] for p in paths if stamps[p] is not None and _partitions.get(p, (None,))[0] == stamps[p]}
    todo = [p for p in paths if p not in out]
    with cf.ThreadPoolExecutor(READ_THREADS) as pool:
        out.update(zip(todo, pool.map(storage.read_parquet, todo), strict=True))
    _partitions.clear()
    _partitions.update({p: (stamps[p], out[p]) for p in paths if stamps[p] is not None})
    return out


def read_month(settings: Settings, month: pd.Timestamp, source: DataSource | None = None) -> MonthInputs | None:
    """`month` prepared from the raw partitions `smart-money run` materialized (the universe and
    every raw table's partitions over the `features` asset's look-back, concatenated in month
    order as its io manager loads them): exactly the inputs the `features` asset computes that
    month's sample date from, so every session of the month gets the asset's values. None when a
    needed partition is missing or unreadable, or the stored universe is not the configured
    one (the log says which): the caller pulls the month from the source instead."""
    month = cal.month_start(month)
    started = time.monotonic()
    wanted = {
        table: [(key, asset_path(settings, f"raw_{table}", key)) for key in keys]
        for table, keys in raw_partitions_needed(settings, month).items()
    }
    universe_path = asset_path(settings, "universe")
    try:
        missing = [] if storage.exists(universe_path) else ["universe"]
        missing += [
            f"raw_{table}[{key:%Y-%m}]"
            for table, paths in wanted.items()
            for key, path in paths
            if not storage.exists(path)
        ]
        if missing:
            shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
            log.info("%s: not materialized: %s; pulling the month from the source", f"{month:%Y-%m}", shown)
            return None
        universe = storage.read_parquet(universe_path)
        if not _universe_matches(settings, universe):
            log.info(
                "%s: the stored universe is not the configured symbols' (another run's); pulling the month from the "
                "source",
                f"{month:%Y-%m}",
            )
            return None
        frames = _read_partitions([path for paths in wanted.values() for _, path in paths])
        tables = {table: concat_partitions([frames[path] for _, path in paths]) for table, paths in wanted.items()}
    except Exception as exc:  # a partition cut short or storage failing: pull instead, say why
        log.warning(
            "%s: the raw partitions cannot be read (%s); pulling the month from the source", f"{month:%Y-%m}", exc
        )
        return None
    source = source or open_source(settings)
    inputs = build_feature_inputs(universe, tables, source, settings.hedge_funds)
    return MonthInputs(
        month, source.name, settings, universe, source.market_index(), inputs, prepare(inputs), pulled_at=started
    )


def load_month(settings: Settings, month: pd.Timestamp) -> MonthInputs:
    """`month` from the materialized raw partitions when they are all there (`read_month`),
    else pulled from the source (`pull_month`)."""
    return read_month(settings, month) or pull_month(settings, month)


def compute_day(settings: Settings, day: pd.Timestamp, source: DataSource | None = None) -> DayFeatures:
    """The cross-section of `day` from the configured source: its month pulled and prepared for
    this one date (the provider's worker keeps months instead: `compute_day_warm`)."""
    return pull_month(settings, day, source).day(day)


WARM_MONTHS = 2  # months a worker keeps pulled (about 250 MB each for 500 simulated symbols)
# how long a worker keeps a pulled month: a date computed from it is then cached in the server for
# CROSS_SECTION_TTL_S, so what is served was pulled at most 1.5 x CROSS_SECTION_TTL_S before
KEEP_MONTH_S = CROSS_SECTION_TTL_S / 2
_warm_months: OrderedDict[tuple[Settings, pd.Timestamp], MonthInputs] = OrderedDict()
_warm_days: dict[tuple[Settings, pd.Timestamp], dict[pd.Timestamp, DayFeatures]] = {}  # computed ahead
_last_asked: dict[tuple[Settings, pd.Timestamp], pd.Timestamp] = {}  # each kept month's last date asked


def _forget(key: tuple[Settings, pd.Timestamp]) -> None:
    _warm_months.pop(key, None)
    _warm_days.pop(key, None)
    _last_asked.pop(key, None)


def _drop_stale(now: float) -> None:
    for stale in [k for k, m in _warm_months.items() if now - m.pulled_at > KEEP_MONTH_S]:
        _forget(stale)


def _keep(key: tuple[Settings, pd.Timestamp], month: MonthInputs) -> None:
    _warm_months[key] = month
    while len(_warm_months) > WARM_MONTHS:
        _forget(next(iter(_warm_months)))


def compute_day_warm(settings: Settings, day: pd.Timestamp) -> DayFeatures:
    """`compute_day` for the provider's long-lived worker process: a month is read from the
    materialized raw partitions when they are all there, else pulled (`load_month`); the last
    WARM_MONTHS months stay prepared in the process (each for KEEP_MONTH_S at most), so another
    date of such a month is one `compute_features` call (a few hundred ms for 500 symbols), or a
    lookup when `prefetch` computed it ahead. A month whose smart-money tables failed is not
    kept (the next date tries the source again)."""
    key = (settings, cal.month_start(day))
    _drop_stale(time.monotonic())
    month = _warm_months.get(key)
    if month is None:
        month = load_month(settings, day)
        if month.smart_money_error is not None:
            return month.day(day)
        _keep(key, month)
    else:
        _warm_months.move_to_end(key)
    _last_asked[key] = day
    ahead = _warm_days.setdefault(key, {})
    if day not in ahead:
        ahead[day] = month.day(day)
    return ahead[day]


def _prefetch(settings: Settings) -> bool:
    """Between requests, compute one more session of a kept month ahead (the most recently used
    month first, the sessions nearest its last date asked first, the month's sample date last
    (the server reads it from the `features` asset when that is materialized), none after the
    latest close);
    False when every session of the kept months is computed. A request arriving meanwhile waits
    for at most this one date."""
    _drop_stale(time.monotonic())
    latest = latest_close()
    for key in reversed(_warm_months):
        month, asked = _warm_months[key], _last_asked[key]
        done = _warm_days.setdefault(key, {})
        sessions = cal.sessions_between(month.month, cal.add_months(month.month, 1) - pd.Timedelta(days=1))
        todo = [d for d in sessions if d <= latest and d not in done]
        if todo:
            sample = cal.sample_date(month.month)
            nearest = min(todo, key=lambda d: (d == sample, abs(d - asked), d))
            done[nearest] = month.day(nearest)
            return True
    return False


def _warm_up(settings: Settings) -> None:
    """What a new worker does before its first date, so the first request does not wait for it:
    import what reading partitions needs (the Parquet engine), read the raw partitions the
    latest materialized month needs (another month asked first then reads only the few it has
    beyond them) and prepare that month (kept like a month asked for). Nothing is pulled."""
    import pyarrow.parquet  # noqa: F401  # pandas imports it on the first read_parquet

    month = cal.month_start(min(latest_close(), pd.Timestamp(settings.last_month())))
    paths = [
        asset_path(settings, f"raw_{t}", key)
        for t, keys in raw_partitions_needed(settings, month).items()
        for key in keys
    ]
    _read_partitions([path for path in paths if storage.exists(path)])
    # that month prepared and kept, one session computed (the code paths warm): a new month then
    # costs its preparation and one cross-section, about half a second of CPU for 500 symbols
    sessions = cal.sessions_between(month, min(cal.add_months(month, 1) - pd.Timedelta(days=1), latest_close()))
    prepared = read_month(settings, month) if len(sessions) else None
    if prepared is not None:
        key = (settings, month)
        _keep(key, prepared)
        _last_asked[key] = sessions[-1]
        _warm_days.setdefault(key, {})[sessions[-1]] = prepared.day(sessions[-1])


compute_day_warm.prefetch = _prefetch  # type: ignore[attr-defined]  # the worker calls it between dates
compute_day_warm.warm_up = _warm_up  # type: ignore[attr-defined]  # and once when it starts


class WorkerDied(RuntimeError):
    """The feature worker process ended without an answer."""


class Busy(FeaturesUnavailable):
    """Too many dates are being computed or waiting; the caller should retry later."""


class Cancelled(FeaturesUnavailable):
    """Every caller waiting for the date gave up, so its computation was stopped."""


@dataclass(eq=False)
class _Job:
    """One date's computation: its future (shared by every waiter), how many requests wait
    for it, and its worker process once started."""

    day: pd.Timestamp
    future: cf.Future
    waiters: int = 0
    keep: bool = False  # submitted without a waiter (warm start): never cancelled for lack of one
    process: BaseProcess | None = None
    stopped: bool = False


def _send(conn, compute: Callable[[Settings, pd.Timestamp], DayFeatures], settings: Settings, day) -> None:
    """Compute the day and send ("ok", features) or ("error", exception)."""
    try:
        conn.send(("ok", compute(settings, day)))
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the server as the answer
        try:
            conn.send(("error", exc))
        except Exception:  # an exception that does not pickle
            conn.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))


def _work(compute: Callable[[Settings, pd.Timestamp], DayFeatures], settings: Settings, conn, idle_s: float) -> None:
    """The worker process: answer one date after another (what `compute` keeps between dates,
    e.g. `compute_day_warm`'s pulled months, stays warm); first it calls `compute.warm_up(settings)`
    if there is one. Between dates it calls
    `compute.prefetch(settings)`, if there is one, until that returns False (work ahead, one
    date per call, so a request waits for at most one). It exits when the server closes the pipe
    or `idle_s` after its last answer, returning the memory."""
    prefetch = getattr(compute, "prefetch", None)
    more = prefetch is not None
    try:
        warm_up = getattr(compute, "warm_up", None)
        if warm_up is not None:
            try:
                warm_up(settings)
            except Exception:  # optional: the first date does it anyway
                log.exception("warming up the feature worker failed")
        deadline = time.monotonic() + idle_s
        while True:
            if conn.poll(0.0 if more else max(deadline - time.monotonic(), 0.0)):
                try:
                    day = conn.recv()
                except EOFError:
                    return
                _send(conn, compute, settings, day)
                more = prefetch is not None
                deadline = time.monotonic() + idle_s
            elif more:
                try:
                    more = bool(prefetch(settings))  # type: ignore[misc]
                except Exception:  # work ahead is optional: a failure only ends it
                    log.exception("computing features ahead failed")
                    more = False
            elif time.monotonic() >= deadline:
                return
    finally:
        conn.close()


@dataclass(eq=False)
class _Worker:
    """A feature worker process and the server's end of its pipe."""

    process: BaseProcess
    conn: Connection
    idle_since: float = 0.0

    def fresh(self, idle_s: float) -> bool:
        """Alive and idle for less than half its idle limit (so it will not exit under a date)."""
        return self.process.is_alive() and time.monotonic() - self.idle_since < idle_s / 2

    def stop(self) -> None:
        self.conn.close()
        _stop(self.process)


def features_partition_path(settings: Settings, day: pd.Timestamp) -> str:
    """Where the `features` asset stores the partition of `day`'s month (the io manager's layout:
    <data location>/assets/features/<YYYY-MM-01>.parquet)."""
    return asset_path(settings, "features", cal.month_start(day))


def read_materialized(settings: Settings, day: pd.Timestamp) -> DayFeatures | None:
    """`day`'s cross-section from the materialized `features` asset, when `day` is its month's
    sample date and that partition exists (None otherwise, or when it cannot be read: the
    caller computes the date instead). The asset computes exactly what `compute_day` does."""
    if day != cal.sample_date(day):
        return None
    path = features_partition_path(settings, day)
    try:
        if not storage.exists(path):
            return None
        frame = storage.read_parquet(path)
    except Exception as exc:  # a partition cut short: compute instead, and say why in the log
        log.warning("the features partition %s cannot be read (%s); computing %s instead", path, exc, day.date())
        return None
    rows = frame[frame["sample_date"] == day]
    if rows.empty or rows["symbol"].duplicated().any():
        return None
    rows = rows.set_index("symbol").drop(columns=["sample_date", "cutoff"], errors="ignore")
    return DayFeatures(day, rows, settings.source)


class FeatureProvider:
    """Cached cross-sections per date. A miss on a month's sample date whose `features` asset
    partition was materialized (`smart-money run`) is read from it in the server process (tens
    of ms); any other miss is computed by `compute(settings, day)` in a worker process, `workers`
    at a time. A worker answers date after date (what `compute` keeps between dates stays warm:
    `compute_day_warm`'s pulled months) and exits after `worker_idle_s` without one (its memory
    returned); one idle for half that long is replaced rather than reused.

    Bounded and cancellable: one computation per date, shared by every request waiting for it;
    at most `max_pending` dates computing or queued (another new date is refused with `Busy`);
    a date whose every waiter gave up (client gone, wait timed out) is taken off the queue, or
    its worker terminated; a failed date answers with its failure for `failure_ttl_s` without
    starting a new worker. `close` stops and joins every worker."""

    def __init__(
        self,
        settings: Settings,
        compute: Callable[[Settings, pd.Timestamp], DayFeatures] = compute_day_warm,
        timeout_s: float = 600.0,
        wait_s: float = WAIT_S,
        max_pending: int = MAX_PENDING_DATES,
        failure_ttl_s: float = FAILURE_TTL_S,
        workers: int = 1,
        use_materialized: bool = True,
        worker_idle_s: float = WORKER_IDLE_S,
    ):
        self.settings = settings
        self.compute = compute
        self.timeout_s = timeout_s
        self.wait_s = wait_s
        self.max_pending = max_pending
        self._cache: TTLCache = TTLCache(CROSS_SECTION_DATES, CROSS_SECTION_TTL_S)
        self._failures: TTLCache = TTLCache(FAILED_DATES, failure_ttl_s)
        self._jobs: dict[pd.Timestamp, _Job] = {}
        self._lock = threading.Lock()
        self._threads = cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="features")
        self._context = multiprocessing.get_context("spawn")
        self._idle: list[_Worker] = []  # worker processes waiting for a date
        self.worker_idle_s = worker_idle_s
        self.workers_started = 0
        self._closed = False
        self.stopping = False  # set when the server begins to shut down: waiting requests answer 503
        self.use_materialized = use_materialized
        self.computed = 0
        self.cancelled = 0
        self.materialized = 0  # dates read from the `features` asset instead of computed

    @property
    def first_day(self) -> date:
        """The first date the configured data covers (SMART_MONEY_START's month)."""
        return self.settings.start

    def cached(self, day: pd.Timestamp) -> DayFeatures | None:
        with self._lock:
            return self._cache.get(day)

    def pending(self) -> int:
        with self._lock:
            return len(self._jobs)

    def submit(self, day: pd.Timestamp) -> cf.Future:
        """A future of the day's cross-section (one computation per day, however many ask)."""
        with self._lock:
            return self._job(day, keep=True).future

    def _job(self, day: pd.Timestamp, keep: bool = False) -> _Job:
        """The day's job, started if needed (call with the lock held)."""
        hit = self._cache.get(day)
        if hit is not None:
            job = _Job(day, cf.Future())
            job.future.set_result(hit)
            return job
        failure = self._failures.get(day)
        if failure is not None:
            raise FeaturesUnavailable(failure)
        job = self._jobs.get(day)
        if job is not None:
            job.keep = job.keep or keep
            return job
        if self._closed or self.stopping:
            raise FeaturesUnavailable(SHUTTING_DOWN)
        if len(self._jobs) >= self.max_pending:
            raise Busy(
                f"features for {len(self._jobs)} other dates are being computed; retry {day:%Y-%m-%d} in a few seconds"
            )
        job = _Job(day, cf.Future(), keep=keep)
        self._jobs[day] = job
        self._threads.submit(self._run, job)
        return job

    def _worker(self) -> _Worker:
        """An idle worker process to reuse, else a new one (call with the lock held)."""
        while self._idle:
            worker = self._idle.pop()
            if worker.fresh(self.worker_idle_s):
                return worker
            worker.stop()  # exited after its idle limit, or about to: a new one is safer
        conn, child = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_work,
            args=(self.compute, self.settings, child, self.worker_idle_s),
            name="features-worker",
            daemon=True,  # a provider left unclosed does not hold its interpreter's exit
        )
        process.start()
        child.close()
        self.workers_started += 1
        return _Worker(process, conn)

    def start_worker(self) -> None:
        """Start a worker process now, in the background (the caller does not wait), so the first
        new date does not pay for its start (spawn and imports, seconds); it then waits idle like
        a worker that answered a date. Nothing when one is already there or running."""

        def start() -> None:
            with self._lock:
                if self._closed or self.stopping or self._idle or self._jobs:
                    return
                worker = self._worker()
                worker.idle_since = time.monotonic()
                self._idle.append(worker)

        threading.Thread(target=start, name="features-start", daemon=True).start()

    def _run(self, job: _Job) -> None:
        """Run one job in a worker process (in a scheduler thread) and settle its future."""
        with self._lock:
            if job.stopped or not job.future.set_running_or_notify_cancel():
                if self._jobs.get(job.day) is job:
                    del self._jobs[job.day]
                return
            worker = self._worker()
            job.process = worker.process
        outcome: tuple[str, object]
        answered = False
        try:
            worker.conn.send(job.day)
            ready = mp_wait([worker.conn, worker.process.sentinel], timeout=self.timeout_s)
            if worker.conn in ready:
                outcome = worker.conn.recv()
                answered = True
            elif worker.process.sentinel in ready:
                outcome = ("error", WorkerDied(f"the feature worker exited with code {worker.process.exitcode}"))
            else:
                outcome = ("error", TimeoutError(f"the feature worker took more than {self.timeout_s:.0f} s"))
        except (EOFError, OSError) as exc:
            outcome = ("error", WorkerDied(f"the feature worker stopped ({type(exc).__name__})"))
        with self._lock:
            keep = answered and not job.stopped and not self._closed and worker.process.is_alive()
            if keep:
                worker.idle_since = time.monotonic()
                self._idle.append(worker)
        if not keep:
            worker.stop()
        self._settle(job, outcome)

    def _settle(self, job: _Job, outcome: tuple[str, object]) -> None:
        kind, value = outcome
        with self._lock:
            if self._jobs.get(job.day) is job:
                del self._jobs[job.day]
            if kind == "ok":  # done before it could be stopped: keep it
                assert isinstance(value, DayFeatures)
                self._cache[job.day] = value
                self.computed += 1
                job.future.set_result(value)
                return
            if job.stopped:
                self.cancelled += 1
                job.future.set_exception(Cancelled(f"the computation of features for {job.day:%Y-%m-%d} was stopped"))
                return
            assert isinstance(value, BaseException)
            log.error("features for %s failed: %r", job.day.date(), value)
            message = self._explain(job.day, value)
            self._failures[job.day] = message
            job.future.set_exception(FeaturesUnavailable(message))

    def _explain(self, day: pd.Timestamp, error: BaseException) -> str:
        return (
            f"the {self.settings.source} source could not provide features for {day:%Y-%m-%d} "
            f"({type(error).__name__}); this date is not retried for {self._failures.ttl:.0f} s"
        )

    def _release(self, job: _Job) -> None:
        """A waiter gave up; the last one stops the job (unless it was submitted to be kept)."""
        with self._lock:
            job.waiters -= 1
            if job.waiters > 0 or job.keep or job.future.done() or self._jobs.get(job.day) is not job:
                return
            job.stopped = True
            process = job.process
            if job.future.cancel():  # not started yet: off the queue
                del self._jobs[job.day]
                self.cancelled += 1
                return
        log.info("no request waits for features of %s any more: stopping its worker", job.day.date())
        if process is not None:
            process.terminate()  # _run sees the worker gone and settles the job as cancelled

    def _materialized(self, day: pd.Timestamp) -> DayFeatures | None:
        """The day from the `features` asset (cached like a computed day), if it is there."""
        if not self.use_materialized:
            return None
        found = read_materialized(self.settings, day)
        if found is not None:
            with self._lock:
                self._cache[day] = found
                self.materialized += 1
        return found

    def get(self, day: pd.Timestamp) -> DayFeatures:
        hit = self.cached(day) or self._materialized(day)
        if hit is not None:
            return hit
        future = self.submit(day)
        try:
            return future.result(timeout=self.timeout_s)
        except cf.TimeoutError:
            raise FeaturesUnavailable(f"features for {day:%Y-%m-%d} are still being computed; retry shortly") from None

    async def aget(self, day: pd.Timestamp, disconnected: Callable[[], Awaitable[bool]] | None = None) -> DayFeatures:
        """The day's features; waits at most `wait_s` (then 503: still computing), checking
        `disconnected` while it waits. A caller that leaves (gone, timed out, cancelled) no
        longer counts as a waiter; when none is left the computation is stopped."""
        hit = self.cached(day)
        if hit is None and self.use_materialized and day == cal.sample_date(day):
            hit = await asyncio.to_thread(self._materialized, day)
        if hit is not None:
            return hit
        with self._lock:
            job = self._job(day)
            job.waiters += 1
        waiting = asyncio.wrap_future(job.future)
        # retrieve the outcome even when this caller has left (no "exception never retrieved")
        waiting.add_done_callback(lambda f: f.cancelled() or f.exception())
        deadline = asyncio.get_running_loop().time() + self.wait_s
        try:
            while True:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    raise FeaturesUnavailable(
                        f"features for {day:%Y-%m-%d} are still being computed; retry in a few seconds"
                    )
                done, _ = await asyncio.wait({waiting}, timeout=min(remaining, DISCONNECT_POLL_S))
                if done:
                    return waiting.result()
                if disconnected is not None and await disconnected():
                    raise Cancelled(f"the client asking for {day:%Y-%m-%d} went away")
                if self.stopping:
                    raise FeaturesUnavailable(SHUTTING_DOWN)
        finally:
            if not job.future.done():
                self._release(job)

    def stop_waiting(self) -> None:
        """The server begins to shut down: requests waiting for features answer 503 at their
        next poll (instead of holding the shutdown until its grace period cuts them off), and
        no new date is started. Safe to call from a signal handler (it sets a flag)."""
        self.stopping = True

    def close(self) -> None:
        """Stop every queued and running computation and every worker process, and wait for them."""
        with self._lock:
            self._closed = True
            jobs = list(self._jobs.values())
            for job in jobs:
                job.stopped = True
                job.future.cancel()
            processes = [job.process for job in jobs if job.process is not None]
            idle, self._idle = self._idle, []
        for process in processes:
            process.terminate()
        self._threads.shutdown(wait=True, cancel_futures=True)
        for process in processes:
            _stop(process)
        for worker in idle:
            worker.stop()


def _stop(process: BaseProcess, grace_s: float = 5.0) -> None:
    """Join a worker process, terminating (then killing) it if it does not exit."""
    process.join(grace_s if process.exitcode is None else 0)
    if process.exitcode is None:
        process.terminate()
        process.join(grace_s)
    if process.exitcode is None:
        process.kill()
        process.join()
