"""Independent simulated universes: the same generative model with other seeds and market
paths, run through the dataset pipeline with both oracles attached. A model trained on one
universe is scored on them out of sample (a large, fresh sample; simulated source only).

A universe's dataset depends only on the generator (seed, parameters, size, horizon), the window
and the code that builds it, never on the run's own data or model. With a `cache_dir` each one is
stored as Parquet under a key of all of those (the source's `generator_key`, the window, a hash of
the generating and dataset code and the numeric libraries' versions) and read back on the next run:
a changed parameter, seed, window or line of that code gives another key, so a stale entry is never
read. A cached universe is the same table, to the bit, as a freshly built one (tested).

Building a universe is the evaluation's largest cost and needs nothing of the run, so
`smart-money run` starts building the missing ones in a background process when the run starts
(`warm_cache`, called by orchestration/prefetch.py), on the core the mostly single-threaded
pipeline leaves idle. A universe is built under a lock file beside its cache entry: the
evaluation builds the ones nobody has started, waits for the ones the background process is
building, and never builds one twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib.metadata import version
from pathlib import Path

import pandas as pd
from filelock import FileLock, Timeout
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


def cache_location(data_location: str) -> str:
    """Where the universes of a data home are cached."""
    return storage.join(data_location, "cache", "independent-universes")


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


@contextmanager
def _build_lock(path: str, wait: bool) -> Iterator[bool]:
    """Holds the lock of the universe stored at `path` (yields True), or yields False at once when
    another process holds it and `wait` is off. Object-storage entries are not locked (yields
    True): two processes may then both build a universe, and write the same bytes."""
    local = storage.local_path(path)
    if local is None:
        yield True
        return
    local.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(local.with_name(local.name + ".lock")))
    try:
        lock.acquire(timeout=-1 if wait else 0)
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


def remove_idle_locks(cache_dir: str) -> None:
    """Delete the cache's lock files that no process holds (the kernel lock is gone with its
    holder, the empty file stays): called when a run's background build ends. A process that
    opens a lock file at that very moment could lock a deleted file; the home's run lock keeps a
    second run from sharing the cache at the same time."""
    folder = storage.local_path(cache_dir)
    if folder is None or not folder.is_dir():
        return
    for path in folder.glob("*.lock"):
        lock = FileLock(str(path))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            continue
        try:
            path.unlink(missing_ok=True)
        finally:
            lock.release()


def _get_or_build(
    twin: OracleSource,
    n_symbols: int,
    first_month: pd.Timestamp,
    last_month: pd.Timestamp,
    path: str | None,
    wait: bool = True,
    load: bool = True,
) -> pd.DataFrame | bool | None:
    """The universe stored at `path`, built and stored first if it is missing. None when another
    process is building it and `wait` is off. With `load` off (warming the cache) the table is
    not read back: True once it is stored."""
    if path is None:
        return universe_dataset(twin, n_symbols, first_month, last_month)
    with _build_lock(path, wait) as held:
        if not held:
            return None
        if not load and storage.exists(path):
            return True
        dataset = _read_cached(path) if load else None
        if dataset is None:
            dataset = universe_dataset(twin, n_symbols, first_month, last_month)
            storage.write_parquet(path, dataset)
        return dataset if load else True


def _read_cached(path: str) -> pd.DataFrame | None:
    """A stored universe, or None when it is missing or unreadable (then it is rebuilt)."""
    try:
        return storage.read_parquet(path)
    except (FileNotFoundError, storage.UnreadableFile):
        return None


def _twins_and_paths(
    source: OracleSource,
    count: int,
    n_symbols: int,
    first_month: pd.Timestamp,
    last_month: pd.Timestamp,
    cache_dir: str | None,
) -> tuple[list[OracleSource], list[str | None]]:
    horizon = cal.add_months(last_month, 3)
    twins = [source.independent_twin(k, n_symbols, horizon) for k in range(count)]
    keys = [cache_key(t, first_month, last_month) if cache_dir else None for t in twins]
    return twins, [None if key is None else storage.join(cache_dir, f"{key}.parquet") for key in keys]


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
    each read from `cache_dir` when a run (or the run's background warm-up) already built it, see
    the module docstring. attrs['built']: how many this call built itself."""
    twins, paths = _twins_and_paths(source, count, n_symbols, first_month, last_month, cache_dir)
    frames: list[pd.DataFrame | None] = [None if p is None else _read_cached(p) for p in paths]
    missing = [i for i, frame in enumerate(frames) if frame is None]
    built = 0
    if missing:
        # first the universes no other process is building, in parallel; then wait for the rest
        # (and build any whose builder stopped without storing it)
        first_pass = Parallel(n_jobs=min(n_jobs, len(missing)))(
            delayed(_get_or_build)(twins[i], n_symbols, first_month, last_month, paths[i], wait=False) for i in missing
        )
        for i, frame in zip(missing, first_pass):
            frames[i] = frame
        built = sum(frame is not None for frame in first_pass)
        for i in missing:
            if frames[i] is None:
                frames[i] = _get_or_build(twins[i], n_symbols, first_month, last_month, paths[i])
    universes = pd.concat(frames, ignore_index=True)
    universes.attrs["built"] = built
    return universes


def warm_cache(
    source: OracleSource,
    count: int,
    n_symbols: int,
    first_month: pd.Timestamp,
    last_month: pd.Timestamp,
    cache_dir: str,
) -> int:
    """Build and store, one after another, the universes of `independent_universes(source, count,
    n_symbols, first_month, last_month, cache_dir=cache_dir)` that are neither stored nor being
    built by another process. Returns how many it built."""
    twins, paths = _twins_and_paths(source, count, n_symbols, first_month, last_month, cache_dir)
    built = 0
    for twin, path in zip(twins, paths):
        if path is None or storage.exists(path):
            continue
        built += _get_or_build(twin, n_symbols, first_month, last_month, path, wait=False, load=False) is True
    return built
