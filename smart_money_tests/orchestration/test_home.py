"""The home lock and the clean-up after killed runs, on a real SQLite instance (no CLI: the crash
tests drive that)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import dagster as dg
import pytest

from smart_money.orchestration.home import (
    OWNER_FILE,
    PID_TAG,
    HomeBusy,
    home_lock,
    read_owner,
    recover_home,
    run_tags,
)
from smart_money.orchestration.io_manager import RUNS_FOLDER
from smart_money.orchestration.names import SOURCE_POOL


@pytest.fixture
def instance(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        instance.event_log_storage.set_concurrency_slots(SOURCE_POOL, 1)  # as deploy/local/dagster.yaml
        yield instance


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@dg.op
def noop() -> None:
    pass


@dg.job
def a_job() -> None:
    noop()


def started_run(instance: dg.DagsterInstance, pid: int) -> str:
    """A run left STARTED holding a pool slot, as SIGKILL leaves one."""
    run = instance.create_run_for_job(a_job, tags={**run_tags(), PID_TAG: str(pid)})
    instance.handle_run_event(
        run.run_id, dg.DagsterEvent(dg.DagsterEventType.RUN_START.value, job_name=a_job.name, message="started")
    )
    instance.event_log_storage.claim_concurrency_slot(SOURCE_POOL, run.run_id, "raw_prices")
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
    return run.run_id


def test_a_run_whose_process_is_gone_is_failed_and_its_pool_slot_freed(instance, tmp_path):
    dead = started_run(instance, dead_pid())
    alive = started_run(instance, os.getpid())  # this process: a run still going on
    (tmp_path / "data" / "assets" / RUNS_FOLDER / dead).mkdir(parents=True)
    (tmp_path / "data" / "assets" / RUNS_FOLDER / alive).mkdir(parents=True)
    claimed = {slot.run_id for slot in instance.event_log_storage.get_concurrency_info(SOURCE_POOL).claimed_slots}
    assert claimed == {dead}  # the pool's one slot: the live run waits for it

    found = recover_home(instance, str(tmp_path / "data"))

    assert found.dead_runs == [dead]
    assert instance.get_run_by_id(dead).status == dg.DagsterRunStatus.FAILURE
    assert instance.get_run_by_id(alive).status == dg.DagsterRunStatus.STARTED
    claimed = {slot.run_id for slot in instance.event_log_storage.get_concurrency_info(SOURCE_POOL).claimed_slots}
    assert dead not in claimed
    assert found.removed_run_folders == [dead]
    assert (tmp_path / "data" / "assets" / RUNS_FOLDER / alive).is_dir()
    assert found.lines()[0] == f"run {dead} was killed: marked failed, its pool slots freed"


def test_a_pid_reused_by_a_later_process_does_not_keep_a_dead_run_alive(instance, tmp_path):
    run_id = started_run(instance, os.getpid())
    record = instance.get_run_record_by_id(run_id)
    # the run claims to have started before this process existed: its pid is a reused number
    instance.run_storage.handle_run_event(
        run_id,
        dg.DagsterEvent(dg.DagsterEventType.RUN_START.value, job_name=a_job.name, message="started"),
        update_timestamp=record.create_timestamp.replace(year=2001),
    )
    assert recover_home(instance, str(tmp_path / "data")).dead_runs == [run_id]


def test_a_second_holder_is_told_who_holds_the_home(tmp_path):
    with home_lock(tmp_path) as me:
        assert read_owner(tmp_path) == me and me.pid == os.getpid()
        with pytest.raises(HomeBusy) as busy:
            with home_lock(tmp_path, timeout=0):
                pass
        assert str(busy.value).startswith(f"the home {tmp_path} is busy: a run holds {tmp_path / 'run.lock'}: pid ")
        assert f"pid {os.getpid()} on " in str(busy.value)
        waited = []
        with pytest.raises(HomeBusy):
            with home_lock(tmp_path, timeout=0.3, on_wait=waited.append):
                pass
        assert len(waited) == 1 and "is busy" in waited[0]
    assert not (tmp_path / OWNER_FILE).exists()
    with home_lock(tmp_path, timeout=0):  # free again
        assert json.loads((tmp_path / OWNER_FILE).read_text())["pid"] == os.getpid()


def test_the_lock_dies_with_its_process(tmp_path):
    """A holder killed with SIGKILL leaves run.lock and run.lock.json behind; the lock is free."""
    script = (
        "import os, signal, sys; from pathlib import Path; from smart_money.orchestration.home import home_lock\n"
        "with home_lock(Path(sys.argv[1])): os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=False)
    assert (tmp_path / OWNER_FILE).exists()
    with home_lock(tmp_path, timeout=0) as me:
        assert read_owner(tmp_path) == me
