"""The FMP disk cache: one JSON file per `{symbol}_{start}_{end}_{data_type}`.

An entry holds the raw FMP rows of one unit of work (a symbol's pages of one endpoint for one
window, a symbol-quarter of 13F holders, a day's ETF snapshot) as FMP sent them, so a change in
normalization never needs a refetch. It is checked before the calls and written right after
them, atomically (temporary file + rename): a killed run leaves either the old entry, the new
one, or an ignored `.tmp` file, never a half-written entry, and a rerun resumes with the units
that are still missing.

TTL: entries expire after `ttl_days` (default 7). An entry fetched before its window closed
(say, prices reaching a few days past the run) was incomplete: it expires when the window closes,
if that comes first. Entries marked `finalized` (history whose window closed long enough ago that
FMP no longer adds rows to it, and snapshots of what FMP served on a given day) are kept
`finalized_ttl_days` (default 365).
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from smart_money.settings.fmp import DEFAULT_FINALIZED_TTL_DAYS, DEFAULT_TTL_DAYS

LATEST = "latest"  # the window of endpoints that only serve the current state


def _stamp(value: date | str) -> str:
    return value if isinstance(value, str) else f"{value:%Y-%m-%d}"


def cache_key(symbol: str, start: date | str, end: date | str, data_type: str) -> str:
    """`{symbol}_{start}_{end}_{data_type}`; underscores are reserved as separators."""
    if "_" in symbol or "_" in data_type or "/" in symbol:
        raise ValueError(f"cache key parts may not contain '_' or '/': {symbol!r}, {data_type!r}")
    return f"{symbol}_{_stamp(start)}_{_stamp(end)}_{data_type}"


@dataclass(frozen=True)
class CacheEntry:
    key: str
    rows: list[Any]
    fetched_at: datetime
    calls: int
    finalized: bool

    @property
    def symbol(self) -> str:
        return self.key.split("_")[0]


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    expired: int = 0
    corrupt: int = 0
    writes: int = 0
    calls_saved: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def as_dict(self) -> dict[str, float]:
        looked_up = self.hits + self.misses
        return {
            "cache_hits": self.hits,
            "cache_misses": self.misses,
            "cache_hit_rate": round(self.hits / looked_up, 4) if looked_up else 0.0,
            "cache_calls_saved": self.calls_saved,
            "cache_expired": self.expired,
            "cache_writes": self.writes,
        }


class DiskCache:
    def __init__(
        self,
        root: str | os.PathLike[str],
        ttl_days: float = DEFAULT_TTL_DAYS,
        finalized_ttl_days: float = DEFAULT_FINALIZED_TTL_DAYS,
        clock: Callable[[], datetime] = datetime.now,
    ):
        self.root = Path(root)
        self.ttl = timedelta(days=ttl_days)
        self.finalized_ttl = timedelta(days=finalized_ttl_days)
        self.clock = clock
        self.stats = CacheStats()

    def path(self, key: str) -> Path:
        return self.root / f"{key}.json"

    # -- lookups ---------------------------------------------------------------------------------
    def get(self, key: str) -> CacheEntry | None:
        """The fresh entry for `key`, or None (counted as a miss)."""
        entry = self._read(self.path(key))
        with self.stats._lock:
            if entry is None:
                self.stats.misses += 1
            else:
                self.stats.hits += 1
                self.stats.calls_saved += entry.calls
        return entry

    def find(self, symbol: str, data_type: str, accept: Callable[[str, str], bool]) -> list[CacheEntry]:
        """Fresh entries of `symbol` and `data_type` whose (start, end) `accept` takes; each is
        counted as a hit. Used for snapshot series (one entry per day)."""
        found = []
        for path in sorted(self.root.glob(f"{symbol}_*_{data_type}.json")):
            parts = path.stem.split("_")
            if len(parts) == 4 and accept(parts[1], parts[2]) and (entry := self._read(path)) is not None:
                found.append(entry)
        with self.stats._lock:
            self.stats.hits += len(found)
            self.stats.calls_saved += sum(e.calls for e in found)
        return found

    def _read(self, path: Path) -> CacheEntry | None:
        try:
            payload = json.loads(path.read_text())
            entry = CacheEntry(
                key=payload["key"],
                rows=payload["rows"],
                fetched_at=datetime.fromisoformat(payload["fetched_at"]),
                calls=int(payload.get("calls", 1)),
                finalized=bool(payload.get("finalized", False)),
            )
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError, OSError):
            with self.stats._lock:
                self.stats.corrupt += 1
            path.unlink(missing_ok=True)
            return None
        if self.clock() >= self.expires_at(entry):
            with self.stats._lock:
                self.stats.expired += 1
            return None
        return entry

    def expires_at(self, entry: CacheEntry) -> datetime:
        if entry.finalized:
            return entry.fetched_at + self.finalized_ttl
        expiry = entry.fetched_at + self.ttl
        window_end = entry.key.split("_")[2]
        if window_end != LATEST:
            closes = datetime.fromisoformat(window_end)
            if closes > entry.fetched_at:  # fetched while the window was still open
                expiry = min(expiry, closes)
        return expiry

    # -- writes ----------------------------------------------------------------------------------
    def put(
        self, key: str, rows: list[Any], calls: int, finalized: bool = False, fetched_at: datetime | None = None
    ) -> CacheEntry:
        entry = CacheEntry(key, rows, fetched_at or self.clock(), calls, finalized)
        payload = {
            "key": key,
            "fetched_at": entry.fetched_at.isoformat(),
            "calls": calls,
            "finalized": finalized,
            "rows": rows,
        }
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        with open(tmp, "w") as handle:
            json.dump(payload, handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        with self.stats._lock:
            self.stats.writes += 1
        return entry

    # -- management (the `smart-money cache` commands) --------------------------------------------
    def entries(self, symbol: str | None = None) -> list[Path]:
        pattern = f"{symbol}_*.json" if symbol else "*.json"
        return sorted(p for p in self.root.glob(pattern) if not p.name.startswith("."))

    def clear(self, symbol: str | None = None) -> int:
        """Delete the entries (of one symbol), and leftover temporary files; returns how many."""
        removed = 0
        for path in self.entries(symbol):
            path.unlink(missing_ok=True)
            removed += 1
        if symbol is None:
            for path in self.root.glob(".*.tmp"):
                path.unlink(missing_ok=True)
        return removed

    def summary(self) -> dict[str, Any]:
        """What is on disk: entries, bytes, fresh/expired, calls they stand for, per data type."""
        per_type: Counter = Counter()
        fresh = expired = calls = size = 0
        symbols = set()
        now = self.clock()
        for path in self.entries():
            parts = path.stem.split("_")
            per_type[parts[-1]] += 1
            symbols.add(parts[0])
            size += path.stat().st_size
            try:
                payload = json.loads(path.read_text())
                entry = CacheEntry(
                    payload["key"],
                    [],
                    datetime.fromisoformat(payload["fetched_at"]),
                    int(payload.get("calls", 1)),
                    bool(payload.get("finalized")),
                )
                calls += entry.calls
                if now >= self.expires_at(entry):
                    expired += 1
                else:
                    fresh += 1
            except (ValueError, KeyError, OSError):
                expired += 1
        return {
            "location": str(self.root),
            "entries": fresh + expired,
            "fresh": fresh,
            "expired": expired,
            "symbols": len(symbols),
            "bytes": size,
            "calls_stored": calls,
            "per_data_type": dict(sorted(per_type.items())),
            "ttl_days": self.ttl.total_seconds() / 86400,
            "finalized_ttl_days": self.finalized_ttl.total_seconds() / 86400,
            "temporary_files": len(list(self.root.glob(".*.tmp"))) if self.root.exists() else 0,
        }
