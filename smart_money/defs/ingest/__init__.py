"""The `ingest` group: the universe and one monthly asset per source table, with their checks."""

from __future__ import annotations

import dagster as dg

from smart_money.data.schemas import TABLES
from smart_money.defs.ingest.assets import build_raw_asset, build_universe_asset
from smart_money.defs.ingest.checks import (
    quarantine_rate_check,
    raw_schema_check,
    universe_schema_check,
)
from smart_money.settings import Settings


def ingest_definitions(settings: Settings, partitions: dg.PartitionsDefinition) -> dg.Definitions:
    universe = build_universe_asset(settings)
    assets, checks = [universe], [universe_schema_check(universe)]
    for table in TABLES:
        asset = build_raw_asset(table, settings, partitions)
        assets.append(asset)
        checks += [
            raw_schema_check(asset, table, settings, partitions),
            quarantine_rate_check(asset, table, settings, partitions),
        ]
    return dg.Definitions(assets=assets, asset_checks=checks)
