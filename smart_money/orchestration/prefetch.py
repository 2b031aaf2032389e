"""The evaluation's independent universes, built in the background while a run goes on.

`evaluation_report` scores the model on fresh simulated universes (evaluation/
independent_universes.py); building them is the largest cost of a first run and depends only
on the simulator and the window, not on anything the run computes. `smart-money run` therefore
starts one low-priority process that builds the missing ones into their cache while the graph
runs (the in-process executor keeps one core busy; this uses the other), and the evaluation
reads them, waits for the one being built, or builds the rest itself: the figures are the same
either way, since a universe is the same table whoever builds it (tested).

Nothing else changes: a run without the evaluation, on another source or with
`independent_worlds: 0` starts nothing, and the process is stopped when the run ends.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields

import pandas as pd

from smart_money.evaluation.flow_evaluation import EvalConfig
from smart_money.settings import Settings

EVALUATION_ASSET = "evaluation_report"
NICENESS = 5  # the run's own steps come first when both want a core
log = logging.getLogger("smart_money.prefetch")


def _eval_config(op_config: Mapping[str, Mapping] | None) -> EvalConfig:
    given = dict((op_config or {}).get(EVALUATION_ASSET) or {})
    known = {f.name for f in fields(EvalConfig)}
    return EvalConfig(**{k: v for k, v in given.items() if k in known})


def _warm(settings: Settings, count: int, n_symbols: int, first: str, last: str, cache_dir: str) -> None:
    """The background process: build the universes `evaluation_report` will ask for."""
    from smart_money.data.source import OracleSource
    from smart_money.evaluation.independent_universes import warm_cache
    from smart_money.sources import open_source

    os.nice(NICENESS)
    source = open_source(settings)
    if isinstance(source, OracleSource):
        warm_cache(source, count, n_symbols, pd.Timestamp(first), pd.Timestamp(last), cache_dir)


@contextmanager
def independent_universes_prefetched(
    settings: Settings,
    keys: list[str],
    op_config: Mapping[str, Mapping] | None = None,
    assets: list[str] | None = None,
) -> Iterator[multiprocessing.process.BaseProcess | None]:
    """Build the evaluation's universes for the months `keys` in a background process for the
    duration of the block (yields it; None when the run needs none)."""
    config = _eval_config(op_config)
    needed = (
        settings.source == "simulated"
        and config.independent_worlds > 0
        and (assets is None or EVALUATION_ASSET in assets)
        and bool(keys)
    )
    if not needed:
        yield None
        return
    from smart_money.evaluation.independent_universes import cache_location, remove_idle_locks

    cache_dir = cache_location(settings.data_location)
    # spawn: the run's process has threads (event log readers) a fork would copy mid-lock
    process = multiprocessing.get_context("spawn").Process(
        target=_warm,
        args=(
            settings,
            config.independent_worlds,
            config.independent_symbols,
            keys[0],
            keys[-1],
            cache_dir,
        ),
        name="smart-money-universes",
        daemon=True,
    )
    process.start()
    try:
        yield process
    finally:
        if process.is_alive():  # the run ended first (failed, or the evaluation built the rest)
            process.terminate()
        process.join(timeout=10)
        remove_idle_locks(cache_dir)
