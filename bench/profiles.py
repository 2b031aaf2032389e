"""The same backfill under the `local` profile (SQLite instance, in-process executor) and the
`postgres` profile (PostgreSQL instance on a private loopback cluster) with its own in-process
executor and, as before issue 18, with the multiprocess executor (a process per step), side by
side in one process: wall time of each, and whether the registered models agree.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import time
import warnings
from dataclasses import replace
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd

warnings.filterwarnings("ignore")

LAST_MONTH = date(2026, 9, 1)
COMPARED = ("metrics", "baselines", "oracle", "independent_universe", "gates", "data")


def registered(settings) -> dict:
    from smart_money.model.registry import Registry

    registry = Registry(settings.models_location)
    entry = registry.index()["versions"][-1]
    metadata = json.loads((registry.folder(entry["version"]) / "metadata.json").read_text())
    return {k: metadata.get(k) for k in COMPARED} | {"model_sha256": entry["sha256"]["model.txt"]}


def cpu_seconds() -> float:
    """CPU time of this process and its reaped children (the load-independent figure)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_run(settings, instance: dg.DagsterInstance) -> tuple[float, float]:
    """Wall and CPU seconds of one run (the evaluation's worker processes reaped and counted;
    step processes of a multiprocess run are the forkserver's children, not counted)."""
    from joblib.externals.loky import get_reusable_executor

    from smart_money.definitions import CODE_LOCATION
    from smart_money.orchestration.runner import run_monthly_graph
    from smart_money.sources import open_source

    open_source(settings).close()  # each run generates its world, as a fresh process would
    cpu = cpu_seconds()
    start = time.perf_counter()
    summary = run_monthly_graph(CODE_LOCATION, settings, instance=instance)
    if not summary.success:
        raise SystemExit(f"{settings.profile} run failed: {summary.error}")
    wall = time.perf_counter() - start
    get_reusable_executor().shutdown(wait=True)
    return wall, cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--symbols", type=int, default=200)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument(
        "--skip-multiprocess", action="store_true", help="leave out the postgres run with a process per step"
    )
    args = parser.parse_args()

    from smart_money.data import calendar as cal
    from smart_money.orchestration.instance import instance_config
    from smart_money.settings import Settings
    from smart_money_tests.support.local_services import PostgresServer

    root = Path(tempfile.mkdtemp(prefix="bench-profiles-"))
    start = cal.add_months(pd.Timestamp(LAST_MONTH), -(args.months - 1)).date()
    base = Settings.from_env().with_overrides(start=start, end=LAST_MONTH, symbols=args.symbols)
    local = replace(base, home=root / "local", profile="local")
    postgres = replace(base, home=root / "postgres", profile="postgres", executor="in_process")
    per_step = replace(base, home=root / "postgres_multiprocess", profile="postgres", executor="multiprocess")

    sqlite_home = root / "local_dagster_home"
    sqlite_home.mkdir()
    shutil.copyfile(instance_config("local"), sqlite_home / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(sqlite_home)) as instance:
        local_s, local_cpu = timed_run(local, instance)

    with PostgresServer() as server:
        os.environ["DAGSTER_POSTGRES_URL"] = server.url
        seconds, cpu, steps = {}, {}, {}
        runs = [("in_process", postgres)] + ([] if args.skip_multiprocess else [("multiprocess", per_step)])
        for name, settings in runs:
            pg_home = root / f"postgres_dagster_home_{name}"
            pg_home.mkdir()
            shutil.copyfile(instance_config("postgres"), pg_home / "dagster.yaml")
            with dg.DagsterInstance.from_config(str(pg_home)) as instance:
                seconds[name], cpu[name] = timed_run(settings, instance)
                run_id = instance.get_runs(limit=1)[0].run_id
                steps[name] = len(instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START))

    equal = registered(local) == registered(postgres) and (
        args.skip_multiprocess or registered(local) == registered(per_step)
    )
    shutil.rmtree(root, ignore_errors=True)
    result = {
        "symbols": args.symbols,
        "months": args.months,
        "local_in_process_s": round(local_s, 2),
        "postgres_in_process_s": round(seconds["in_process"], 2),
        "postgres_over_local": round(seconds["in_process"] / local_s, 2),
        "local_cpu_s": round(local_cpu, 1),
        "postgres_in_process_cpu_s": round(cpu["in_process"], 1),
        "postgres_over_local_cpu": round(cpu["in_process"] / local_cpu, 2),
        "steps": steps["in_process"],
        "metrics_equal": equal,
    }
    if "multiprocess" in seconds:
        result |= {
            "postgres_multiprocess_s": round(seconds["multiprocess"], 2),
            "postgres_multiprocess_over_local": round(seconds["multiprocess"] / local_s, 2),
            "postgres_multiprocess_extra_s_per_step": round(
                (seconds["multiprocess"] - local_s) / steps["multiprocess"], 2
            ),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
