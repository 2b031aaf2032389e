"""Pandera models of the engine's columnar frames (what the Dagster asset checks validate).

The scoring path validates with the vectorised checks of `validation` instead (same rules, no
pandera import); these models describe the same frames for Dagster.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pandas as pd
import pandera.pandas as pa

from smart_money.options.engine.conditions import CONDITIONS
from smart_money.options.engine.contracts import PROFILES


class _Frame(pa.DataFrameModel):
    class Config:
        coerce = True
        strict = "filter"


class PrintsFrame(_Frame):
    """Option prints as the engine reads them (CLI `--prints`, asset `option_prints`)."""

    print_id: str = pa.Field(unique=True, str_length={"min_value": 1})
    ts: pd.DatetimeTZDtype = pa.Field(dtype_kwargs={"unit": "ns", "tz": "UTC"})
    underlying: str = pa.Field(str_length={"min_value": 1})
    expiry: pd.Timestamp = pa.Field(description="Expiration date (New York)")
    strike: float = pa.Field(gt=0)
    right: str = pa.Field(isin=("C", "P"))
    price: float = pa.Field(ge=0)
    size: int = pa.Field(gt=0)
    venue: str = pa.Field(str_length={"min_value": 1})
    condition: str = pa.Field(isin=sorted(CONDITIONS))
    multiplier: int = pa.Field(gt=0)
    ref_print_id: str = pa.Field(nullable=True)


class QuotesFrame(_Frame):
    ts: pd.DatetimeTZDtype = pa.Field(dtype_kwargs={"unit": "ns", "tz": "UTC"})
    underlying: str
    expiry: pd.Timestamp
    strike: float = pa.Field(gt=0)
    right: str = pa.Field(isin=("C", "P"))
    bid: float = pa.Field(ge=0)
    ask: float = pa.Field(ge=0)

    @pa.dataframe_check(error="ask below bid (crossed quote)")
    def not_crossed(cls, df: pd.DataFrame) -> pd.Series:
        return df["ask"] >= df["bid"]


class UnderlyingFrame(_Frame):
    ts: pd.DatetimeTZDtype = pa.Field(dtype_kwargs={"unit": "ns", "tz": "UTC"})
    underlying: str
    bid: float = pa.Field(gt=0)
    ask: float = pa.Field(gt=0)


class CalendarFrame(_Frame):
    underlying: str
    event_type: str
    announced_ts: pd.DatetimeTZDtype = pa.Field(dtype_kwargs={"unit": "ns", "tz": "UTC"})
    event_ts: pd.DatetimeTZDtype = pa.Field(dtype_kwargs={"unit": "ns", "tz": "UTC"})

    @pa.dataframe_check(error="announced_ts after event_ts")
    def announced_first(cls, df: pd.DataFrame) -> pd.Series:
        return df["announced_ts"] <= df["event_ts"]


class ScoredEventsFrame(_Frame):
    """One row per parent event after scoring (asset `smart_money_events`)."""

    event_id: str = pa.Field(unique=True, str_length={"min_value": 1})
    underlying_id: str
    event_kind: str = pa.Field(isin=("single_leg_event", "multi_leg_event"))
    first_ts_ns: int = pa.Field(gt=0, description="Event time of the first print (epoch ns, UTC)")
    n_prints: int = pa.Field(gt=0)
    total_premium: float = pa.Field(ge=0)
    dte_days: float = pa.Field(ge=0)
    coverage: float = pa.Field(ge=0, le=1)
    stale_share: float = pa.Field(ge=0, le=1)
    primary_profile_id: str = pa.Field(nullable=True, isin=list(PROFILES))
    primary_probability: float = pa.Field(nullable=True, ge=0, le=1)
    primary_direction: str = pa.Field(isin=("bullish", "bearish", "neutral", "mixed", "unknown"))
    abstained: bool

    @pa.dataframe_check(error="abstained must be exactly the rows without a primary profile")
    def abstention_consistent(cls, df: pd.DataFrame) -> pd.Series:
        return df["abstained"] == df["primary_profile_id"].isna()


def on_days(schema: pa.DataFrameSchema, column: str, days: Iterable[date]) -> pa.DataFrameSchema:
    """`schema` plus: every row's `column` (a UTC time or epoch nanoseconds) falls on one of
    `days` in New York time, the daily partitions the frame belongs to."""
    allowed = sorted(d.isoformat() for d in days)

    def on_allowed_day(values: pd.Series) -> pd.Series:
        local = pd.to_datetime(values, utc=True).dt.tz_convert("America/New_York")
        return local.dt.strftime("%Y-%m-%d").isin(allowed)

    check = pa.Check(on_allowed_day, name="on_partition_day", error=f"{column} not on the partition's day {allowed}")
    return schema.update_column(column, checks=[*schema.columns[column].checks, check])
