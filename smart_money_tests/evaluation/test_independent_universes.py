"""The independent universes' cache: a cached universe is the freshly built table to the bit (so
every evaluation figure computed from it is unchanged), and the key moves with everything the
table depends on."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pandas as pd
import pytest
from filelock import FileLock

from smart_money.evaluation import independent_universes as iu
from smart_money.sources.simulated.params import SimulationParams
from smart_money.sources.simulated.source import SimulatedSource

FIRST, LAST = pd.Timestamp("2023-01-01"), pd.Timestamp("2023-06-01")
SYMBOLS = 30


@pytest.fixture(scope="module")
def source() -> SimulatedSource:
    return SimulatedSource(n_symbols=40, seed=3, horizon=pd.Timestamp("2023-12-01"))


def test_cached_universes_equal_fresh_ones_and_are_read_back(source, tmp_path, monkeypatch):
    fresh = iu.independent_universes(source, 2, SYMBOLS, FIRST, LAST, n_jobs=1)
    first = iu.independent_universes(source, 2, SYMBOLS, FIRST, LAST, n_jobs=1, cache_dir=str(tmp_path))
    assert len(list(tmp_path.glob("*.parquet"))) == 2
    pd.testing.assert_frame_equal(first, fresh, check_exact=True)

    def not_again(*args, **kwargs):
        raise AssertionError("a cached universe was rebuilt")

    monkeypatch.setattr(iu, "universe_dataset", not_again)
    cached = iu.independent_universes(source, 2, SYMBOLS, FIRST, LAST, n_jobs=1, cache_dir=str(tmp_path))
    pd.testing.assert_frame_equal(cached, fresh, check_exact=True)
    assert sorted(cached["world"].unique()) == sorted(fresh["world"].unique())


def test_an_unreadable_entry_is_rebuilt(source, tmp_path):
    twin = source.independent_twin(0, SYMBOLS, pd.Timestamp("2023-09-01"))
    (tmp_path / f"{iu.cache_key(twin, FIRST, LAST)}.parquet").write_bytes(b"PAR1 cut short")
    rebuilt = iu.independent_universes(source, 1, SYMBOLS, FIRST, LAST, n_jobs=1, cache_dir=str(tmp_path))
    assert len(rebuilt) > 0
    pd.testing.assert_frame_equal(iu._read_cached(str(next(tmp_path.glob("*.parquet")))), rebuilt, check_exact=True)


def test_the_key_moves_with_seed_parameters_size_window_and_code(source, monkeypatch):
    horizon = pd.Timestamp("2023-09-01")
    base = iu.cache_key(source.independent_twin(0, SYMBOLS, horizon), FIRST, LAST)
    assert base == iu.cache_key(source.independent_twin(0, SYMBOLS, horizon), FIRST, LAST)
    others = {
        "twin index": iu.cache_key(source.independent_twin(1, SYMBOLS, horizon), FIRST, LAST),
        "size": iu.cache_key(source.independent_twin(0, SYMBOLS + 1, horizon), FIRST, LAST),
        "window": iu.cache_key(source.independent_twin(0, SYMBOLS, horizon), FIRST, pd.Timestamp("2023-05-01")),
        "seed": iu.cache_key(
            SimulatedSource(40, seed=4, horizon=source.horizon).independent_twin(0, SYMBOLS, horizon), FIRST, LAST
        ),
        "parameter": iu.cache_key(
            SimulatedSource(40, 3, replace(SimulationParams(), news_size=0.07), source.horizon).independent_twin(
                0, SYMBOLS, horizon
            ),
            FIRST,
            LAST,
        ),
    }
    assert base not in others.values() and len(set(others.values())) == len(others)
    monkeypatch.setattr(iu, "code_fingerprint", lambda: "other code")
    assert iu.cache_key(source.independent_twin(0, SYMBOLS, horizon), FIRST, LAST) != base


def test_a_universe_another_process_is_building_is_waited_for_not_built_twice(source, tmp_path):
    """The run's background warm-up and the evaluation share the cache: a universe whose lock is
    held elsewhere is read once its builder stores it, and the others are built meanwhile."""
    twin = source.independent_twin(0, SYMBOLS, iu.cal.add_months(LAST, 3))
    path = tmp_path / f"{iu.cache_key(twin, FIRST, LAST)}.parquet"
    lock = FileLock(f"{path}.lock")
    lock.acquire()
    result: dict[str, pd.DataFrame] = {}
    evaluation = threading.Thread(
        target=lambda: result.update(
            frame=iu.independent_universes(source, 2, SYMBOLS, FIRST, LAST, n_jobs=1, cache_dir=str(tmp_path))
        )
    )
    evaluation.start()
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("*.parquet"))) < 1 and time.monotonic() < deadline:  # universe 1, built meanwhile
        time.sleep(0.1)
    assert evaluation.is_alive(), "the evaluation did not wait for the universe being built elsewhere"
    stored_elsewhere = iu.universe_dataset(twin, SYMBOLS, FIRST, LAST).assign(built_by="the other process")
    iu.storage.write_parquet(path, stored_elsewhere)
    lock.release()
    evaluation.join(timeout=120)
    frame = result["frame"]
    assert frame.attrs["built"] == 1
    assert (frame["built_by"] == "the other process").sum() == len(stored_elsewhere)  # read, not rebuilt


def test_warming_the_cache_builds_each_missing_universe_once(source, tmp_path):
    assert iu.warm_cache(source, 2, SYMBOLS, FIRST, LAST, str(tmp_path)) == 2
    assert iu.warm_cache(source, 2, SYMBOLS, FIRST, LAST, str(tmp_path)) == 0
    warmed = iu.independent_universes(source, 2, SYMBOLS, FIRST, LAST, n_jobs=1, cache_dir=str(tmp_path))
    assert warmed.attrs["built"] == 0
    pd.testing.assert_frame_equal(
        warmed, iu.independent_universes(source, 2, SYMBOLS, FIRST, LAST, n_jobs=1), check_exact=True
    )


def test_idle_lock_files_are_removed_and_held_ones_kept(tmp_path):
    (tmp_path / "idle.parquet.lock").touch()
    held = FileLock(str(tmp_path / "held.parquet.lock"))
    held.acquire()
    iu.remove_idle_locks(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["held.parquet.lock"]
    held.release()
