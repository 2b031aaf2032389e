"""Deployment profiles: which Dagster executor runs a job's steps, chosen from the settings
when the definitions are built (never at import).

- local: `in_process_executor` (one process, least overhead; SQLite instance).
- postgres: `in_process_executor` too (the instance on PostgreSQL is what concurrent runs share);
  SMART_MONEY_EXECUTOR=multiprocess gives `multiprocess_executor` (a process per step,
  SMART_MONEY_MAX_CONCURRENT at once, forkserver start method so each step forks from a process
  that already imported the code), which needs such an instance so step processes share run storage.
- kubernetes: dagster-k8s's `k8s_job_executor` (a Kubernetes Job per step).

The instance side of each profile (storage, run queue, run launcher) is deploy/<profile>/.
"""

from __future__ import annotations

from importlib.util import find_spec

import dagster as dg

from smart_money.settings import Settings


def forkserver_preload() -> list[str]:
    """Modules the forkserver imports once, so each step process forks with them loaded: the
    definitions (pandas, LightGBM, Dagster ...) and the instance's storage driver."""
    return ["smart_money.definitions", *(["dagster_postgres"] if find_spec("dagster_postgres") else [])]


def executor_for(settings: Settings) -> dg.ExecutorDefinition:
    kind = settings.step_executor
    if kind == "in_process":
        return dg.in_process_executor
    concurrency = {} if settings.max_concurrent_steps is None else {"max_concurrent": settings.max_concurrent_steps}
    if kind == "multiprocess":
        start = {"forkserver": {"preload_modules": forkserver_preload()}}
        return dg.multiprocess_executor.configured({**concurrency, "start_method": start}, name="multiprocess")
    if kind == "k8s":
        try:  # optional extra (smart-money[kubernetes]); imported only for this profile
            from dagster_k8s import k8s_job_executor
        except ImportError as exc:
            raise ImportError(
                "SMART_MONEY_EXECUTOR=k8s needs dagster-k8s: pip install 'smart-money[kubernetes]'"
            ) from exc
        return k8s_job_executor.configured(concurrency, name="k8s") if concurrency else k8s_job_executor
    raise ValueError(f"unknown executor {kind!r}")
