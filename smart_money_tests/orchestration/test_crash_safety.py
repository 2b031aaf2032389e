"""Crash and concurrency: the real `smart-money run` in a subprocess (its own process group),
SIGKILLed in ingestion, dataset, training, evaluation and registration one after another, then run again:
the model it registers is the clean run's (model files' sha256, dataset hash, metrics). Two runs
on one home: the second refuses in one line naming the first (or waits, saying so), the first
completes, nothing is corrupted.

The kill points are the SMART_MONEY_PAUSE_AT pause points (smart_money/data/pause_points.py):
the run stops there and says so on stderr, and the test kills its process group. A small
simulated market (15 symbols x 6 months, the fewest that split 70/15/15 by date) and the
cheapest evaluation keep each run to tens of seconds; a run's start-up (imports, the simulated
market) is most of it, so the module costs about eight runs (8.5 minutes measured on 2 cores at a
load average of 11, i.e. shared with other work)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
import yaml

from smart_money.model.flow_model import FlowModel
from smart_money.model.registry import Registry
from smart_money.orchestration.home import OWNER_FILE
from smart_money.orchestration.names import SOURCE_POOL

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("crash_safety")]  # one clean run for the module

RUN = ["run", "--start", "2023-01", "--end", "2023-06", "--symbols", "15", "--source", "simulated"]
CHEAPEST = {
    "evaluation_report": {"bootstrap": 10, "independent_worlds": 0},
    "event_study": {"bootstrap": 10, "placebo_count": 20},
}
KILL_POINTS = [  # (stage, pause point), in the order of a run
    ("ingestion", "after:raw_insider_trades"),
    ("dataset", "after:training_dataset"),
    ("training", "after:trained_model"),
    ("evaluation", "after:evaluation_report"),
    # the version folder in place, the index not yet updated: the one registration kill the next run
    # has to adopt (kills before the rename leave a temporary folder it removes; those, and a kill
    # while the index is written, are checked without the CLI in model/test_registry_crash_safety.py)
    ("registration", "registry:smart-money-flow:renamed"),
]
WAIT_S = 600  # generous: the machine may be shared


@dataclass
class Run:
    home: Path
    process: subprocess.Popen
    out: Path
    err: Path

    def text(self) -> str:
        return " ".join((self.out.read_text() + self.err.read_text()).split())  # the console wraps lines

    def wait_for(self, needle: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while needle not in self.text():
            assert self.process.poll() is None, (
                f"the run ended ({self.process.returncode}) before {needle!r}:\n{self.text()}"
            )
            assert time.monotonic() < deadline, f"no {needle!r} after {WAIT_S} s:\n{self.text()}"
            time.sleep(0.2)

    def finish(self) -> int:
        return self.process.wait(timeout=WAIT_S)

    def kill(self) -> None:
        """SIGKILL to the whole process group, as an operator's kill -9 of the run would."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=60)


def start(home: Path, *extra: str, pause_at: str | None = None, name: str = "run") -> Run:
    config = home / "cheapest.yaml"
    config.write_text(yaml.safe_dump(CHEAPEST))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMART_MONEY_") and k != "DAGSTER_HOME"}
    env |= {"SMART_MONEY_HOME": str(home), "SMART_MONEY_SEED": "3", "PYTHONWARNINGS": "ignore"}
    if pause_at:
        env |= {"SMART_MONEY_PAUSE_AT": pause_at, "SMART_MONEY_PAUSE_SECONDS": str(WAIT_S)}
    out, err = home / f"{name}.out", home / f"{name}.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "smart_money.cli", *RUN, "--config", str(config), *extra],
            env=env,
            stdout=stdout,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, killed whole
        )
    return Run(home, process, out, err)


def model_fingerprint(models: Path, version: str) -> dict:
    """What must be equal between a clean run and a re-run after a crash."""
    registry = Registry(models)
    registry.verify(version)
    entry = registry.entry(version)
    return {
        "model files": {name: digest for name, digest in entry["sha256"].items() if name in FlowModel.ARTIFACTS},
        "dataset_sha256": entry["lineage"]["dataset_sha256"],
        "metrics": entry["metrics"],
        "status": entry["status"],
    }


def instance_at(home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(home / ".dagster_home"))


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    """The reference: one run on a fresh home, started at once so it overlaps the other tests."""
    run = start(tmp_path_factory.mktemp("clean"), name="clean")
    yield run
    run.kill()


def test_a_second_run_on_a_busy_home_refuses_in_one_line_or_waits_saying_so(clean_run):
    owner = clean_run.home / ".dagster_home" / OWNER_FILE
    deadline = time.monotonic() + WAIT_S
    while not owner.exists():
        assert clean_run.process.poll() is None, clean_run.text()
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert json.loads(owner.read_text())["pid"] == clean_run.process.pid

    refused = start(clean_run.home, "--wait-for-home", "0", name="refused")
    assert refused.finish() == 1
    errors = [line for line in refused.err.read_text().splitlines() if line.startswith("error:")]
    assert len(errors) == 1, refused.text()
    assert (
        f"is busy: a run holds {clean_run.home / '.dagster_home' / 'run.lock'}: pid {clean_run.process.pid}"
        in errors[0]
    )
    assert "Traceback" not in refused.text()

    waiting = start(clean_run.home, name="waiting")
    try:
        waiting.wait_for(f"pid {clean_run.process.pid}")
        waiting.wait_for("waiting for it to end")
        assert clean_run.process.poll() in (None, 0)
    finally:
        waiting.kill()  # a waiter holds nothing: killing it leaves the home as it was


def test_the_first_run_completes_and_the_home_is_sound(clean_run):
    assert clean_run.finish() == 0, clean_run.text()
    registry = Registry(clean_run.home / "models")
    assert [v["version"] for v in registry.index()["versions"]] == ["1.0.0"]
    registry.verify("1.0.0")
    assert not list((clean_run.home / "data" / "assets" / "runs").iterdir())  # run copies removed at the end
    assert not (clean_run.home / ".dagster_home" / OWNER_FILE).exists()


def test_killed_at_every_stage_then_run_again_registers_the_clean_runs_model(clean_run, tmp_path):
    home = tmp_path / "crashed"
    home.mkdir()
    for stage, point in KILL_POINTS:
        run = start(home, pause_at=point, name=point.replace(":", "_"))
        try:
            run.wait_for(f"paused at {point}")
        finally:
            run.kill()
        index = Registry(home / "models").index()
        assert index["versions"] == [], f"killed during {stage}, yet the index lists {index['versions']}"
    assert (home / "models" / "smart-money-flow" / "v1.0.0").is_dir()  # the last kill: renamed, not indexed

    final = start(home, name="final")
    assert final.finish() == 0, final.text()
    text = final.text()
    assert "was killed: marked failed, its pool slots freed" in text
    assert "registry: adopted v1.0.0, registered by a run killed before it updated the index" in text

    instance = instance_at(home)
    in_progress = instance.get_run_records(
        dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED])
    )
    assert not in_progress
    assert not instance.event_log_storage.get_concurrency_info(SOURCE_POOL).claimed_slots
    failed = instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
    assert len(failed) == len(KILL_POINTS)

    assert clean_run.finish() == 0, clean_run.text()
    clean = model_fingerprint(clean_run.home / "models", "1.0.0")
    registry = Registry(home / "models")
    assert [v["version"] for v in registry.index()["versions"]] == ["1.0.0", "1.0.1"]
    adopted, rerun = model_fingerprint(home / "models", "1.0.0"), model_fingerprint(home / "models", "1.0.1")
    assert adopted == clean
    assert {k: v for k, v in rerun.items() if k != "status"} == {k: v for k, v in clean.items() if k != "status"}
    leftovers = [p.name for p in registry.root.iterdir() if p.name.startswith(".tmp-")]
    assert not leftovers
