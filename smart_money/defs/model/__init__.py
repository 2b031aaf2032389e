"""The `model` group: the trained flow model, its evaluation report and the registered model."""

from __future__ import annotations

import dagster as dg

from smart_money.defs.model.assets import build_model_assets
from smart_money.settings import Settings


def model_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(assets=build_model_assets(settings))
