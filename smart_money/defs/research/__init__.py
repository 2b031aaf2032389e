"""The `research` group: disclosure events per month, the signal study over the window, and the
flow model on the excess-return target (trained, evaluated beside the plan's, registered)."""

from __future__ import annotations

import dagster as dg

from smart_money.defs.research.assets import (
    build_disclosure_events_asset,
    build_event_study_asset,
    build_excess_model_assets,
)
from smart_money.defs.research.checks import events_month_check, events_schema_check
from smart_money.settings import Settings


def research_definitions(settings: Settings, partitions: dg.PartitionsDefinition) -> dg.Definitions:
    events = build_disclosure_events_asset(settings, partitions)
    return dg.Definitions(
        assets=[events, build_event_study_asset(settings), *build_excess_model_assets(settings)],
        asset_checks=[events_schema_check(events, partitions), events_month_check(events, partitions)],
    )
