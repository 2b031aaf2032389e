"""One run at a time on a home, and what a killed run leaves behind.

`smart-money run` holds an exclusive lock on `<DAGSTER_HOME>/run.lock` (a kernel `flock` through
`filelock`: the kernel releases it when the process dies, even by SIGKILL) and records who holds
it in `run.lock.json` beside it, so a second run on the same home waits with a message naming
the holder or, with a timeout, stops in one line saying the home is busy.

Holding the lock, a run first recovers the home (`recover_home`): Dagster runs of this instance
still marked STARTING/STARTED whose processes are gone (SIGKILL leaves them so) are marked
failed and their `smart_money_source` pool slots freed (otherwise every later run waits for a
slot forever), slots still claimed by finished runs are freed, and run-scoped copies of
unpartitioned assets (io_manager.RUNS_FOLDER) of runs no longer in progress are removed.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import psutil
from filelock import FileLock, Timeout

from smart_money.data import storage
from smart_money.orchestration.io_manager import RUNS_FOLDER
from smart_money.orchestration.names import SOURCE_POOL

LOCK_FILE = "run.lock"
OWNER_FILE = "run.lock.json"
PID_TAG = "smart_money/pid"
HOST_TAG = "smart_money/host"
IN_PROGRESS = (dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING)


class HomeBusy(RuntimeError):
    """Another run holds the home's lock (and did not let go within the timeout)."""


@dataclass(frozen=True)
class LockOwner:
    pid: int
    host: str
    since: str  # ISO time (UTC) the lock was taken
    command: str

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host} since {self.since} ({self.command})"


def run_tags() -> dict[str, str]:
    """Tags that let a later run tell whether this run's process is still alive."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def read_owner(home: Path) -> LockOwner | None:
    """Who holds (or last held) the lock, as it recorded itself; None when unknown."""
    try:
        return LockOwner(**json.loads((home / OWNER_FILE).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def busy_message(home: Path, owner: LockOwner | None, runs: list[str]) -> str:
    holder = owner.describe() if owner else "another process (run.lock.json does not say which)"
    in_progress = f", Dagster run {', '.join(runs)}" if runs else ""
    return f"the home {home} is busy: a run holds {home / LOCK_FILE}: {holder}{in_progress}"


@contextmanager
def home_lock(
    home: Path,
    timeout: float | None = None,
    on_wait: Callable[[str], None] | None = None,
    instance: dg.DagsterInstance | None = None,
    command: str = "smart-money run",
) -> Iterator[LockOwner]:
    """Hold the home's run lock for the block. When another process holds it, call `on_wait`
    with a line naming the holder (its pid, and its Dagster runs when `instance` is given) and
    wait: until it ends (`timeout` None) or `timeout` seconds (0: not at all), then raise
    HomeBusy with that line."""
    home.mkdir(parents=True, exist_ok=True)
    lock = FileLock(home / LOCK_FILE, thread_local=False)

    def busy() -> str:
        owner = read_owner(home)
        runs = runs_of(instance, owner.pid) if instance is not None and owner is not None else []
        return busy_message(home, owner, runs)

    try:
        lock.acquire(timeout=0)
    except Timeout:
        if timeout is not None and timeout <= 0:
            raise HomeBusy(busy()) from None
        if on_wait is not None:
            on_wait(busy())
        try:
            lock.acquire(timeout=-1 if timeout is None else timeout)
        except Timeout:
            raise HomeBusy(busy()) from None
    me = LockOwner(os.getpid(), socket.gethostname(), datetime.now(UTC).isoformat(timespec="seconds"), command)
    storage.write_text(home / OWNER_FILE, json.dumps(asdict(me)))
    try:
        yield me
    finally:
        (home / OWNER_FILE).unlink(missing_ok=True)
        lock.release()


def runs_of(instance: dg.DagsterInstance, pid: int) -> list[str]:
    """Ids of this instance's in-progress runs started by process `pid`."""
    records = instance.get_run_records(dg.RunsFilter(statuses=list(IN_PROGRESS), tags={PID_TAG: str(pid)}))
    return [record.dagster_run.run_id for record in records]


def _run_pids(instance: dg.DagsterInstance, run: dg.DagsterRun) -> set[int]:
    """The processes a run executes in: the tag `smart-money run` sets, and every pid Dagster's
    engine events recorded (the in-process executor's and each step subprocess's)."""
    pids = {int(run.tags[PID_TAG])} if PID_TAG in run.tags else set()
    records = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT).records
    for record in records:
        data = record.event_log_entry.dagster_event.event_specific_data
        pid = getattr(data, "metadata", {}).get("pid")
        if pid is not None and str(pid.value).isdigit():
            pids.add(int(pid.value))
    return pids


def _alive(pid: int, started_at: float | None) -> bool:
    """Whether `pid` is a live process that could be the run's (not a later process reusing the
    number: one created after the run started is not)."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return started_at is None or process.create_time() <= started_at + 1
    except psutil.Error:
        return False


def _local(instance: dg.DagsterInstance, run: dg.DagsterRun) -> bool:
    """Whether the run's processes would be on this machine: an embedded (SQLite) instance, or a
    run that says it started here."""
    if run.tags.get(HOST_TAG) == socket.gethostname():
        return True
    return type(instance.run_storage).__name__ == "SqliteRunStorage"


def fail_run(instance: dg.DagsterInstance, run_id: str) -> str:
    """Mark a run failed and free its pool slots, whatever its state (the operator knows it is
    dead); a line saying what was done."""
    run = instance.get_run_by_id(run_id)
    if run is None:
        raise ValueError(f"no run {run_id} in this instance (`dagster run list` shows them)")
    if run.status in IN_PROGRESS:
        instance.report_run_failed(run, "marked failed by hand (smart-money recover --failed-run)")
    instance.event_log_storage.free_concurrency_slots_for_run(run_id)
    return f"run {run_id}: marked failed, its pool slots freed"


@dataclass
class Recovery:
    dead_runs: list[str]
    freed_slot_runs: list[str]
    removed_run_folders: list[str]

    def lines(self) -> list[str]:
        out = [f"run {r} was killed: marked failed, its pool slots freed" for r in self.dead_runs]
        out += [f"run {r} had ended but still held a pool slot: freed" for r in self.freed_slot_runs]
        if self.removed_run_folders:
            out.append(f"removed the run-scoped asset copies of {len(self.removed_run_folders)} ended run(s)")
        return out


def recover_home(instance: dg.DagsterInstance, data_location: str) -> Recovery:
    """Clean up after runs that were killed; call it holding the home lock."""
    dead = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=list(IN_PROGRESS))):
        run = record.dagster_run
        pids = _run_pids(instance, run)
        started = record.start_time or (record.create_timestamp.timestamp() if record.create_timestamp else None)
        if not pids or not _local(instance, run) or any(_alive(pid, started) for pid in pids):
            continue
        instance.report_run_failed(run, f"the run's process (pid {', '.join(map(str, sorted(pids)))}) is gone")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        dead.append(run.run_id)
    freed = []
    info = instance.event_log_storage.get_concurrency_info(SOURCE_POOL)
    for run_id in sorted({slot.run_id for slot in info.claimed_slots} | {step.run_id for step in info.pending_steps}):
        run = instance.get_run_by_id(run_id)
        if run is None or run.status not in IN_PROGRESS:
            instance.event_log_storage.free_concurrency_slots_for_run(run_id)
            freed.append(run_id)
    removed = []
    folder = storage.as_path(storage.join(storage.assets_location(data_location), RUNS_FOLDER))
    if folder.exists():
        for child in sorted(folder.iterdir(), key=lambda p: p.name):
            run = instance.get_run_by_id(child.name)
            if run is None or run.status not in IN_PROGRESS:
                child.fs.rm(child.path, recursive=True)
                removed.append(child.name)
    return Recovery(dead, freed, removed)
