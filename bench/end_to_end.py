"""`smart-money run` as a user runs it: SMART_MONEY_SYMBOLS=500, 2022-01..2024-12 (the plan's
window, issue 18), from process start to exit in a fresh SMART_MONEY_HOME and DAGSTER_HOME, the
simulated world's generation and the SQLite instance included.

Three runs, one after another on the same machine: the code at `--baseline REV` (a fresh home),
the current code in a fresh home (`cold`: nothing cached), and the current code again in that
same home (`warm`: the independent universes of the evaluation read from the cache the cold run
wrote). Per run: wall time, CPU time and peak resident memory of the whole process tree (the
evaluation's worker processes included; psutil, sampled every 0.5 s), and whether the registered
model is the same: dataset hash, model file, metrics, baselines, oracle and independent-universe
figures, gates.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from bench.baseline import ROOT, extract, revision_name

WINDOW = {"SMART_MONEY_SYMBOLS": "500", "SMART_MONEY_START": "2022-01", "SMART_MONEY_END": "2024-12"}
COMPARED = ("metrics", "baselines", "oracle", "independent_universe", "gates", "data")


class TreeSampler(threading.Thread):
    """CPU seconds (the last reading of every process seen) and summed resident memory of a
    process and its descendants, every `interval` seconds."""

    def __init__(self, pid: int, interval: float = 0.5):
        super().__init__(daemon=True)
        self.root, self.interval = psutil.Process(pid), interval
        self.cpu: dict[int, float] = {}
        self.peak_rss_mb = 0.0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            total = 0
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                break
            for proc in procs:
                try:
                    times = proc.cpu_times()
                    total += proc.memory_info().rss
                except psutil.Error:
                    continue
                self.cpu[proc.pid] = times.user + times.system
            self.peak_rss_mb = max(self.peak_rss_mb, total / 2**20)
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def registered(home: Path, version: str) -> dict:
    """What must not change between versions of the code: the registered model's figures."""
    folder = home / "models" / "smart-money-flow" / f"v{version}"
    metadata = json.loads((folder / "metadata.json").read_text())
    index = json.loads((home / "models" / "smart-money-flow" / "registry.json").read_text())
    entry = next(e for e in index["versions"] if e["version"] == version)
    compared = {k: metadata.get(k) for k in COMPARED}
    # a gate's verdict, value and threshold (later code also records the setting that sets it)
    compared["gates"] = {
        name: {k: gate.get(k) for k in ("passed", "value", "threshold")}
        for name, gate in (compared["gates"] or {}).items()
    }
    return compared | {
        "dataset_sha256": metadata["lineage"]["dataset_sha256"],
        "model_sha256": entry["sha256"]["model.txt"],
    }


def run(tree: Path, home: Path) -> dict:
    """One `smart-money run` importing `tree`, in `home`."""
    env = {
        **os.environ,
        **WINDOW,
        "PYTHONPATH": str(tree),
        "SMART_MONEY_HOME": str(home),
        "DAGSTER_HOME": str(home / ".dagster_home"),
    }
    home.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with (home / "run.log").open("a") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "smart_money.cli", "run"], env=env, cwd=home, stdout=log, stderr=log
        )
        sampler = TreeSampler(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    sampler.stop()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"smart-money run failed in {home}: {(home / 'run.log').read_text()[-2000:]}")
    return {
        "wall_s": round(wall, 1),
        "cpu_s": round(max(sum(sampler.cpu.values()), usage.ru_utime + usage.ru_stime), 1),
        "peak_rss_mb": round(sampler.peak_rss_mb),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", help="git revision to run first, in its own fresh home")
    args = parser.parse_args()
    result: dict[str, object] = {"symbols": 500, "months": 36, "window": "2022-01..2024-12"}
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as scratch:
        root = Path(scratch)
        models = {}
        if args.baseline:
            tree = extract(args.baseline, root / "baseline_tree")
            result |= {f"baseline_{k}": v for k, v in run(tree, root / "baseline").items()}
            result["baseline"] = revision_name(args.baseline)
            models["baseline"] = registered(root / "baseline", "1.0.0")
        result |= {f"cold_{k}": v for k, v in run(ROOT, root / "current").items()}
        models["cold"] = registered(root / "current", "1.0.0")
        result |= {f"warm_{k}": v for k, v in run(ROOT, root / "current").items()}
        models["warm"] = registered(root / "current", "1.0.1")
    first = next(iter(models.values()))
    result["same_registered_model"] = all(m == first for m in models.values())
    if not result["same_registered_model"]:
        result["differences"] = sorted({k for m in models.values() for k in m if m[k] != first[k]})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
