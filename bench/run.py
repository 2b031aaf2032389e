"""Run the benchmarks, each in a fresh process, and collect their numbers.

Usage: python -m bench.run [name | group ...]   (default: the `default` group)
Groups: `default` (every benchmark the issues add plus the small scaling points, what `make
bench` runs), `scaling` (the whole scaling grid, `make bench-scaling`), `all`.
Merges into bench/results.json (other entries are kept) and prints each result. Every benchmark
reports its own timings (and, where it makes sense, ratios measured side by side in the same
process); this runner adds the process's wall time, CPU time and peak resident memory, read from
the benchmark process's own resource usage (os.wait4), descendants it waited for included.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"

SCALING_GRID = [(100, 36), (500, 12), (500, 36), (500, 60), (2000, 12), (2000, 36), (2000, 60), (5000, 36)]
SCALING_CHUNKED = [(2000, 60), (5000, 36)]
BASELINE_18 = "26fa5e3"  # main before issue 18 (speed): the side-by-side benchmarks time it too
BASELINE_RUN = "293ad03"  # main before the prefetch, features, study and validation speed-ups of the run
TIMEOUT_S = 5400  # a benchmark still running after this is killed and recorded as an error
SCALING_IN_DEFAULT = [(100, 36), (500, 12)]  # a few minutes; the rest runs with `make bench-scaling`

BENCHMARKS: dict[str, list[str]] = {
    "raw_layer_36m_500": ["-m", "bench.raw_layer", "--months", "36", "--symbols", "500"],
    # issue 18: with compute_features and compute_labels of the code before, side by side
    "features_labels_36m_500": [
        "-m",
        "bench.features",
        "--months",
        "36",
        "--symbols",
        "500",
        "--baseline",
        BASELINE_18,
    ],
    "fmp_36m_100": ["-m", "bench.fmp", "--months", "36", "--symbols", "100"],
    # side by side with the engine before rules 2.0.0 (packages, multi-horizon moves)
    "options_flow": ["-m", "bench.options_flow", "--baseline", "afbd2db^"],
    "options_score": ["-m", "bench.options_score"],
    "model_default": ["-m", "bench.model"],
    "model_design": ["-m", "bench.model_design"],
    "public_records_700": ["-m", "bench.public_records", "--symbols", "700"],
    "serve": ["-m", "bench.serve"],
    # issue 18: start-up of the commands that should answer at once, side by side with the code before
    "cli_startup": ["-m", "bench.cli_startup", "--baseline", BASELINE_18],
    # issue 18: `smart-money run` 500 x 36 as a user runs it, the code before, a first run and a second
    "end_to_end_500x36": ["-m", "bench.end_to_end", "--baseline", BASELINE_18],
    # the same, side by side with main just before the speed work on the run itself (293ad03): the
    # same graph (BASELINE_18 has no signal-research group yet, so it does less work)
    "end_to_end_500x36_vs_293ad03": ["-m", "bench.end_to_end", "--baseline", BASELINE_RUN],
    # Scaling study (docs/scaling.md): the full flow-model backfill over universe size at 36
    # months and over history length at 500 and 2,000 symbols.
    **{
        f"scaling_{symbols}x{months}": ["-m", "bench.scaling", "--symbols", str(symbols), "--months", str(months)]
        for symbols, months in SCALING_GRID
    },
    # the fix for long histories: the monthly assets 12 months at a time (docs/scaling.md)
    **{
        f"scaling_{symbols}x{months}_chunk12": [
            "-m",
            "bench.scaling",
            "--symbols",
            str(symbols),
            "--months",
            str(months),
            "--chunk-months",
            "12",
        ]
        for symbols, months in SCALING_CHUNKED
    },
    "profiles_200x12": ["-m", "bench.profiles", "--symbols", "200", "--months", "12"],
    # the signal study (docs/signal-study.md): simulated 500 x 36 and the public records 2012..2022
    "signal_study_36m_500": ["-m", "bench.signal_study", "--case", "simulated", "--symbols", "500", "--months", "36"],
    "signal_study_public_records": ["-m", "bench.signal_study", "--case", "public_records"],
}

GROUPS: dict[str, list[str]] = {
    "default": [n for n in BENCHMARKS if not n.startswith("scaling_")]
    + [f"scaling_{s}x{m}" for s, m in SCALING_IN_DEFAULT],
    "scaling": [f"scaling_{s}x{m}" for s, m in SCALING_GRID] + [f"scaling_{s}x{m}_chunk12" for s, m in SCALING_CHUNKED],
    "all": list(BENCHMARKS),
}


def run_one(name: str, argv: list[str]) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as home:
        env = {**os.environ, "SMART_MONEY_HOME": home, "DAGSTER_HOME": str(Path(home) / ".dagster_home")}
        out, err = Path(home) / "stdout", Path(home) / "stderr"
        start = time.perf_counter()
        with out.open("w") as stdout, err.open("w") as stderr:
            proc = subprocess.Popen([sys.executable, *argv], cwd=ROOT, env=env, stdout=stdout, stderr=stderr)
            timer = threading.Timer(TIMEOUT_S, proc.kill)
            timer.start()
            _, status, usage = os.wait4(proc.pid, 0)
            timer.cancel()
        wall = time.perf_counter() - start
        returncode, output, errors = os.waitstatus_to_exitcode(status), out.read_text(), err.read_text()
    if returncode != 0:
        timed_out = wall >= TIMEOUT_S
        return {
            "name": name,
            "error": f"killed after {TIMEOUT_S} s" if timed_out else errors[-2000:] or f"exit status {returncode}",
        }
    payload = json.loads(output.strip().splitlines()[-1])
    return {
        "name": name,
        "commit": code_revision(),
        "process_wall_s": round(wall, 3),
        "process_cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "process_peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        **payload,
    }


def code_revision() -> str:
    """The commit measured (`+changes` when the tree had uncommitted changes)."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
    )
    return head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")


def chosen(args: list[str]) -> list[str]:
    names: list[str] = []
    for arg in args or ["default"]:
        if arg not in GROUPS and arg not in BENCHMARKS:
            raise SystemExit(
                f"unknown benchmark or group {arg!r}; groups: {', '.join(GROUPS)}; benchmarks: {', '.join(BENCHMARKS)}"
            )
        names += [n for n in GROUPS.get(arg, [arg]) if n not in names]
    return names


def record(name: str, result: dict) -> None:
    """Merge one result into bench/results.json under a lock, so runners in parallel keep each
    other's results."""
    with (ROOT / "bench" / ".results.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        existing[name] = result
        RESULTS.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")


def main(args: list[str]) -> None:
    for name in chosen(args):
        print(f"running {name} ...", flush=True)
        result = run_one(name, BENCHMARKS[name])
        record(name, result)
        print(json.dumps(result, indent=2), flush=True)
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main(sys.argv[1:])
