"""Independent simulated universes: the same generative model with other seeds and market
paths, run through the dataset pipeline with both oracles attached. A model trained on one
universe is scored on them out of sample (a large, fresh sample; simulated source only).

A universe's dataset depends only on the generator (seed, parameters, size, horizon), the window
and the code that builds it, never on the run's own data or model. With a `cache_dir` each one is
stored as Parquet under a key of all of those (the source's `generator_key`, the window, a hash of
the generating and dataset code and the numeric libraries' versions) and read back on the next run:
a changed parameter, seed, window or line of that code gives another key, so a stale entry is never
read. A cached universe is the same table, to the bit, as a freshly built one (tested).
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.metadata import version
from pathlib import Path

import pandas as pd
from joblib import Parallel, delayed

from smart_money.data import calendar as cal
from smart_money.data import storage
from smart_money.data.source import OracleSource
from smart_money.dataset.pipeline import dataset_from_source

_PACKAGE = Path(__file__).resolve().parents[1]
# the code a universe's dataset is a function of: the simulated market, the raw layer, the dataset
CODE_FOLDERS = ("sources/simulated", "data", "dataset")
CODE_FILES = ("evaluation/independent_universes.py",)
LIBRARIES = ("numpy", "pandas", "scipy", "pyarrow", "pandera")


@cache
def code_fingerprint() -> str:
    """sha256 of the generating and dataset code and the numeric libraries' versions."""
    digest = hashlib.sha256()
    files = sorted(p for folder in CODE_FOLDERS for p in (_PACKAGE / folder).rglob("*.py"))
    for path in [*files, *(_PACKAGE / f for f in CODE_FILES)]:
        digest.update(str(path.relative_to(_PACKAGE)).encode())
        digest.update(path.read_bytes())
    for library in LIBRARIES:
        digest.update(f"{library}=={version(library)}".encode())
    return digest.hexdigest()


def cache_key(twin: OracleSource, first_month: pd.Timestamp, last_month: pd.Timestamp) -> str | None:
    """The cache entry's name for one universe and window (None: the source does not cache)."""
    generator = twin.generator_key()
    if generator is None:
        return None
    text = f"{generator}|{first_month:%Y-%m}..{last_month:%Y-%m}|{code_fingerprint()}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def universe_dataset(
    twin: OracleSource, n_symbols: int, first_month: pd.Timestamp, last_month: pd.Timestamp
) -> pd.DataFrame:
    """The dataset of one universe, every row with its oracle probabilities for the label and
    the mirror label and its `world` (the universe's seed)."""
    dataset = dataset_from_source(twin, n_symbols, first_month, last_month).dataset
    keys = dataset[["symbol", "sample_date"]]
    oracle = twin.oracle(keys)
    mirror = twin.oracle(keys, mirror=True)
    dataset["oracle_public"] = oracle["oracle_public"].to_numpy()
    dataset["oracle_truth"] = oracle["oracle_truth"].to_numpy()
    dataset["oracle_public_mirror"] = mirror["oracle_public"].to_numpy()
    dataset["world"] = twin.seed_label()
    twin.close()  # another world's arrays are not needed again
    return dataset


def _cached_universe(
    twin: OracleSource, n_symbols: int, first_month: pd.Timestamp, last_month: pd.Timestamp, path: str | None
) -> pd.DataFrame:
    """universe_dataset, stored at `path` (when given) for the next run."""
    dataset = universe_dataset(twin, n_symbols, first_month, last_month)
    if path is not None:
        storage.write_parquet(path, dataset)
    return dataset


def _read_cached(path: str) -> pd.DataFrame | None:
    """A stored universe, or None when it is missing or unreadable (then it is rebuilt)."""
    try:
        return storage.read_parquet(path)
    except (FileNotFoundError, storage.UnreadableFile):
        return None


def independent_universes(
    source: OracleSource,
    count: int,
    n_symbols: int,
    first_month: pd.Timestamp,
    last_month: pd.Timestamp,
    n_jobs: int = 2,
    cache_dir: str | None = None,
) -> pd.DataFrame:
    """`count` independent universes of `n_symbols` over first_month..last_month, concatenated;
    each read from `cache_dir` when a run already built it (see the module docstring)."""
    horizon = cal.add_months(last_month, 3)
    twins = [source.independent_twin(k, n_symbols, horizon) for k in range(count)]
    keys = [cache_key(t, first_month, last_month) if cache_dir else None for t in twins]
    paths = [None if key is None else storage.join(cache_dir, f"{key}.parquet") for key in keys]
    frames: list[pd.DataFrame | None] = [None if p is None else _read_cached(p) for p in paths]
    missing = [i for i, frame in enumerate(frames) if frame is None]
    if missing:
        built = Parallel(n_jobs=min(n_jobs, len(missing)))(
            delayed(_cached_universe)(twins[i], n_symbols, first_month, last_month, paths[i]) for i in missing
        )
        for i, frame in zip(missing, built):
            frames[i] = frame
    return pd.concat(frames, ignore_index=True)
