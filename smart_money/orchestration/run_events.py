"""Following a run while it executes: a thread reads the run's event log from the instance (any
executor writes there) and tells an observer the run id, the step count, each step's start and
end, and the warnings the steps log; what `smart-money run` shows as progress."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import dagster as dg

LAUNCH_TAG = "smart_money/launch"  # a tag only this launch's run carries: how the thread finds it
POLL_SECONDS = 0.5


class RunObserver(Protocol):
    def run_started(self, run_id: str, steps: int | None) -> None: ...

    def step_started(self, step: str) -> None: ...

    def step_finished(self, step: str, seconds: float | None, outcome: str) -> None:
        """`outcome`: 'done', 'failed' or 'skipped' (an upstream step failed)."""

    def warning(self, step: str | None, message: str) -> None: ...


def launch_tag() -> dict[str, str]:
    """The tag that marks one launch (give it to the run, then `follow` it)."""
    return {LAUNCH_TAG: uuid.uuid4().hex}


@contextmanager
def follow(instance: dg.DagsterInstance, tags: dict[str, str], observer: RunObserver) -> Iterator[None]:
    """While the block runs (it launches the run tagged `tags`), tell `observer` what the run does;
    after it, the events not seen yet."""
    stop = threading.Event()
    reader = _Reader(instance, tags[LAUNCH_TAG], observer)
    thread = threading.Thread(target=reader.loop, args=(stop,), name="smart-money-run-events", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


class _Reader:
    def __init__(self, instance: dg.DagsterInstance, launch: str, observer: RunObserver):
        self.instance = instance
        self.launch = launch
        self.observer = observer
        self.run_id: str | None = None
        self.cursor: str | None = None

    def loop(self, stop: threading.Event) -> None:
        while True:
            stopping = stop.is_set()  # read once more after the launch returns: the last events
            try:
                self.poll()
            except Exception as error:  # progress must never fail the run it reports on
                self.observer.warning(None, f"progress stopped: {type(error).__name__}: {error}")
                return
            if stopping:
                return
            stop.wait(POLL_SECONDS)

    def poll(self) -> None:
        if self.run_id is None:
            records = self.instance.get_run_records(dg.RunsFilter(tags={LAUNCH_TAG: self.launch}), limit=1)
            if not records:
                return
            run = records[0].dagster_run
            self.run_id = run.run_id
            self.observer.run_started(run.run_id, self._steps(run))
        while True:
            connection = self.instance.get_records_for_run(self.run_id, cursor=self.cursor, limit=500)
            for record in connection.records:
                self._tell(record.event_log_entry)
            self.cursor = connection.cursor
            if not connection.has_more:
                return

    def _steps(self, run: dg.DagsterRun) -> int | None:
        snapshot_id = run.execution_plan_snapshot_id
        if snapshot_id is None:
            return None
        return len(self.instance.get_execution_plan_snapshot(snapshot_id).steps)

    def _tell(self, entry: dg.EventLogEntry) -> None:
        event = entry.dagster_event
        if event is None:  # a log line; the engine logs each step it skips after a failure as an ERROR
            if logging.WARNING <= entry.level < logging.ERROR:
                self.observer.warning(entry.step_key, entry.user_message)
            return
        if event.event_type == dg.DagsterEventType.STEP_START:
            self.observer.step_started(event.step_key or "")
        elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            self.observer.step_finished(event.step_key or "", event.event_specific_data.duration_ms / 1000, "done")
        elif event.event_type == dg.DagsterEventType.STEP_FAILURE:
            self.observer.step_finished(event.step_key or "", None, "failed")
        elif event.event_type == dg.DagsterEventType.STEP_SKIPPED:
            self.observer.step_finished(event.step_key or "", None, "skipped")
