"""Smart-money events for the API: read from `smart_money_events` (options/store.py), turned
back into SmartMoneyEvent records and their legacy ClassifierHit / AlertEvent views, and pushed
live to subscribers as new rows are stored.

Embedded chDB allows one engine per folder across processes, and the engine maps a few hundred
MB of code; so the server never opens it itself. Queries run in one long-lived reader process
that holds one store (`HeldStore`), opened on the first query and shared by /history, /flow,
/replay and the live feed: opening the engine per query cost ~0.25 s and leaked ~1.5 MB each
time (issue 19). The pipeline's writers (the options-flow assets, `options-score --store`) still
get their turn: a writer that finds the folder taken touches `<folder>.waiting` while it waits
(options/store.py), the reader's watcher thread sees it within 0.1 s and closes the store, and
the next query opens it again once the writer is done. The store is closed and the process
joined when the app shuts down (`EventReader.close`). A ClickHouse server URL goes through the
same reader (no turn-taking needed).
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import json
import logging
import multiprocessing
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from smart_money.options.engine.contracts import (
    AlertEvent,
    ClassifierHit,
    EventFeatures,
    EventMeta,
    ProfileScore,
    SmartMoneyEvent,
    alert_event,
    classifier_hits,
)
from smart_money.options.store import LOCK_WAIT_S, EventStore, turn_requested

log = logging.getLogger("smart_money.serve")

CLOSE_WAIT_S = 10.0
MAX_PAGE = 1000
MAX_REPLAY = 10_000
POLL_INTERVAL_S = 1.0
SUBSCRIBER_QUEUE = 1000
# Each poll also looks this far behind the newest write it has seen: a writer stamps its rows
# before inserting them, so a slower concurrent writer can land rows stamped a little earlier.
LATE_WRITE_S = 5.0


class EventsUnavailable(RuntimeError):
    """The event store could not be read; the message is safe to show."""


# -- rows -> records (run in the reader process) ---------------------------------------------------
def _stamp(value) -> datetime:
    stamp = pd.Timestamp(value)
    return (stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC")).to_pydatetime()


def event_from_row(row: dict) -> SmartMoneyEvent:
    """A stored `smart_money_events` row as the SmartMoneyEvent it was written from."""
    return SmartMoneyEvent(
        meta=EventMeta(
            source_ts=_stamp(row["source_ts"]),
            ingest_ts=_stamp(row["ingest_ts"]),
            seq=int(row["seq"]),
            trace_id=row["trace_id"],
        ),
        event_id=row["event_id"],
        packet_ids=list(row["packet_ids"]),
        member_print_ids=list(row["member_print_ids"]),
        underlying_id=row["underlying_id"],
        event_kind=row["event_kind"],
        event_window_ms=float(row["event_window_ms"]),
        features=EventFeatures(**json.loads(row["features_json"])),
        profile_scores=[ProfileScore(**s) for s in json.loads(row["profile_scores_json"])],
        primary_profile_id=row["primary_profile_id"] or None,
        primary_direction=row["primary_direction"],
        abstained=bool(row["abstained"]),
        suppressed_reasons=json.loads(row["suppressed_reasons_json"]),
        run_mode=row["run_mode"],
    )


def _records(frame: pd.DataFrame) -> list[SmartMoneyEvent]:
    return [event_from_row(row) for row in frame.to_dict("records")]


def _hit_rows(events: list[SmartMoneyEvent]) -> list[dict]:
    rows = []
    for event in events:
        for hit in classifier_hits(event):
            rows.append(
                {
                    "event_id": event.event_id,
                    "source_ts": event.meta.source_ts,
                    "underlying_id": event.underlying_id,
                    **hit.model_dump(),
                }
            )
    return rows


class ClassifierHitRow(ClassifierHit):
    """A legacy classifier hit with the event it came from."""

    event_id: str
    source_ts: datetime
    underlying_id: str


class HeldStore:
    """The reader process's one EventStore: opened on first use, kept open across queries, and
    closed while another process waits for the embedded folder (see the module docstring)."""

    WATCH_S = 0.1

    def __init__(self, url: str, lock_wait_s: float = LOCK_WAIT_S):
        self.url = url
        self.lock_wait_s = lock_wait_s
        self._store: EventStore | None = None
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self.opened = 0  # how many times the engine was opened (the soak test reads it)
        if url.startswith("chdb://"):
            threading.Thread(target=self._watch, name="event-store-watch", daemon=True).start()

    @contextmanager
    def store(self) -> Iterator[EventStore]:
        with self._lock:
            if self._store is None:
                deadline = time.monotonic() + self.lock_wait_s
                while turn_requested(self.url) and time.monotonic() < deadline:
                    time.sleep(0.05)  # a writer is about to take the folder: let it
                self._store = EventStore(self.url, self.lock_wait_s)
                self.opened += 1
            try:
                yield self._store
            except Exception:
                self._drop()  # a failed query may have left the client unusable: open anew next time
                raise

    def _drop(self) -> None:
        if self._store is not None:
            store, self._store = self._store, None
            try:
                store.close()
            except Exception:  # closing a broken client: nothing more to release
                log.debug("closing the event store failed", exc_info=True)

    def _watch(self) -> None:
        while not self._closed.wait(self.WATCH_S):
            if self._store is not None and turn_requested(self.url):
                with self._lock:
                    self._drop()

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            self._drop()


_HELD: dict[str, HeldStore] = {}


def held_store(url: str) -> HeldStore:
    """This process's held store for `url` (created on first use)."""
    if url not in _HELD:
        _HELD[url] = HeldStore(url)
    return _HELD[url]


def close_held_stores() -> int:
    """Close this process's held stores (the reader's last task); returns how many engine opens
    they made."""
    opened = sum(h.opened for h in _HELD.values())
    for held in _HELD.values():
        held.close()
    _HELD.clear()
    return opened


def reader_stats() -> dict:
    """The reader process's pid and how often it opened the engine."""
    import os

    return {"pid": os.getpid(), "opened": sum(h.opened for h in _HELD.values())}


def read_events(url: str, what: str, params: dict) -> object:
    """One query against this process's held store, as JSON-ready values."""
    with held_store(url).store() as store:
        if what == "latest_ingest":
            stamp = store.latest_ingest()
            return None if stamp is None else _stamp(stamp).isoformat()
        if what == "after":
            frame = store.ingested_after(params["since"], params.get("limit", MAX_PAGE))
            events = _records(frame)
            watermark = _stamp(frame["ingest_ts"].max()).isoformat() if len(frame) else params["since"]
            return {"events": [e.model_dump(mode="json") for e in events], "watermark": watermark}
        if what == "replay":
            frame = store.replay(params.get("start"), params.get("end"), params.get("underlying"))
            truncated = len(frame) > params["limit"]
            return {
                "events": [e.model_dump(mode="json") for e in _records(frame.head(params["limit"]))],
                "truncated": truncated,
            }
        emitted_only = what in ("hits", "alerts") or not params.get("include_abstained", True)
        frame = store.history(
            params.get("underlying"),
            params.get("profile"),
            params.get("start"),
            params.get("end"),
            params["limit"],
            params.get("offset", 0),
            include_abstained=not emitted_only,
        )
        if what == "history":
            return [e.model_dump(mode="json") for e in _records(frame)]
        events = _records(frame)
        if what == "hits":
            return [ClassifierHitRow(**row).model_dump(mode="json") for row in _hit_rows(events)]
        if what == "alerts":
            return [a.model_dump(mode="json") for a in (alert_event(e) for e in events) if a is not None]
    raise ValueError(f"unknown query {what!r}")


# -- the reader process -----------------------------------------------------------------------------
class EventReader:
    def __init__(self, url: str, timeout_s: float = 30.0):
        self.url = url
        self.timeout_s = timeout_s
        self._executor: cf.ProcessPoolExecutor | None = None

    def _pool(self) -> cf.ProcessPoolExecutor:
        if self._executor is None:
            self._executor = cf.ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        return self._executor

    def start(self) -> None:
        """Start the reader process now (its imports take a second or two)."""
        self._pool().submit(int, 0).result(timeout=self.timeout_s)

    async def query(self, what: str, **params) -> object:
        try:
            future = self._pool().submit(read_events, self.url, what, params)
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout_s)
        except cf.process.BrokenProcessPool as exc:
            self._executor = None
            log.error("event reader process died: %r", exc)
            raise EventsUnavailable("the event store reader stopped; retry") from exc
        except Exception as exc:
            log.exception("event store query %s failed", what)
            raise EventsUnavailable(
                f"the smart-money event store could not be read ({type(exc).__name__}); retry shortly"
            ) from exc

    def stats(self) -> dict:
        """The reader process's pid and engine opens (None before it started)."""
        if self._executor is None:
            return {"pid": None, "opened": 0}
        return self._executor.submit(reader_stats).result(timeout=self.timeout_s)

    def close(self) -> None:
        """Close the held store in the reader process, then wait for the process to exit."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        try:
            executor.submit(close_held_stores).result(timeout=CLOSE_WAIT_S)
        except Exception:  # a stuck or dead reader: stop its process (the executor has no public way)
            log.warning("the event reader did not close its store cleanly; terminating it", exc_info=True)
            for process in list((getattr(executor, "_processes", None) or {}).values()):
                process.terminate()
        executor.shutdown(wait=True, cancel_futures=True)


# -- live push ---------------------------------------------------------------------------------------
@dataclass(eq=False)
class Subscriber:
    underlying: str | None = None
    profile: str | None = None
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(maxsize=SUBSCRIBER_QUEUE))
    overflowed: bool = False

    def wants(self, event: dict) -> bool:
        return (self.underlying is None or event["underlying_id"] == self.underlying) and (
            self.profile is None or event["primary_profile_id"] == self.profile
        )


class LiveFeed:
    """Polls the store for events written since the first subscriber arrived and hands each
    new one to every subscriber (only while someone listens)."""

    def __init__(self, reader: EventReader, poll_interval_s: float = POLL_INTERVAL_S):
        self.reader = reader
        self.poll_interval_s = poll_interval_s
        self.subscribers: set[Subscriber] = set()
        self.watermark: str | None = None
        self._task: asyncio.Task | None = None
        self.pushed = 0

    async def subscribe(self, underlying: str | None = None, profile: str | None = None) -> Subscriber:
        if self._task is None or self._task.done():
            latest = await self.reader.query("latest_ingest")
            self.watermark = latest if isinstance(latest, str) else "1970-01-01T00:00:00+00:00"
            self._task = asyncio.create_task(self._run())
        subscriber = Subscriber(underlying, profile)
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    async def _run(self) -> None:
        floor = pd.Timestamp(self.watermark)  # written before the first subscriber: not live news
        newest = floor
        seen: dict[str, pd.Timestamp] = {}  # event_id -> ingest time, within the look-behind window
        while self.subscribers:
            await asyncio.sleep(self.poll_interval_s)
            since = max(floor, newest - pd.Timedelta(seconds=LATE_WRITE_S))
            try:
                batch = await self.reader.query("after", since=since.isoformat(), limit=MAX_PAGE)
            except EventsUnavailable:
                continue
            assert isinstance(batch, dict)
            fresh = [e for e in batch["events"] if e["event_id"] not in seen]
            newest = max(newest, pd.Timestamp(batch["watermark"]))
            self.watermark = newest.isoformat()
            seen = {k: v for k, v in seen.items() if v > since}
            seen.update((e["event_id"], pd.Timestamp(e["meta"]["ingest_ts"])) for e in fresh)
            for event in fresh:
                for subscriber in list(self.subscribers):
                    if not subscriber.wants(event):
                        continue
                    try:
                        subscriber.queue.put_nowait(event)
                        self.pushed += 1
                    except asyncio.QueueFull:
                        subscriber.overflowed = True

    async def close(self) -> None:
        self.subscribers.clear()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass


__all__ = [
    "AlertEvent",
    "ClassifierHitRow",
    "EventReader",
    "EventsUnavailable",
    "LiveFeed",
    "SmartMoneyEvent",
    "event_from_row",
    "read_events",
]
