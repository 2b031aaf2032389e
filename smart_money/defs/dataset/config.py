"""Launchpad configs of the dataset group (derived from the core dataclasses)."""

from __future__ import annotations

from smart_money.dataset.splits import SplitSpec
from smart_money.orchestration.config import launchpad_config

SplitConfig = launchpad_config(
    SplitSpec,
    "SplitConfig",
    "How to split (dataset.splits.SplitSpec; its defaults are the leak-free ones). method: chronological, "
    "or stratified_random (flagged LEAKY); walk_forward_through_test: folds over the whole window.",
)
