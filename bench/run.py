"""Run the benchmarks, each in a fresh process, and collect their numbers.

Usage: python -m bench.run [name ...]   (default: all)
Writes bench/results.json and prints a markdown table. Every benchmark reports its own timings
(and, where it makes sense, ratios measured side by side in the same process); this runner
adds the process's wall time and peak resident memory.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"

SCALING_GRID = [(100, 36), (500, 12), (500, 36), (500, 60), (2000, 12), (2000, 36), (2000, 60), (5000, 36)]

BENCHMARKS: dict[str, list[str]] = {
    "raw_layer_36m_500": ["-m", "bench.raw_layer", "--months", "36", "--symbols", "500"],
    "features_labels_36m_500": ["-m", "bench.features", "--months", "36", "--symbols", "500"],
    "fmp_36m_100": ["-m", "bench.fmp", "--months", "36", "--symbols", "100"],
    "options_flow": ["-m", "bench.options_flow"],
    "model_default": ["-m", "bench.model"],
    "model_design": ["-m", "bench.model_design"],
    "public_records_700": ["-m", "bench.public_records", "--symbols", "700"],
    "serve": ["-m", "bench.serve"],
    # Scaling study (docs/scaling.md): the full flow-model backfill over universe size at 36
    # months and over history length at 500 and 2,000 symbols.
    **{
        f"scaling_{symbols}x{months}": ["-m", "bench.scaling", "--symbols", str(symbols), "--months", str(months)]
        for symbols, months in SCALING_GRID
    },
}


def run_one(name: str, argv: list[str]) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as home:
        env = {**os.environ, "SMART_MONEY_HOME": home, "DAGSTER_HOME": str(Path(home) / ".dagster_home")}
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        return {"name": name, "error": proc.stderr[-2000:]}
    payload = json.loads(proc.stdout.strip().splitlines()[-1])
    # ru_maxrss of children is the max over all children so far; benchmarks run in order of size
    return {"name": name, "process_wall_s": round(wall, 3), "process_peak_rss_mb": round(max(peak_kb, before) / 1024, 1), **payload}


def main(names: list[str]) -> None:
    chosen = names or list(BENCHMARKS)
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for name in chosen:
        print(f"running {name} ...", flush=True)
        existing[name] = run_one(name, BENCHMARKS[name])
        print(json.dumps(existing[name], indent=2), flush=True)
    RESULTS.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main(sys.argv[1:])
