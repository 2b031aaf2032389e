"""The full flow-model backfill (every asset of monthly_refresh_job, universe to registered model)
for one (universe size, history length) on the simulated source, as one in-process run.

Reports wall time and CPU time (the load-independent figure on a shared machine), peak memory (this process; the evaluation's independent-world workers
separately), rows/s, and where the time went, read from the run's own event log:
- core: inside the asset and check bodies (from the last input loaded to the first output),
- io: loading inputs and storing outputs through the IO manager (parquet),
- orchestration: everything else (plan, events, step bookkeeping, resource setup);
plus the simulated world's generation, timed before the run (the source's cost, not ours).
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import warnings
from collections import defaultdict
from datetime import date

import dagster as dg
import pandas as pd

warnings.filterwarnings("ignore")

LAST_MONTH = date(2026, 9, 1)  # a fixed window, so results do not drift with the calendar


def step_times(instance: dg.DagsterInstance, run_id: str) -> dict[str, dict[str, float]]:
    """Per step: seconds in the body (core) and in input loading + output handling (io)."""
    marks: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is not None and record.step_key:
            marks[record.step_key][event.event_type_value].append(record.timestamp)
    out = {}
    for step, m in marks.items():
        if not m.get("STEP_START") or not (m.get("STEP_SUCCESS") or m.get("STEP_FAILURE")):
            continue
        start, end = m["STEP_START"][0], (m.get("STEP_SUCCESS") or m["STEP_FAILURE"])[-1]
        body_start = max(m.get("LOADED_INPUT", [start]))
        produced = m.get("STEP_OUTPUT", []) + m.get("ASSET_CHECK_EVALUATION", [])
        body_end = min(produced) if produced else end
        core = max(body_end - body_start, 0.0)
        io = max(body_start - start, 0.0) + max(end - body_end, 0.0)
        out[step] = {"core_s": core, "io_s": io, "step_s": end - start}
    return out


def cpu_seconds() -> float:
    """CPU time of this process and its finished children: unlike wall time, it does not grow
    when other work shares the machine's two cores."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--symbols", type=int, required=True)
    parser.add_argument("--months", type=int, required=True)
    args = parser.parse_args()

    from smart_money.core import calendar as cal
    from smart_money.core.settings import Settings
    from smart_money.resources import source_resource
    from smart_money.runner import run_monthly_graph

    start = cal.add_months(pd.Timestamp(LAST_MONTH), -(args.months - 1)).date()
    settings = Settings.from_env().with_overrides(start=start, end=LAST_MONTH, symbols=args.symbols)

    t0 = time.perf_counter()
    bundle = source_resource(settings).get().bundle  # cached per process: the run reuses it
    bundle.insiders, bundle.congress, bundle.thirteen_f, bundle.etfs, bundle.etf_prices  # noqa: B018
    world_s = time.perf_counter() - t0
    world_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    instance = dg.DagsterInstance.ephemeral()
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    summary = run_monthly_graph(settings, instance=instance)
    wall = time.perf_counter() - t0
    cpu = cpu_seconds() - cpu0
    if not summary.success:
        raise SystemExit(f"run failed: {summary.error}")

    steps = step_times(instance, summary.run_id)
    core = sum(s["core_s"] for s in steps.values())
    io = sum(s["io_s"] for s in steps.values())
    rows = {a.asset: a.rows for a in summary.assets if a.rows is not None}
    raw_rows = sum(v for k, v in rows.items() if k.startswith("raw_"))
    by_asset = {k: round(v["step_s"], 2) for k, v in sorted(steps.items(), key=lambda kv: -kv[1]["step_s"])}
    print(
        json.dumps(
            {
                "symbols": args.symbols,
                "months": args.months,
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
                "steps_s": by_asset,
            }
        )
    )


if __name__ == "__main__":
    main()
