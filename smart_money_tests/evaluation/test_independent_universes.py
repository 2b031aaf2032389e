"""The independent universes' cache: a cached universe is the freshly built table to the bit (so
every evaluation figure computed from it is unchanged), and the key moves with everything the
table depends on."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

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
