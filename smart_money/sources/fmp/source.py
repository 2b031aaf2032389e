"""`FmpSource`: the DataSource interface over FMP, with the disk cache and concurrent units.

A fetch is split into *units*, one per symbol x endpoint (x quarter for 13F holders), each
covering the whole requested window: a 36-month backfill costs one listing per unit (all its
pages), never one call per sample date. Units run on a thread pool under the client's shared
rate limiter; each is looked up in the cache first and written to it as soon as it completes,
so a failed backfill resumes where it stopped. A 402 turns the unit into a gap (symbol x
endpoint, shown as metadata) and the rest of the pull goes on; a 401 stops everything.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from smart_money.data.schemas import TABLES, UNIVERSE, empty_frame
from smart_money.data.source import FetchResult, Gap, ListedUniverseSource
from smart_money.sources.fmp import fetchers as fx
from smart_money.sources.fmp.cache import LATEST, DiskCache, cache_key
from smart_money.sources.fmp.client import FmpClient
from smart_money.sources.fmp.errors import FmpPlanError

NEW_YORK = "America/New_York"
FINALIZED_AFTER_DAYS = 90  # an event window that closed this long ago gets no new rows from FMP
THIRTEEN_F_REACH_DAYS = 135  # quarters ending this long before a window can still be filed in it
THIRTEEN_F_FINAL_DAYS = 180  # a quarter's holder list stops changing (late filers) after this
DEFAULT_INDEX_ETFS = ("SPY",)
SP500_KEY = "SP500"
PROGRESS_EVERY_S = 5.0


def new_york_now() -> datetime:
    """The current New York wall-clock time, tz-naive (the tables' convention)."""
    return pd.Timestamp.now(tz=NEW_YORK).tz_localize(None).to_pydatetime()


@dataclass
class Unit:
    """One cacheable piece of work: `run()` returns (raw rows, HTTP calls made)."""

    symbol: str
    family: fx.Family
    start: date | str
    end: date | str
    run: Callable[[], tuple[list[Any], int]]
    finalized: bool = False

    @property
    def key(self) -> str:
        return cache_key(self.symbol, self.start, self.end, self.family.data_type)


@dataclass
class UnitResult:
    unit: Unit
    rows: list[Any] | None  # None: not available (a gap)
    fetched_at: datetime | None = None
    gap: str | None = None


class Progress:
    """Logs done/total, calls and an ETA at most every few seconds, and at the end."""

    def __init__(self, label: str, total: int, log: logging.Logger, calls: Callable[[], int]):
        self.label, self.total, self.log, self.calls = label, total, log, calls
        self.done = self.cached = 0
        self.started = self.last = time.monotonic()
        self._lock = threading.Lock()

    def step(self, cached: bool) -> None:
        with self._lock:
            self.done += 1
            self.cached += int(cached)
            now = time.monotonic()
            if self.done == self.total or now - self.last >= PROGRESS_EVERY_S:
                self.last = now
                elapsed = now - self.started
                eta = elapsed / self.done * (self.total - self.done)
                self.log.info(
                    "FMP %s: %d/%d units (%d from cache), %d HTTP calls, %.0fs elapsed, ETA %.0fs",
                    self.label,
                    self.done,
                    self.total,
                    self.cached,
                    self.calls(),
                    elapsed,
                    eta,
                )


class FmpSource(ListedUniverseSource):
    """Financial Modeling Prep behind the source interface (see the module docstring)."""

    name = "fmp"

    def __init__(
        self,
        client: FmpClient,
        cache: DiskCache,
        selection: int | tuple[str, ...] = 500,
        history_start: date | None = None,
        index_etfs: Sequence[str] = DEFAULT_INDEX_ETFS,
        log: logging.Logger | None = None,
        clock: Callable[[], datetime] = new_york_now,
    ):
        self.client = client
        self.cache = cache
        self.selection = selection
        self.history_start = pd.Timestamp(history_start or date(2000, 1, 1))
        self.index_etfs = tuple(index_etfs)
        self.log = log or logging.getLogger("smart_money.fmp")
        self.clock = clock
        self._gated: dict[str, str] = {}  # data_type -> reason, when the plan lacks the endpoint
        self._gated_lock = threading.Lock()
        self._universe: pd.DataFrame | None = None

    def close(self) -> None:
        """Close the HTTP client (its connections)."""
        self.client.close()

    def describe(self) -> dict[str, str]:
        config = self.client.config
        return {
            "source": self.name,
            "api": "legacy" if self.client.use_legacy else "stable",
            "base_url": config.base_url,
            "rate_limit": f"{config.rate_limit} per {config.rate_period_s:g}s",
            "cache": str(self.cache.root),
        }

    # -- running units --------------------------------------------------------------------------
    def _run_unit(self, unit: Unit, progress: Progress) -> UnitResult:
        reason = self._gated.get(unit.family.data_type)
        if reason is not None:
            progress.step(cached=False)
            return UnitResult(unit, None, gap=reason)
        entry = self.cache.get(unit.key)
        if entry is not None:
            progress.step(cached=True)
            return UnitResult(unit, entry.rows, entry.fetched_at)
        try:
            rows, calls = unit.run()
        except FmpPlanError as error:
            gap = f"402: the FMP plan does not cover {unit.family.stable.path} ({unit.family.plan} plan needed)"
            if error.scope == "endpoint":
                with self._gated_lock:
                    if unit.family.data_type not in self._gated:
                        self.log.warning("FMP: %s; recording gaps and continuing without it", gap)
                    self._gated[unit.family.data_type] = gap
            else:
                gap = f"402: the FMP plan does not cover {unit.symbol} on {unit.family.stable.path}"
            progress.step(cached=False)
            return UnitResult(unit, None, gap=gap)
        entry = self.cache.put(unit.key, rows, calls=calls, finalized=unit.finalized)
        progress.step(cached=False)
        return UnitResult(unit, rows, entry.fetched_at)

    def run_units(self, label: str, units: Sequence[Unit]) -> list[UnitResult]:
        """Every unit, concurrently; the first non-402 failure (401, a 400, retries exhausted)
        cancels what has not started and is raised."""
        if not units:
            return []
        progress = Progress(label, len(units), self.log, lambda: self.client.stats.counts["http_requests"])
        workers = min(self.client.config.max_concurrency, len(units))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fmp") as pool:
            futures = [pool.submit(self._run_unit, unit, progress) for unit in units]
            done, pending = wait(futures, return_when=FIRST_EXCEPTION)
            failed = next((f for f in done if f.exception() is not None), None)
            if failed is not None:
                for future in pending:
                    future.cancel()
                raise failed.exception()  # type: ignore[misc]
        return [f.result() for f in futures]

    # -- the interface ---------------------------------------------------------------------------
    def fetch(self, table: str, symbols: Sequence[str], start: pd.Timestamp, end: pd.Timestamp) -> FetchResult:
        if table not in TABLES:
            raise KeyError(f"unknown table {table!r}; expected one of {sorted(TABLES)}")
        start, end = pd.Timestamp(start), pd.Timestamp(end)
        before_client = self.client.stats.snapshot()
        before_cache = self.cache.stats.as_dict()
        symbols = list(dict.fromkeys(symbols))
        builder = {
            "insider_trades": self._insider_trades,
            "institutional_holdings": self._institutional_holdings,
            "congress_trades": self._congress_trades,
            "etf_holdings": self._etf_holdings,
            "prices": self._prices,
        }[table]
        parsed, gaps, units = builder(symbols, start, end)
        spec = TABLES[table]
        frame = parsed.frame if len(parsed.frame) else empty_frame(spec)
        if len(frame):
            column = frame[spec.partition_column]
            frame = frame[(column >= start) & (column < end)].reset_index(drop=True)
        stats = self._stats(before_client, before_cache, units, parsed)
        self.log.info(
            "FMP %s done: %d rows, %d gaps, %d HTTP calls (%d retries, %d rate-limited: 429 or a 'Limit Reach' "
            "body); cache %d hits / %d misses (hit rate %.0f%%, %d calls saved, %d corrupt entries fetched again)",
            table,
            len(frame),
            len(gaps),
            stats["http_calls"],
            stats["retries"],
            stats["rate_limited"],
            stats["cache_hits"],
            stats["cache_misses"],
            100 * stats["cache_hit_rate"],
            stats["cache_calls_saved"],
            stats["cache_corrupt"],
        )
        return FetchResult(table=table, frame=frame, gaps=gaps, stats=stats, rejected=_rejected_frame(parsed.rejected))

    def _stats(self, before_client: dict, before_cache: dict, units: int, parsed: fx.Parsed) -> dict[str, float]:
        after = self.client.stats.snapshot()
        delta = {k: after.get(k, 0) - before_client.get(k, 0) for k in set(after) | set(before_client)}
        cache_now = self.cache.stats.as_dict()
        hits = cache_now["cache_hits"] - before_cache["cache_hits"]
        misses = cache_now["cache_misses"] - before_cache["cache_misses"]
        stats: dict[str, float] = {
            "units": units,
            "http_calls": delta.get("http_requests", 0),
            "retries": delta.get("retries", 0),
            "retry_wait_s": round(delta.get("retry_wait_ms", 0) / 1000, 1),
            "rate_limited": delta.get("rate_limited", 0),
            "server_errors": delta.get("server_errors", 0),
            "timeouts": delta.get("timeouts", 0),
            "bad_bodies": delta.get("bad_bodies", 0) + delta.get("error_bodies", 0),
            "cache_hits": hits,
            "cache_misses": misses,
            "cache_hit_rate": round(hits / (hits + misses), 4) if hits + misses else 0.0,
            "cache_calls_saved": cache_now["cache_calls_saved"] - before_cache["cache_calls_saved"],
            "cache_corrupt": cache_now["cache_corrupt"] - before_cache["cache_corrupt"],
            "rows_rejected_by_parser": len(parsed.rejected),
        }
        stats.update({k: v for k, v in parsed.counts.items() if v})
        return stats

    def _finalized(self, end: pd.Timestamp) -> bool:
        return end <= pd.Timestamp(self.clock()) - pd.Timedelta(days=FINALIZED_AFTER_DAYS)

    def _collect(
        self, label: str, units: list[Unit], transform: Callable[[UnitResult], fx.Parsed], table: str
    ) -> tuple[fx.Parsed, list[Gap], int]:
        """Run the units and normalize their rows, once per symbol and endpoint (the quarters of
        a symbol's 13F listing are transformed together: per-unit pandas work adds up)."""
        merged: dict[tuple[str, str], UnitResult] = {}
        gaps = []
        for result in self.run_units(label, units):
            if result.rows is None:
                gaps.append(Gap(result.unit.symbol, table, result.gap or "not available"))
                continue
            key = (result.unit.symbol, result.unit.family.data_type)
            if key in merged:
                merged[key].rows.extend(result.rows)  # type: ignore[union-attr]
            else:
                merged[key] = UnitResult(result.unit, list(result.rows), result.fetched_at)
        frames, rejected, counts = [], [], Counter()
        for result in merged.values():
            parsed = transform(result)
            if len(parsed.frame):
                frames.append(parsed.frame)
            rejected.extend({**r, "symbol": result.unit.symbol} for r in parsed.rejected)
            counts.update(parsed.counts)
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        return fx.Parsed(frame, rejected, counts), gaps, len(units)

    # -- tables ----------------------------------------------------------------------------------
    def _listing_unit(
        self, family: fx.Family, symbol: str, start: pd.Timestamp, end: pd.Timestamp, date_keys: tuple[str, ...]
    ) -> Unit:
        first, last = start.date(), (end - pd.Timedelta(seconds=1)).date()

        def run() -> tuple[list[Any], int]:
            rows, calls = fx.all_pages(
                self.client, family, {"symbol": symbol}, symbol, stop_before=first, date_keys=date_keys
            )
            in_window = [r for r in rows if (d := fx.newest_date([r], date_keys)) is None or first <= d <= last]
            return in_window, calls

        return Unit(symbol, family, first, end.date(), run, finalized=self._finalized(end))

    def _insider_trades(self, symbols: Sequence[str], start: pd.Timestamp, end: pd.Timestamp):
        units = [self._listing_unit(fx.INSIDER, s, start, end, ("filingDate",)) for s in symbols]
        return self._collect(
            "insider_trades", units, lambda r: fx.insider_trades(r.rows, r.unit.symbol), "insider_trades"
        )

    def _congress_trades(self, symbols: Sequence[str], start: pd.Timestamp, end: pd.Timestamp):
        keys = ("disclosureDate", "dateRecieved", "dateReceived")
        units = [self._listing_unit(f, s, start, end, keys) for s in symbols for f in (fx.SENATE, fx.HOUSE)]
        chamber = {fx.SENATE.data_type: "senate", fx.HOUSE.data_type: "house"}
        return self._collect(
            "congress_trades",
            units,
            lambda r: fx.congress_trades(r.rows, chamber[r.unit.family.data_type], r.unit.symbol),
            "congress_trades",
        )

    def _institutional_holdings(self, symbols: Sequence[str], start: pd.Timestamp, end: pd.Timestamp):
        quarters = pd.period_range(
            start - pd.Timedelta(days=THIRTEEN_F_REACH_DAYS), end - pd.Timedelta(days=1), freq="Q"
        )
        quarters = [q for q in quarters if q.end_time.normalize() >= start - pd.Timedelta(days=THIRTEEN_F_REACH_DAYS)]
        now = pd.Timestamp(self.clock())
        quarters = [q for q in quarters if q.end_time < now]  # nothing is filed for a quarter still running

        def unit(symbol: str, quarter: pd.Period) -> Unit:
            def run() -> tuple[list[Any], int]:
                return fx.all_pages(
                    self.client,
                    fx.HOLDERS,
                    {"symbol": symbol, "year": quarter.year, "quarter": quarter.quarter},
                    symbol,
                )

            final = quarter.end_time + pd.Timedelta(days=THIRTEEN_F_FINAL_DAYS) < now
            return Unit(
                symbol,
                fx.HOLDERS,
                quarter.start_time.date(),
                (quarter.end_time + pd.Timedelta(days=1)).date(),
                run,
                finalized=final,
            )

        units = [unit(s, q) for s in symbols for q in quarters]
        return self._collect(
            "institutional_holdings",
            units,
            lambda r: fx.holder_positions(r.rows, r.unit.symbol),
            "institutional_holdings",
        )

    def _etf_holdings(self, symbols: Sequence[str], start: pd.Timestamp, end: pd.Timestamp):
        """FMP keeps only the latest ETF snapshot: a window gets the snapshots fetched on its
        days (today's is fetched when the window contains today; earlier days' come from the
        cache when a run fetched them then). A window in the past has nothing: a gap."""
        now = pd.Timestamp(self.clock())
        today = now.normalize()
        first, last = start.strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d")
        stored: list[tuple[str, datetime, list[Any]]] = []
        for symbol in symbols:
            for entry in self.cache.find(
                symbol, fx.ETF_EXPOSURE.data_type, lambda s, e: first <= s < last and s != f"{today:%Y-%m-%d}"
            ):
                stored.append((symbol, entry.fetched_at, entry.rows))
        units = []
        if start <= now < end:
            for symbol in symbols:
                units.append(
                    Unit(
                        symbol,
                        fx.ETF_EXPOSURE,
                        today.date(),
                        (today + pd.Timedelta(days=1)).date(),
                        lambda s=symbol: (fx.request(self.client, fx.ETF_EXPOSURE, {"symbol": s}, s)[0], 1),
                        finalized=True,
                    )
                )
        parsed, gaps, count = self._collect(
            "etf_holdings", units, lambda r: fx.etf_exposure(r.rows, r.unit.symbol, r.fetched_at), "etf_holdings"
        )
        extra = [fx.etf_exposure(rows, symbol, fetched_at) for symbol, fetched_at, rows in stored]
        frames = [p.frame for p in [parsed, *extra] if len(p.frame)]
        parsed.frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        if not units and not stored:
            gaps.append(
                Gap(
                    "*",
                    "etf_holdings",
                    "FMP serves only the latest ETF holdings snapshot, usable from the day it is fetched; "
                    f"no snapshot was fetched in [{first}, {last})",
                )
            )
        return parsed, gaps, count

    def _prices(self, symbols: Sequence[str], start: pd.Timestamp, end: pd.Timestamp):
        first, stop = start.date(), end.date()

        def unit(symbol: str, family: fx.Family) -> Unit:
            return Unit(symbol, family, first, stop, lambda: fx.price_rows(self.client, family, symbol, first, stop))

        units = [unit(s, f) for s in symbols for f in (fx.PRICES_FULL, fx.PRICES_ADJUSTED)]
        results = self.run_units("prices", units)
        by_symbol: dict[str, dict[str, list[Any] | None]] = {}
        gaps = []
        for result in results:
            by_symbol.setdefault(result.unit.symbol, {})[result.unit.family.data_type] = result.rows
            if result.rows is None:
                gaps.append(Gap(result.unit.symbol, "prices", result.gap or "not available"))
        frames, rejected = [], []
        for symbol, rows in by_symbol.items():
            full, adjusted = rows.get(fx.PRICES_FULL.data_type), rows.get(fx.PRICES_ADJUSTED.data_type)
            if full is None:
                continue
            parsed = fx.prices(full, adjusted or [], symbol)
            frames.append(parsed.frame)
            rejected.extend({**r, "symbol": symbol} for r in parsed.rejected)
        frame = (
            pd.concat([f for f in frames if len(f)], ignore_index=True)
            if any(len(f) for f in frames)
            else pd.DataFrame()
        )
        return fx.Parsed(frame, rejected), gaps, len(units)

    # -- snapshots outside the raw tables ---------------------------------------------------------
    def positions_summary(self, symbols: Sequence[str], quarter: pd.Period) -> FetchResult:
        """13F aggregates per symbol for one quarter (holders, shares, ownership %, new and closed
        positions; Ultimate plan): context for universe-level views, not a raw table. Usable no
        earlier than `available_from` (quarter end + 45 days), and FMP recomputes them as late
        filers arrive, so only finalized quarters are cached long."""
        now = pd.Timestamp(self.clock())
        final = quarter.end_time + pd.Timedelta(days=THIRTEEN_F_FINAL_DAYS) < now
        params = {"year": quarter.year, "quarter": quarter.quarter}
        units = [
            Unit(
                s,
                fx.POSITIONS_SUMMARY,
                quarter.start_time.date(),
                (quarter.end_time + pd.Timedelta(days=1)).date(),
                lambda s=s: (fx.request(self.client, fx.POSITIONS_SUMMARY, {"symbol": s, **params}, s)[0], 1),
                finalized=final,
            )
            for s in dict.fromkeys(symbols)
        ]
        parsed, gaps, count = self._collect(
            "13f_summary", units, lambda r: fx.positions_summary(r.rows), "institutional_holdings"
        )
        return FetchResult("positions_summary", parsed.frame, gaps, {"units": count}, _rejected_frame(parsed.rejected))

    def etf_holdings(self, etf: str) -> FetchResult:
        """One ETF's holdings as FMP serves them today (its latest snapshot, `updated_at` in UTC;
        Ultimate plan), cached per fetch day like the exposure snapshots."""
        today = pd.Timestamp(self.clock()).normalize()
        unit = Unit(
            etf,
            fx.ETF_HOLDINGS,
            today.date(),
            (today + pd.Timedelta(days=1)).date(),
            lambda: (fx.request(self.client, fx.ETF_HOLDINGS, {"symbol": etf}, etf)[0], 1),
            finalized=True,
        )
        parsed, gaps, count = self._collect(
            "etf_holdings_snapshot", [unit], lambda r: fx.etf_holdings(r.rows), "etf_holdings"
        )
        return FetchResult(
            "etf_holdings_snapshot",
            parsed.frame,
            gaps,
            {"units": count, **parsed.counts},
            _rejected_frame(parsed.rejected),
        )

    # -- universe --------------------------------------------------------------------------------
    def _build_universe(self) -> pd.DataFrame:
        """S&P 500 membership intervals (current constituents walked back through FMP's change
        history, so removed members are there too), restricted to the configured selection
        (explicit tickers, or the first N members by ticker among those in the index at any time
        since `history_start`), plus the index ETFs; names, sectors and shares outstanding from
        the company profiles. `as_of` keeps only intervals that had started by then."""
        listing = [
            Unit(
                SP500_KEY, fx.CONSTITUENTS, LATEST, LATEST, lambda: (fx.request(self.client, fx.CONSTITUENTS, {})[0], 1)
            ),
            Unit(
                SP500_KEY,
                fx.CONSTITUENT_CHANGES,
                LATEST,
                LATEST,
                lambda: (fx.request(self.client, fx.CONSTITUENT_CHANGES, {})[0], 1),
            ),
        ]
        current_rows, change_rows = (r.rows or [] for r in self.run_units("universe", listing))
        members, _ = fx.constituents(current_rows)
        changes, _ = fx.constituent_changes(change_rows)
        intervals = membership_intervals(members, changes)
        recent = intervals[intervals["member_to"].isna() | (intervals["member_to"] >= self.history_start)]
        if isinstance(self.selection, int):
            chosen = sorted(recent["symbol"].unique())[: self.selection]
        else:
            chosen = list(self.selection)
        stocks = intervals[intervals["symbol"].isin(chosen)].copy()
        missing = [s for s in chosen if s not in set(stocks["symbol"])]  # asked for, never in the index
        if missing:
            stocks = pd.concat(
                [stocks, pd.DataFrame({"symbol": missing, "member_from": self.history_start, "member_to": pd.NaT})],
                ignore_index=True,
            )
        etfs = pd.DataFrame(
            {
                "symbol": list(self.index_etfs),
                "member_from": self.history_start,
                "member_to": pd.NaT,
                "asset_type": "etf",
            }
        )
        stocks["asset_type"] = "stock"
        frame = pd.concat([stocks, etfs], ignore_index=True)
        profiles = self.run_units(
            "profiles",
            [
                Unit(
                    s,
                    fx.PROFILE,
                    LATEST,
                    LATEST,
                    lambda s=s: (fx.request(self.client, fx.PROFILE, {"symbol": s}, s)[0], 1),
                )
                for s in frame["symbol"].unique()
            ],
        )
        info = {r.unit.symbol: fx.profile(r.rows or []) for r in profiles}
        by_symbol = {m.symbol: m for m in members}
        listed_name = frame["name"] if "name" in frame else pd.Series(None, index=frame.index)
        frame["name"] = [getattr(info.get(s), "company_name", None) or n for s, n in zip(frame["symbol"], listed_name)]
        frame["sector"] = [
            getattr(by_symbol.get(s), "sector", None) or getattr(info.get(s), "sector", None) for s in frame["symbol"]
        ]
        frame["cik"] = [
            getattr(by_symbol.get(s), "cik", None) or getattr(info.get(s), "cik", None) for s in frame["symbol"]
        ]
        frame["shares_outstanding"] = [
            p.shares_outstanding if (p := info.get(s)) and a == "stock" else None
            for s, a in zip(frame["symbol"], frame["asset_type"])
        ]
        frame = frame.sort_values(
            ["asset_type", "symbol", "member_from"], ascending=[False, True, True], ignore_index=True
        )
        return frame[UNIVERSE.columns]


def membership_intervals(members: Sequence[Any], changes: Sequence[Any]) -> pd.DataFrame:
    """[member_from, member_to] per symbol and stint, walking the change history backwards from
    today's constituents: an addition opens the stint on its date, a removal means the symbol was
    a member until the day before. Stints whose start precedes the recorded history begin at the
    constituent's `dateFirstAdded` or, without one, at the index's inception (no recorded
    addition means a member for as long as the record tells)."""
    first_added = {m.symbol: m.date_first_added for m in members}
    names = {m.symbol: m.name for m in members}
    open_stints: dict[str, dict[str, Any]] = {
        m.symbol: {"symbol": m.symbol, "member_to": None, "name": m.name} for m in members
    }
    closed: list[dict[str, Any]] = []
    ordered = sorted((c for c in changes if c.date is not None), key=lambda c: c.date, reverse=True)
    for change in ordered:
        added, removed = change.added, change.removed
        if added and added in open_stints:
            stint = open_stints.pop(added)
            stint["member_from"] = change.date
            closed.append(stint)
        if removed:
            if removed in open_stints:  # removed twice with no addition between: keep the later stint
                continue
            open_stints[removed] = {
                "symbol": removed,
                "member_to": change.date - timedelta(days=1),
                "name": change.removed_security or names.get(removed),
            }
    inception = date(1957, 3, 4)  # the S&P 500's first day
    for symbol, stint in open_stints.items():
        stint["member_from"] = (
            first_added.get(symbol) if stint["member_to"] is None and first_added.get(symbol) else inception
        )
        closed.append(stint)
    frame = pd.DataFrame(closed, columns=["symbol", "name", "member_from", "member_to"])
    frame["member_from"] = pd.to_datetime(frame["member_from"])
    frame["member_to"] = pd.to_datetime(frame["member_to"])
    return frame.sort_values(["symbol", "member_from"], ignore_index=True)


def _rejected_frame(rejected: list[dict]) -> pd.DataFrame:
    """Rows pydantic could not read, as strings, with the reason (quarantined by the caller)."""
    if not rejected:
        return pd.DataFrame(columns=["symbol", "raw", "quarantine_reason"])
    return pd.DataFrame(
        {
            "symbol": [r.get("symbol") for r in rejected],
            "raw": [json.dumps(r.get("raw"), default=str)[:2000] for r in rejected],
            "quarantine_reason": [r["reason"] for r in rejected],
        }
    )
