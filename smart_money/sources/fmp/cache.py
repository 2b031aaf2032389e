"""The FMP disk cache: one JSON file per `{symbol}_{start}_{end}_{data_type}`.

An entry holds the raw FMP rows of one unit of work (a symbol's pages of one endpoint for one
window, a symbol-quarter of 13F holders, a day's ETF snapshot) as FMP sent them, so a change in
normalization never needs a refetch. It is checked before the calls and written right after
them, atomically (temporary file + rename): a killed run leaves either the old entry, the new
one, or an ignored `.tmp` file, never a half-written entry, and a rerun resumes with the units
that are still missing.

Integrity: an entry carries its key and a sha256 of its content (key, fetch time, calls, rows),
both verified on read. A file that is not valid JSON, whose key is not its file name, whose
checksum does not match (an edited or swapped file: valid JSON, wrong rows) or that has no
checksum (written before they existed) is a miss: it is set aside as `.<name>.corrupt` (for
inspection; `cache clear` removes it), counted (`cache_corrupt`, reported with the fetch stats
and by `smart-money cache stats`) and fetched again.

TTL: entries expire after `ttl_days` (default 7). An entry fetched before its window closed
(say, prices reaching a few days past the run) was incomplete: it expires when the window closes,
if that comes first. Entries marked `finalized` (history whose window closed long enough ago that
FMP no longer adds rows to it, and snapshots of what FMP served on a given day) are kept
`finalized_ttl_days` (default 365).
"""

from __future__ import annotations

import hashlib
import json
import logging
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
FORMAT = 2  # entries with a key and a checksum
CORRUPT_SUFFIX = ".corrupt"
logger = logging.getLogger("smart_money.fmp")


class CorruptEntry(ValueError):
    """A cache file that cannot be trusted (the message says why)."""


def _stamp(value: date | str) -> str:
    return value if isinstance(value, str) else f"{value:%Y-%m-%d}"


def cache_key(symbol: str, start: date | str, end: date | str, data_type: str) -> str:
    """`{symbol}_{start}_{end}_{data_type}`; underscores are reserved as separators."""
    if "_" in symbol or "_" in data_type or "/" in symbol:
        raise ValueError(f"cache key parts may not contain '_' or '/': {symbol!r}, {data_type!r}")
    return f"{symbol}_{_stamp(start)}_{_stamp(end)}_{data_type}"


def key_parts(key: str) -> list[str] | None:
    """[symbol, start, end, data_type] of a well-formed key, else None."""
    parts = key.split("_")
    if len(parts) != 4 or not all(parts):
        return None
    for stamp in parts[1:3]:
        if stamp != LATEST:
            try:
                datetime.fromisoformat(stamp)
            except ValueError:
                return None
    return parts


def checksum(key: str, fetched_at: str, calls: int, finalized: bool, rows_json: str) -> str:
    """sha256 of an entry's content (`rows_json`: the rows as `json.dumps` writes them compactly)."""
    text = "\n".join([key, fetched_at, str(calls), str(bool(finalized)), rows_json])
    return hashlib.sha256(text.encode()).hexdigest()


def _rows_json(rows: list[Any]) -> str:
    return json.dumps(rows, separators=(",", ":"))


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
    corrupt: int = 0  # entries set aside (unreadable, wrong key or checksum) and fetched again
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
            "cache_corrupt": self.corrupt,
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
            entry = self.load(path)
        except FileNotFoundError:
            return None
        except CorruptEntry as problem:
            with self.stats._lock:
                self.stats.corrupt += 1
            logger.warning("FMP cache: %s; set aside and fetched again", problem)
            self._set_aside(path)
            return None
        if self.clock() >= self.expires_at(entry):
            with self.stats._lock:
                self.stats.expired += 1
            return None
        return entry

    @staticmethod
    def load(path: Path) -> CacheEntry:
        """The entry stored in `path`, verified (its key is the file name, its checksum matches);
        CorruptEntry saying what is wrong otherwise."""
        try:
            payload = json.loads(path.read_text())
            key, stamp, calls, rows = payload["key"], payload["fetched_at"], int(payload["calls"]), payload["rows"]
            finalized = bool(payload.get("finalized", False))
            fetched_at = datetime.fromisoformat(stamp)
        except FileNotFoundError:
            raise
        except (ValueError, KeyError, TypeError, OSError) as exc:
            raise CorruptEntry(f"{path.name}: not a readable cache entry ({type(exc).__name__}: {exc})") from exc
        if key != path.stem:
            raise CorruptEntry(f"{path.name}: holds the entry of another key ({key!r})")
        if key_parts(key) is None:
            raise CorruptEntry(f"{path.name}: the name is not a cache key (symbol_start_end_type)")
        stored = payload.get("sha256")
        if stored is None:
            raise CorruptEntry(f"{path.name}: no checksum (written by an older version)")
        if stored != checksum(key, stamp, calls, finalized, _rows_json(rows)):
            raise CorruptEntry(f"{path.name}: checksum mismatch (the content was changed after it was written)")
        return CacheEntry(key=key, rows=rows, fetched_at=fetched_at, calls=calls, finalized=finalized)

    def _set_aside(self, path: Path) -> None:
        try:
            os.replace(path, path.with_name(f".{path.name}{CORRUPT_SUFFIX}"))
        except OSError:
            path.unlink(missing_ok=True)

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
        stamp, rows_json = entry.fetched_at.isoformat(), _rows_json(rows)
        header = {
            "format": FORMAT,
            "key": key,
            "fetched_at": stamp,
            "calls": calls,
            "finalized": finalized,
            "sha256": checksum(key, stamp, calls, finalized, rows_json),
        }
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        with open(tmp, "w") as handle:
            json.dump({**header, "rows": rows}, handle, separators=(",", ":"))
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
            for path in [*self.root.glob(".*.tmp"), *self.root.glob(f".*{CORRUPT_SUFFIX}")]:
                path.unlink(missing_ok=True)
        return removed

    def summary(self) -> dict[str, Any]:
        """What is on disk: entries, bytes, fresh/expired/corrupt (each entry verified), calls they
        stand for, per data type, and files set aside or left over."""
        per_type: Counter = Counter()
        fresh = expired = corrupt = calls = size = 0
        symbols = set()
        now = self.clock()
        for path in self.entries():
            size += path.stat().st_size
            try:
                entry = self.load(path)
            except (CorruptEntry, OSError):
                corrupt += 1
                continue
            symbol, _, _, data_type = entry.key.split("_")
            per_type[data_type] += 1
            symbols.add(symbol)
            calls += entry.calls
            if now >= self.expires_at(entry):
                expired += 1
            else:
                fresh += 1
        exists = self.root.exists()
        return {
            "location": str(self.root),
            "entries": fresh + expired + corrupt,
            "fresh": fresh,
            "expired": expired,
            "corrupt": corrupt,
            "symbols": len(symbols),
            "bytes": size,
            "calls_stored": calls,
            "per_data_type": dict(sorted(per_type.items())),
            "ttl_days": self.ttl.total_seconds() / 86400,
            "finalized_ttl_days": self.finalized_ttl.total_seconds() / 86400,
            "set_aside_as_corrupt": len(list(self.root.glob(f".*{CORRUPT_SUFFIX}"))) if exists else 0,
            "temporary_files": len(list(self.root.glob(".*.tmp"))) if exists else 0,
        }
