"""Where a day's options input comes from: the synthetic market of a daily partition holds that
day only (issue 17: the 2023-06-12 feed held 0DTE hedges dated on the DST sessions of 2024)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pandera.pandas as pa
import pytest

from smart_money.options.engine.schemas import PrintsFrame, on_days
from smart_money.options.market.synthetic import DEFAULT_DAY, DST_DAYS, generate_market
from smart_money.options.market.tape_source import OptionsSource

DAY = date(2023, 6, 12)


def new_york_days(ts: pd.Series) -> set[str]:
    return set(pd.to_datetime(ts, utc=True).dt.tz_convert("America/New_York").dt.strftime("%Y-%m-%d"))


@pytest.fixture(scope="module")
def partition_day():
    market = OptionsSource(seed=7, scenarios_per_day=400).synthetic_day(DAY)
    assert market is not None
    return market


def test_every_print_and_quote_of_a_partition_day_is_on_that_day(partition_day):
    tape, labels = partition_day
    assert "dst_0dte" in set(labels["variant"])  # the variant that used to jump to the DST sessions
    for frame in (tape.prints, tape.quotes, tape.underlying):
        assert new_york_days(frame["ts"]) == {DAY.isoformat()}


def test_the_evaluation_market_keeps_its_dst_sessions():
    tape, labels = generate_market(400, seed=7)
    hedges = labels[labels["variant"] == "dst_0dte"]
    assert len(hedges)
    days = new_york_days(tape.prints[tape.prints["print_id"].isin(hedges["print_ids"].explode())]["ts"])
    assert days <= {d.isoformat() for d in DST_DAYS}
    assert DEFAULT_DAY.isoformat() in new_york_days(tape.prints["ts"])


def test_the_partition_day_schema_rejects_a_print_of_another_day(partition_day):
    prints = partition_day[0].prints
    schema = on_days(PrintsFrame.to_schema(), "ts", [DAY])
    schema.validate(prints)  # the day's own prints pass
    moved = prints.copy()
    moved.loc[0, "ts"] = moved.loc[0, "ts"] + pd.Timedelta(days=1)
    with pytest.raises(pa.errors.SchemaErrors, match="not on the partition.s day"):
        schema.validate(moved, lazy=True)
