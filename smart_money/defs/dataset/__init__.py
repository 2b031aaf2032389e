"""The `dataset` group: features and labels per month, the training dataset and its splits."""

from __future__ import annotations

import dagster as dg

from smart_money.defs.dataset.assets import (
    build_features_asset,
    build_labels_asset,
    build_splits_asset,
    build_training_dataset_asset,
)
from smart_money.defs.dataset.checks import features_check, labels_check, training_dataset_checks
from smart_money.settings import Settings


def dataset_definitions(settings: Settings, partitions: dg.PartitionsDefinition) -> dg.Definitions:
    features = build_features_asset(settings, partitions)
    labels = build_labels_asset(settings, partitions)
    training = build_training_dataset_asset()
    return dg.Definitions(
        assets=[features, labels, training, build_splits_asset()],
        asset_checks=[
            features_check(features, partitions),
            labels_check(labels, partitions),
            *training_dataset_checks(training),
        ],
    )
