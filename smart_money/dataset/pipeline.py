"""The dataset pipeline in one call, for any source (the assets run the same core steps one by
one, with storage in between). Used to score a model on another universe or source."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from smart_money.data import calendar as cal
from smart_money.data.raw_pull import pull_raw, pull_universe
from smart_money.data.schemas import TABLES
from smart_money.data.source import DataSource
from smart_money.dataset.features import (
    FeatureInputs,
    UniverseRules,
    build_feature_inputs,
    compute_features,
    sample_dates_for,
)
from smart_money.dataset.labels import compute_labels
from smart_money.dataset.training_set import build_training_dataset


@dataclass
class SourceDataset:
    inputs: FeatureInputs
    features: pd.DataFrame
    labels: pd.DataFrame
    dataset: pd.DataFrame
    counts: dict[str, int]


def feature_inputs(
    source: DataSource,
    symbols: int | tuple[str, ...],
    months: Sequence[pd.Timestamp],
    hedge_funds: Sequence[str] | None = None,
) -> FeatureInputs:
    """Pull the universe and every raw table for `months` (plus the look-back) into memory."""
    universe, _ = pull_universe(source, symbols)
    stocks = universe.loc[universe["asset_type"] == "stock", "symbol"].tolist()
    tables = {}
    for table in TABLES:
        wanted = universe["symbol"].tolist() if table == "prices" else stocks
        pull = pull_raw(source, table, wanted, list(months), months[0])
        tables[table] = pd.concat(pull.partitions.values(), ignore_index=True)
    return build_feature_inputs(universe, tables, source, hedge_funds)


def dataset_from_source(
    source: DataSource,
    symbols: int | tuple[str, ...],
    first_month: pd.Timestamp,
    last_month: pd.Timestamp,
    rules: UniverseRules | None = None,
    hedge_funds: Sequence[str] | None = None,
) -> SourceDataset:
    months = cal.months_between(first_month, last_month)
    inputs = feature_inputs(source, symbols, months, hedge_funds)
    dates = sample_dates_for(months)
    features = compute_features(inputs, dates, rules or UniverseRules())
    labels = compute_labels(inputs.prices, inputs.universe, dates, inputs.market_index)
    dataset, counts = build_training_dataset(features, labels)
    return SourceDataset(inputs, features, labels, dataset, counts)
