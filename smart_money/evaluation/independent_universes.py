"""Independent simulated universes: the same generative model with other seeds and market
paths, run through the dataset pipeline with both oracles attached. A model trained on one
universe is scored on them out of sample (a large, fresh sample; simulated source only)."""

from __future__ import annotations

import pandas as pd
from joblib import Parallel, delayed

from smart_money.data import calendar as cal
from smart_money.data.source import OracleSource
from smart_money.dataset.pipeline import dataset_from_source


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


def independent_universes(
    source: OracleSource,
    count: int,
    n_symbols: int,
    first_month: pd.Timestamp,
    last_month: pd.Timestamp,
    n_jobs: int = 2,
) -> pd.DataFrame:
    """`count` independent universes of `n_symbols` over first_month..last_month, concatenated."""
    horizon = cal.add_months(last_month, 3)
    twins = [source.independent_twin(k, n_symbols, horizon) for k in range(count)]
    frames = Parallel(n_jobs=min(n_jobs, count))(
        delayed(universe_dataset)(t, n_symbols, first_month, last_month) for t in twins
    )
    return pd.concat(frames, ignore_index=True)
