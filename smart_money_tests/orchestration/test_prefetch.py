"""`smart-money run` builds the evaluation's independent universes in a background process while
the graph runs, and only when the run will ask for them."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date

import pandas as pd

from smart_money.evaluation import independent_universes as iu
from smart_money.orchestration.prefetch import independent_universes_prefetched
from smart_money.settings import Settings
from smart_money.sources import open_source

KEYS = ["2023-01-01", "2023-02-01", "2023-03-01"]
WORLDS = {"evaluation_report": {"independent_worlds": 1, "independent_symbols": 20}}


def settings(tmp_path, **changes) -> Settings:
    base = Settings(source="simulated", start=date(2023, 1, 1), end=date(2023, 3, 1), symbols=30, seed=3, home=tmp_path)
    return replace(base, **changes)


def test_the_universes_the_evaluation_will_read_are_built_in_the_background(tmp_path):
    run_settings = settings(tmp_path)
    with independent_universes_prefetched(run_settings, KEYS, WORLDS) as process:
        assert process is not None
        process.join(timeout=300)
        assert process.exitcode == 0
    source = open_source(run_settings)
    first, last = pd.Timestamp(KEYS[0]), pd.Timestamp(KEYS[-1])
    read = iu.independent_universes(
        source, 1, 20, first, last, n_jobs=1, cache_dir=iu.cache_location(str(tmp_path / "data"))
    )
    assert read.attrs["built"] == 0  # the evaluation finds it stored


def test_nothing_starts_when_the_run_will_not_read_universes(tmp_path):
    cases = {
        "no independent worlds": (settings(tmp_path), {"evaluation_report": {"independent_worlds": 0}}, None),
        "evaluation not selected": (settings(tmp_path), WORLDS, ["universe", "raw_prices"]),
        "not the simulated source": (
            settings(tmp_path, source="public_records", public_records_dir=tmp_path),
            WORLDS,
            None,
        ),
    }
    for case, (run_settings, op_config, assets) in cases.items():
        with independent_universes_prefetched(run_settings, KEYS, op_config, assets) as process:
            assert process is None, case
    assert not (tmp_path / "data" / "cache").exists()


def test_a_run_that_ends_first_stops_the_build_and_leaves_no_lock_behind(tmp_path):
    cache = tmp_path / "data" / "cache" / "independent-universes"
    worlds = {"evaluation_report": {"independent_worlds": 1, "independent_symbols": 300}}
    with independent_universes_prefetched(settings(tmp_path), KEYS, worlds) as process:
        deadline = time.monotonic() + 120
        while not list(cache.glob("*.lock")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(cache.glob("*.lock")), "the background build never started"
    assert not process.is_alive()
    assert list(cache.iterdir()) == []  # no lock, and no half-built universe
