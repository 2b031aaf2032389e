"""The full flow-model backfill (every asset of monthly_refresh_job, universe to registered model)
for one (universe size, history length) on the simulated source: one in-process run, or with
--chunk-months the monthly assets a chunk of months at a time and then the model assets.

Reports wall time and CPU time (this process and its workers: the load-independent figure on a
shared machine), peak memory (this process, and the whole process tree sampled every 0.5 s, per
step too), rows/s, and where the time went, read from the runs' own event logs:
- core: inside the asset and check bodies (from the last input loaded to the first output),
- io: loading inputs and storing outputs through the IO manager (parquet),
- orchestration: everything else (plan, events, step bookkeeping, resource setup);
plus the simulated world's generation, timed before the run (the source's cost, not ours).
Chunked runs count the price rows that reach into the next month once per chunk.
"""

from __future__ import annotations

import argparse
import json
import resource
import threading
import time
import warnings
from collections import defaultdict
from datetime import date

import dagster as dg
import pandas as pd

warnings.filterwarnings("ignore")

LAST_MONTH = date(2026, 9, 1)  # a fixed window, so results do not drift with the calendar


class MemorySampler(threading.Thread):
    """Resident memory of this process and its descendants (the evaluation's worker pool), every
    `interval` seconds, with wall-clock stamps comparable to the event log's."""

    def __init__(self, interval: float = 0.5):
        super().__init__(daemon=True)
        self.interval, self.samples, self._stop_event = interval, [], threading.Event()

    def run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop_event.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:  # a worker that just exited
                    pass
            self.samples.append((time.time(), total / 2**20))
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def peak(self, windows: list[tuple[float, float]]) -> float:
        return max((mb for t, mb in self.samples if any(a <= t <= b for a, b in windows)), default=float("nan"))


def step_times(instance: dg.DagsterInstance, run_ids: list[str]) -> dict[str, dict]:
    """Per step, summed over the runs (a chunked backfill runs the monthly steps once per chunk):
    seconds in the body (core), in input loading + output handling (io), in all, and the
    wall-clock windows it ran in."""
    out: dict[str, dict] = defaultdict(lambda: {"core_s": 0.0, "io_s": 0.0, "step_s": 0.0, "windows": []})
    for run_id in run_ids:
        marks: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for record in instance.all_logs(run_id):
            event = record.dagster_event
            if event is not None and record.step_key:
                marks[record.step_key][event.event_type_value].append(record.timestamp)
        for step, m in marks.items():
            if not m.get("STEP_START") or not (m.get("STEP_SUCCESS") or m.get("STEP_FAILURE")):
                continue
            start, end = m["STEP_START"][0], (m.get("STEP_SUCCESS") or m["STEP_FAILURE"])[-1]
            body_start = max(m.get("LOADED_INPUT", [start]))
            produced = m.get("STEP_OUTPUT", []) + m.get("ASSET_CHECK_EVALUATION", [])
            body_end = min(produced) if produced else end
            out[step]["core_s"] += max(body_end - body_start, 0.0)
            out[step]["io_s"] += max(body_start - start, 0.0) + max(end - body_end, 0.0)
            out[step]["step_s"] += end - start
            out[step]["windows"].append((start, end))
    return dict(out)


def cpu_seconds() -> float:
    """CPU time of this process and its finished children: unlike wall time, it does not grow
    when other work shares the machine's two cores."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def reap_workers() -> None:
    """Stop joblib's reusable worker pool (the evaluation's independent worlds run there), so
    its processes are waited for and their CPU time and memory count in RUSAGE_CHILDREN."""
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--symbols", type=int, required=True)
    parser.add_argument("--months", type=int, required=True)
    parser.add_argument(
        "--chunk-months", type=int, default=None, help="run the monthly assets this many months at a time"
    )
    args = parser.parse_args()

    from smart_money.data import calendar as cal
    from smart_money.definitions import CODE_LOCATION
    from smart_money.orchestration.runner import run_monthly_graph
    from smart_money.settings import Settings
    from smart_money.sources import open_source

    start = cal.add_months(pd.Timestamp(LAST_MONTH), -(args.months - 1)).date()
    settings = Settings.from_env().with_overrides(start=start, end=LAST_MONTH, symbols=args.symbols)

    t0 = time.perf_counter()
    bundle = open_source(settings).bundle  # cached per process: the run reuses it
    bundle.insiders, bundle.congress, bundle.thirteen_f, bundle.etfs, bundle.etf_prices  # noqa: B018
    world_s = time.perf_counter() - t0
    world_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    instance = dg.DagsterInstance.ephemeral()
    memory = MemorySampler()
    memory.start()
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    summary = run_monthly_graph(CODE_LOCATION, settings, instance=instance, chunk_months=args.chunk_months)
    wall = time.perf_counter() - t0
    memory.stop()
    reap_workers()
    cpu = cpu_seconds() - cpu0
    if not summary.success:
        raise SystemExit(f"run failed: {summary.error}")

    steps = step_times(instance, summary.run_id.split(","))
    core = sum(s["core_s"] for s in steps.values())
    io = sum(s["io_s"] for s in steps.values())
    rows = {a.asset: a.rows for a in summary.assets if a.rows is not None}
    raw_rows = sum(v for k, v in rows.items() if k.startswith("raw_"))
    by_asset = {k: round(v["step_s"], 2) for k, v in sorted(steps.items(), key=lambda kv: -kv[1]["step_s"])}
    # process tree's resident memory while each step ran (what earlier steps left cached included)
    step_peaks = {k: memory.peak(v["windows"]) for k, v in steps.items()}
    by_memory = {k: round(v) for k, v in sorted(step_peaks.items(), key=lambda kv: -kv[1]) if v == v}
    print(
        json.dumps(
            {
                "symbols": args.symbols,
                "months": args.months,
                "chunk_months": args.chunk_months,
                "window": f"{start:%Y-%m}..{LAST_MONTH:%Y-%m}",
                "world_generation_s": round(world_s, 2),
                "world_peak_rss_mb": round(world_rss_mb),
                "run_wall_s": round(wall, 2),
                "run_cpu_s": round(cpu, 2),
                "core_s": round(core, 2),
                "io_s": round(io, 2),
                "orchestration_s": round(max(wall - core - io, 0.0), 2),
                "core_share": round(core / wall, 3),
                "io_share": round(io / wall, 3),
                "orchestration_share": round(max(wall - core - io, 0.0) / wall, 3),
                "raw_rows": raw_rows,
                "samples": rows.get("features"),
                "training_rows": rows.get("training_dataset"),
                "raw_rows_per_s": round(raw_rows / wall),
                "samples_per_s": round((rows.get("features") or 0) / wall, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "workers_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
                "tree_peak_rss_mb": round(max((mb for _, mb in memory.samples), default=0.0)),
                "steps_s": by_asset,
                "steps_peak_rss_mb": by_memory,
            }
        )
    )


if __name__ == "__main__":
    main()
