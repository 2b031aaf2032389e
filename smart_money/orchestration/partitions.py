"""The partitions definitions: monthly for the flow model, daily for the options flow."""

from __future__ import annotations

import dagster as dg

from smart_money.data.calendar import add_months
from smart_money.settings import Settings


def monthly_partitions(settings: Settings) -> dg.MonthlyPartitionsDefinition:
    """Months from SMART_MONEY_START to SMART_MONEY_END; without an end, it rolls forward to the
    last complete month (end_offset=0), so a long-running server keeps up by itself."""
    return dg.MonthlyPartitionsDefinition(**_configured_range(settings))


def _configured_range(settings: Settings) -> dict[str, object]:
    """SMART_MONEY_START up to the end of SMART_MONEY_END's month (or rolling), New York time."""
    end = None if settings.end is None else f"{add_months(settings.end, 1):%Y-%m-%d}"
    return {
        "start_date": f"{settings.start:%Y-%m-%d}",
        "end_date": end,
        "end_offset": 0,
        "timezone": "America/New_York",
    }


def daily_partitions(settings: Settings) -> dg.DailyPartitionsDefinition:
    """Days (New York time) for the options-flow assets, over the same range as the months;
    without an end, up to yesterday. Days the exchange is closed materialize empty."""
    return dg.DailyPartitionsDefinition(**_configured_range(settings))
