"""The `options_flow` group (daily): the day's tape, parent events, scored smart-money events in
ClickHouse and their evaluation."""

from __future__ import annotations

import dagster as dg

from smart_money.defs.options_flow.assets import (
    build_evaluation_asset,
    build_events_asset,
    build_market_asset,
    build_parent_events_asset,
)
from smart_money.defs.options_flow.checks import options_flow_checks
from smart_money.options.market.tape_source import OptionsSource


def options_flow_definitions(source: OptionsSource, partitions: dg.PartitionsDefinition) -> dg.Definitions:
    return dg.Definitions(
        assets=[
            build_market_asset(source, partitions),
            build_parent_events_asset(partitions),
            build_events_asset(partitions),
            build_evaluation_asset(source, partitions),
        ],
        asset_checks=options_flow_checks(partitions),
    )
