"""`smart_money_events` in ClickHouse: embedded chDB by default, a ClickHouse server when
SMART_MONEY_CLICKHOUSE_URL is set. Both go through clickhouse-connect's client (chDB registers
itself as its `chdb://` backend), so the DDL, inserts and queries are one code path.

Idempotence: an insert skips event IDs already stored for the same scoring version, and the
table is a ReplacingMergeTree keyed by (underlying_id, source_ts, event_id, scoring_version), so
concurrent re-inserts collapse on merge; queries read FINAL.

chDB runs one engine per process: open one EventStore at a time and close it (it is a context
manager). One embedded engine per folder across processes, too: a process that finds the folder
taken waits, and says so by touching `<folder>.waiting` (`TURN_REQUEST`) while it waits; a
long-lived holder (the server's event reader) watches that file and closes its store to let the
waiting writer in (`turn_requested`).
"""

from __future__ import annotations

import contextlib
import time
from datetime import datetime
from pathlib import Path

import clickhouse_connect
import pandas as pd

TABLE = "smart_money_events"

DDL = f"""
CREATE TABLE IF NOT EXISTS {TABLE}
(
    source_ts DateTime64(6, 'UTC'),
    ingest_ts DateTime64(6, 'UTC'),
    seq UInt64,
    trace_id String,
    event_id String,
    packet_ids Array(String),
    member_print_ids Array(String),
    underlying_id LowCardinality(String),
    event_kind LowCardinality(String),
    event_window_ms Float64,
    features_json String,
    profile_scores_json String,
    primary_profile_id LowCardinality(String),
    primary_probability Float64,
    primary_direction LowCardinality(String),
    abstained Bool,
    suppressed_reasons_json String,
    dte_days Float64,
    total_premium Float64,
    scoring_version LowCardinality(String),
    calibration_version LowCardinality(String),
    run_mode LowCardinality(String)
)
ENGINE = ReplacingMergeTree(ingest_ts)
PARTITION BY toYYYYMM(source_ts)
ORDER BY (underlying_id, source_ts, event_id, scoring_version)
"""
COLUMNS = (
    "source_ts", "ingest_ts", "seq", "trace_id", "event_id", "packet_ids", "member_print_ids", "underlying_id",
    "event_kind", "event_window_ms", "features_json", "profile_scores_json", "primary_profile_id",
    "primary_probability", "primary_direction", "abstained", "suppressed_reasons_json", "dte_days",
    "total_premium", "scoring_version", "calibration_version", "run_mode",
)  # fmt: skip


def describe_url(url: str) -> str:
    """The URL without credentials (for logs and metadata)."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


LOCK_WAIT_S = 10.0  # how long to wait for another process's embedded engine to close
TURN_REQUEST = ".waiting"  # suffix of the file a process waiting for the folder touches
TURN_FRESH_S = 1.0  # a request not touched for this long is stale (its process went away)


def turn_request_path(url: str) -> Path | None:
    """The file a process waiting for an embedded store's folder touches (None for a server)."""
    if not url.startswith("chdb://"):
        return None
    folder = Path(url.removeprefix("chdb://"))
    return folder.with_name(folder.name + TURN_REQUEST)


def turn_requested(url: str) -> bool:
    """Whether another process is waiting for this embedded store now."""
    path = turn_request_path(url)
    if path is None:
        return False
    try:
        return time.time() - path.stat().st_mtime < TURN_FRESH_S
    except FileNotFoundError:
        return False


class EventStore:
    def __init__(self, url: str, lock_wait_s: float = LOCK_WAIT_S):
        self.url = url
        if url.startswith("chdb://"):
            Path(url.removeprefix("chdb://")).mkdir(parents=True, exist_ok=True)
        self.client = _connect(url, lock_wait_s)
        self.client.command(DDL)

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def insert(self, rows: pd.DataFrame) -> int:
        """Insert event rows (engine.storage_rows) whose (event_id, scoring_version) is not
        stored yet; returns how many were inserted."""
        if rows.empty:
            return 0
        # look only where these events can be: their time range and underlyings
        stored = self.client.query(
            f"SELECT event_id, scoring_version FROM {TABLE} "
            "WHERE source_ts >= {lo:DateTime64(6, 'UTC')} AND source_ts <= {hi:DateTime64(6, 'UTC')}",
            parameters={"lo": _utc(rows["source_ts"].min()), "hi": _utc(rows["source_ts"].max())},
        ).result_rows
        known = set(stored)
        fresh = rows[[(e, v) not in known for e, v in zip(rows["event_id"], rows["scoring_version"])]]
        if fresh.empty:
            return 0
        self.client.insert_df(TABLE, fresh[list(COLUMNS)].reset_index(drop=True))
        return len(fresh)

    def count(self) -> int:
        return int(self.client.query(f"SELECT count() FROM {TABLE} FINAL").result_rows[0][0])

    def history(
        self,
        underlying: str | None = None,
        profile: str | None = None,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        limit: int = 1000,
        offset: int = 0,
        include_abstained: bool = True,
    ) -> pd.DataFrame:
        """Stored events, newest first, filtered by underlying, primary profile and time
        (`offset` rows skipped, for paging; abstentions left out on request)."""
        where, params = self._filters(underlying, profile, start, end)
        if not include_abstained:
            where = (where + " AND" if where else "WHERE") + " NOT abstained"
        params["limit"], params["offset"] = limit, offset
        return self.client.query_df(
            f"SELECT * FROM {TABLE} FINAL {where} ORDER BY source_ts DESC, event_id "
            "LIMIT {limit:UInt32} OFFSET {offset:UInt64}",
            parameters=params,
        )

    def latest_ingest(self) -> datetime | None:
        """When the most recently stored event was written (None for an empty table)."""
        rows = self.client.query(f"SELECT count(), max(ingest_ts) FROM {TABLE}").result_rows
        return rows[0][1] if rows and rows[0][0] else None

    def ingested_after(self, since: datetime | str, limit: int = 1000) -> pd.DataFrame:
        """Events written after `since` (ingest time), oldest write first: what a live
        consumer has not seen yet."""
        return self.client.query_df(
            f"SELECT * FROM {TABLE} FINAL WHERE ingest_ts > {{since:DateTime64(6, 'UTC')}} "
            "ORDER BY ingest_ts, source_ts, seq, event_id LIMIT {limit:UInt32}",
            parameters={"since": _utc(since), "limit": limit},
        )

    def replay(
        self, start: datetime | str | None = None, end: datetime | str | None = None, underlying: str | None = None
    ) -> pd.DataFrame:
        """Stored events in event-time order (source_ts, then seq and event_id), as a live
        consumer would have seen them."""
        where, params = self._filters(underlying, None, start, end)
        return self.client.query_df(
            f"SELECT * FROM {TABLE} FINAL {where} ORDER BY source_ts, seq, event_id", parameters=params
        )

    @staticmethod
    def _filters(underlying, profile, start, end) -> tuple[str, dict]:
        clauses, params = [], {}
        if underlying:
            clauses.append("underlying_id = {underlying:String}")
            params["underlying"] = underlying
        if profile:
            clauses.append("primary_profile_id = {profile:String}")
            params["profile"] = profile
        if start is not None:
            clauses.append("source_ts >= {start:DateTime64(6, 'UTC')}")
            params["start"] = _utc(start)
        if end is not None:
            clauses.append("source_ts < {end:DateTime64(6, 'UTC')}")
            params["end"] = _utc(end)
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def _connect(url: str, lock_wait_s: float):
    """A client; for embedded chDB, waits (with backoff) while another process holds the
    folder's lock, so short-lived readers and writers can take turns."""
    deadline = time.monotonic() + lock_wait_s
    pause = 0.02
    request = turn_request_path(url)
    asked = False
    while True:
        try:
            client = clickhouse_connect.get_client(dsn=url)
        except Exception as exc:
            if not url.startswith("chdb://") or time.monotonic() >= deadline:
                raise
            if "Unable to open the chdb engine" not in str(exc):
                raise
            if request is not None:  # ask a long-lived holder for a turn (touched on every attempt)
                request.touch()
                asked = True
            time.sleep(pause)
            pause = min(pause * 2, 0.25)
            continue
        if asked and request is not None:
            with contextlib.suppress(FileNotFoundError):
                request.unlink()
        return client


def _utc(value: datetime | str) -> datetime:
    """A timestamp as an aware UTC datetime (naive values are read as UTC)."""
    stamp = pd.Timestamp(value)
    return (stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC")).to_pydatetime()
