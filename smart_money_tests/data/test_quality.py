"""Each raw schema accepts clean rows and rejects crafted bad ones with a message that names
the rows and the reason; bad rows are quarantined, never silently dropped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smart_money.data import calendar as cal
from smart_money.data.quality import (
    SchemaViolation,
    describe_failures,
    validate_and_quarantine,
    window_schema,
)
from smart_money.data.schemas import TABLES

MONTH = pd.Timestamp("2023-03-01")
NEXT = cal.add_months(MONTH, 1)


@pytest.fixture(scope="module")
def clean(small_source) -> dict[str, pd.DataFrame]:
    symbols = small_source.universe()["symbol"].tolist()
    frames = {}
    for table, spec in TABLES.items():
        frame = small_source.fetch(table, symbols, MONTH, NEXT).frame
        frames[table] = validate_and_quarantine(frame, spec, MONTH, NEXT + pd.Timedelta(days=7)).valid.head(40)
    return frames


def corrupt(frame: pd.DataFrame, row: int, **values) -> pd.DataFrame:
    bad = frame.copy()
    for column, value in values.items():
        bad[column] = bad[column].astype(object)
        bad.iloc[row, bad.columns.get_loc(column)] = value
    return bad


CASES = [
    (
        "insider_trades",
        {"event_date": pd.Timestamp("2023-03-30"), "known_at": pd.Timestamp("2023-03-02 10:00")},
        "known_at is before event_date",
    ),
    ("insider_trades", {"transaction_code": "Q"}, "transaction_code: isin"),
    ("insider_trades", {"shares": -5.0}, "shares: greater_than(0)"),
    ("insider_trades", {"acquisition_or_disposition": "X"}, "acquisition_or_disposition: isin"),
    ("institutional_holdings", {"event_date": pd.Timestamp("2022-11-15")}, "not a calendar quarter end"),
    ("institutional_holdings", {"shares": -1.0}, "shares: greater_than_or_equal_to(0)"),
    ("congress_trades", {"amount_low": 50_001.0, "amount_high": 15_000.0}, "amount_high is below amount_low"),
    ("congress_trades", {"chamber": "assembly"}, "chamber: isin"),
    ("etf_holdings", {"weight_pct": 140.0}, "weight_pct: less_than_or_equal_to(100)"),
    ("prices", {"high": 1.0, "low": 2.0}, "high below low"),
    ("prices", {"close": 0.0}, "close: greater_than(0)"),
    ("prices", {"symbol": "not a ticker"}, "symbol: str_matches"),
]


@pytest.mark.parametrize(("table", "values", "reason"), CASES, ids=[f"{c[0]}-{c[2][:24]}" for c in CASES])
def test_check_fails_on_a_crafted_bad_row_and_names_it(clean, table, values, reason):
    spec = TABLES[table]
    good = clean[table]
    assert describe_failures(good, spec.schema.to_schema())[0] == 0
    bad = corrupt(good, 3, **values)
    failing, report = describe_failures(bad, spec.schema.to_schema())
    assert failing == 1
    assert "| 3 |" in report and reason in report

    outcome = validate_and_quarantine(bad, spec)
    assert len(outcome.valid) == len(good) - 1
    assert len(outcome.quarantined) == 1
    assert reason in outcome.quarantined["quarantine_reason"].iloc[0]


@pytest.mark.parametrize("table", list(TABLES))
def test_future_dated_rows_fail_the_partition_window(clean, table):
    spec = TABLES[table]
    good = clean[table]
    late = NEXT + pd.Timedelta(days=40)
    bad = corrupt(good, 0, **{spec.partition_column: late})
    schema = window_schema(spec, MONTH, NEXT + pd.Timedelta(days=7))
    failing, report = describe_failures(bad, schema)
    assert failing == 1 and "outside the partition" in report


@pytest.mark.parametrize("table", ["insider_trades", "prices", "etf_holdings"])
def test_duplicate_keys_are_rejected_but_exact_copies_are_just_counted(clean, table):
    spec = TABLES[table]
    good = clean[table]
    exact = pd.concat([good, good.iloc[[0, 1]]], ignore_index=True)
    outcome = validate_and_quarantine(exact, spec)
    assert outcome.duplicates_removed == 2 and len(outcome.valid) == len(good) and outcome.n_quarantined == 0

    clash = good.iloc[[0]].copy()
    numeric = "shares" if "shares" in clash else "close"
    clash[numeric] = clash[numeric] * 2  # same natural key, different content
    outcome = validate_and_quarantine(pd.concat([good, clash], ignore_index=True), spec)
    assert outcome.n_quarantined == 2  # both versions held back for review
    assert outcome.quarantined["quarantine_reason"].str.contains("uniqueness|unique").all()


def test_a_missing_column_is_a_frame_level_error(clean):
    spec = TABLES["insider_trades"]
    with pytest.raises(SchemaViolation, match="missing required columns.*transaction_code"):
        validate_and_quarantine(clean["insider_trades"].drop(columns=["transaction_code"]), spec)


def test_quarantine_keeps_the_original_values(clean):
    spec = TABLES["insider_trades"]
    bad = corrupt(clean["insider_trades"], 2, shares="lots")
    outcome = validate_and_quarantine(bad, spec)
    assert outcome.quarantined["shares"].iloc[0] == "lots"
    assert np.issubdtype(outcome.valid["shares"].dtype, np.floating)
