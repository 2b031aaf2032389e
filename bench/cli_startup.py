"""CLI start-up: how long `smart-money` takes to answer the commands that should answer at once
(`--help`, a settings error, `models list` on an empty registry, `options-score`'s argument
check), as fresh processes, the current code and `--baseline REV` alternating so that both see the
same load. Reports the median wall time of `--repeats` runs per command and version, and checks
that each command gives the same exit code in both versions.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.baseline import ROOT, extract, revision_name

COMMANDS: dict[str, tuple[list[str], dict[str, str]]] = {
    "help": (["--help"], {}),
    "settings_error": (["run"], {"SMART_MONEY_START": "2022-13"}),
    "models_list": (["models", "list"], {}),
    "options_score_args": (["options-score", "--prints", "missing.csv", "--quotes", "missing.csv", "--out", "x"], {}),
}


def timed(tree: Path, argv: list[str], env: dict[str, str], home: Path) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and exit code of `python -m smart_money.cli <argv>` importing
    `tree` (CPU time hardly grows with the machine's load, wall time does)."""
    full = {**os.environ, **env, "PYTHONPATH": str(tree), "SMART_MONEY_HOME": str(home)}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "smart_money.cli", *argv],
        env=full,
        cwd=home,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", help="git revision to time side by side with the current code")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as scratch:
        home = Path(scratch) / "home"
        home.mkdir()
        trees = {"current": ROOT}
        if args.baseline:
            trees["baseline"] = extract(args.baseline, Path(scratch) / "baseline")
        times: dict[str, dict[str, list[float]]] = {v: {c: [] for c in COMMANDS} for v in trees}
        cpu: dict[str, dict[str, list[float]]] = {v: {c: [] for c in COMMANDS} for v in trees}
        codes: dict[str, dict[str, int]] = {v: {} for v in trees}
        for _ in range(args.repeats):
            for command, (argv, env) in COMMANDS.items():
                for version, tree in trees.items():  # alternating: both versions see the same load
                    seconds, cpu_seconds, code = timed(tree, argv, env, home)
                    times[version][command].append(seconds)
                    cpu[version][command].append(cpu_seconds)
                    codes[version][command] = code
    result: dict[str, object] = {"repeats": args.repeats}
    for command in COMMANDS:
        result[f"{command}_s"] = round(statistics.median(times["current"][command]), 3)
        result[f"{command}_cpu_s"] = round(statistics.median(cpu["current"][command]), 3)
        result[f"{command}_exit"] = codes["current"][command]
        if args.baseline:
            old = statistics.median(times["baseline"][command])
            result[f"baseline_{command}_s"] = round(old, 3)
            result[f"baseline_{command}_cpu_s"] = round(statistics.median(cpu["baseline"][command]), 3)
            result[f"{command}_speedup"] = round(old / statistics.median(times["current"][command]), 2)
            result[f"{command}_same_exit"] = codes["baseline"][command] == codes["current"][command]
    if args.baseline:
        result["baseline"] = revision_name(args.baseline)
    result["slowest_s"] = max(result[f"{c}_s"] for c in COMMANDS)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
