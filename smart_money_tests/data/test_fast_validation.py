"""The cheaper validation (Text columns, str_matches per distinct value, RowChecks, exact
duplicates pre-compared on typed columns, no second pass after row-level failures) gives exactly
what pandera's plain schema and the two-pass quarantine gave, on clean rows and on bad ones."""

from __future__ import annotations

import copy
from collections import Counter

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.engines import pandas_engine
from pandera.errors import SchemaErrors

from smart_money.data import calendar as cal
from smart_money.data.quality import (
    QUARANTINE_REASON,
    drop_exact_duplicates,
    failure_reasons,
    validate_and_quarantine,
    window_schema,
    with_optional_columns,
)
from smart_money.data.schemas import SYMBOL_PATTERN, TABLES, UNIVERSE, RowCheck, Text, matches_per_value, or_all_null

MONTH = pd.Timestamp("2023-03-01")
START = cal.add_months(MONTH, -12)  # a year: enough congress trades to spoil
UPPER = cal.add_months(MONTH, 1) + pd.Timedelta(days=7)

SERIES = [
    pd.Series(["A", "BRK.B", "x"], dtype=object),
    pd.Series(["A", None, np.nan, pd.NA], dtype=object),
    pd.Series(["A", 1, 2.5, None], dtype=object),
    pd.Series([np.str_("A"), "B"], dtype=object),
    pd.Series([None, None], dtype=object),
    pd.Series([], dtype=object),
    pd.Series([1.0, np.nan]),
    pd.Series(["A", pd.NaT], dtype=object),
    pd.Series(["A", b"B"], dtype=object),
    pd.Series(["A", "B"], dtype="string"),
]


@pytest.mark.parametrize("series", SERIES, ids=range(len(SERIES)))
def test_text_coerces_and_checks_like_pandera_str(series):
    plain = pandas_engine.NpString()
    pd.testing.assert_series_equal(Text().coerce(series.copy()), plain.coerce(series.copy()), check_exact=True)
    assert [type(v) for v in Text().coerce(series.copy())] == [type(v) for v in plain.coerce(series.copy())]
    dtype = pandas_engine.Engine.dtype(series.dtype)
    assert list(Text().check(dtype, series)) == list(plain.check(dtype, series))
    assert str(Text()) == str(plain) == "str"


@pytest.mark.parametrize(
    "values",
    [["AAPL", "BRK.B", "AAPL", "not a ticker", "lower", "", "TOOLONGTICKER"], ["A", 12, None, "B"], ["A", "A"], []],
)
def test_str_matches_per_value_equals_the_builtin(values):
    series = pd.Series(values, dtype=object, index=np.arange(len(values)) * 3)
    expected = series.str.match(SYMBOL_PATTERN, na=False)
    pd.testing.assert_series_equal(matches_per_value(series, SYMBOL_PATTERN), expected, check_dtype=False)


def test_or_all_null_equals_pandera_ignore_na():
    frame = pd.DataFrame(
        {
            "a": [1.0, np.nan, np.nan, 4.0],
            "b": [None, None, "x", None],
            "c": pd.to_datetime([None, None, None, "2024"]),
        },
        index=[5, 5, 7, 9],
    )
    for ok in ([True, False, False, False], [False] * 4, [True] * 4):
        ok = pd.Series(ok, index=frame.index)
        pd.testing.assert_series_equal(or_all_null(ok, frame), ok | frame.isna().all(axis="columns"))


def plain_schema(schema: pa.DataFrameSchema) -> pa.DataFrameSchema:
    """The same schema in pandera's own terms: str columns, built-in str_matches, plain Checks."""
    plain = copy.deepcopy(schema)
    for column in plain.columns.values():
        if isinstance(column.dtype, Text):
            column.dtype = str
        column.checks = [
            pa.Check.str_matches(c.statistics["pattern"]) if c.name == "str_matches" else c for c in column.checks
        ]
    checks = []
    for check in plain.checks:
        check = copy.copy(check)
        if isinstance(check, RowCheck):
            check.__class__ = pa.Check
        checks.append(check)
    plain.checks = checks
    return plain


def two_pass_quarantine(frame, schema):
    """validate_and_quarantine as it was: plain drop_duplicates, validation until nothing fails."""
    work = with_optional_columns(frame, schema).reset_index(drop=True)
    before = len(work)
    work = work.drop_duplicates(ignore_index=True)
    duplicates = before - len(work)
    parts, counts = [], Counter()
    for _ in range(3):
        try:
            valid = schema.validate(work, lazy=True)
            break
        except SchemaErrors as exc:
            reasons = failure_reasons(exc.failure_cases)
            bad_index = sorted(reasons)
            bad = work.loc[bad_index].copy()
            bad[QUARANTINE_REASON] = ["; ".join(reasons[i]) for i in bad_index]
            for i in bad_index:
                counts.update(reasons[i])
            parts.append(bad)
            work = work.drop(index=bad_index).reset_index(drop=True)
    quarantined = pd.concat(parts, ignore_index=True) if parts else None
    return valid[list(schema.columns)].reset_index(drop=True), quarantined, duplicates, counts


def spoil(frame: pd.DataFrame, table: str, typed: bool = False) -> pd.DataFrame:
    """Bad rows of many kinds, exact copies and a key clash; `typed`: the columns keep their
    types (one validation pass suffices), else every column arrives as objects."""
    bad = frame.copy()
    for column in bad.columns:
        if bad[column].dtype != object and not typed:
            bad[column] = bad[column].astype(object)
    number = "close" if table == "prices" else "shares"
    date = TABLES[table].partition_column
    bad.loc[1, "symbol"] = "not a ticker"
    bad.loc[2, number] = -5.0
    bad.loc[3, date] = UPPER + pd.Timedelta(days=40)
    bad.loc[4, "symbol"] = None
    bad.loc[5, number] = 0.0
    bad.loc[6, "symbol"] = 12345
    if table != "prices":
        bad.loc[7, "event_date"] = bad.loc[7, "known_at"] + pd.Timedelta(days=5)
    else:
        bad.loc[7, ["high", "low"]] = [1.0, 2.0]
    clash = bad.iloc[[9]].copy()
    clash[number] = 123456.0
    return pd.concat([bad, bad.iloc[[10, 11]], clash], ignore_index=True)


@pytest.fixture(scope="module")
def received(small_source) -> dict[str, pd.DataFrame]:
    symbols = small_source.universe()["symbol"].tolist()
    return {table: small_source.fetch(table, symbols, START, cal.add_months(MONTH, 1)).frame for table in TABLES}


@pytest.mark.parametrize("table", list(TABLES))
@pytest.mark.parametrize("spoiled", [None, "typed", "objects"], ids=["clean", "bad rows", "bad rows as objects"])
def test_quarantine_equals_the_plain_two_pass_validation(received, table, spoiled):
    spec = TABLES[table]
    frame = spoil(received[table], table, typed=spoiled == "typed") if spoiled else received[table]
    outcome = validate_and_quarantine(frame, spec, START, UPPER)
    valid, quarantined, duplicates, counts = two_pass_quarantine(frame, plain_schema(window_schema(spec, START, UPPER)))
    pd.testing.assert_frame_equal(outcome.valid, valid, check_exact=True)
    if quarantined is None:
        assert outcome.n_quarantined == 0
    else:
        pd.testing.assert_frame_equal(outcome.quarantined, quarantined, check_exact=True)
    assert outcome.duplicates_removed == duplicates and outcome.reason_counts == counts
    if spoiled:
        assert outcome.n_quarantined >= 6


@pytest.mark.parametrize("table", [*TABLES, "universe"])
def test_failure_cases_equal_the_plain_schema(received, small_source, table):
    if table == "universe":
        schema, frame = UNIVERSE.schema.to_schema(), small_source.universe()
    else:
        schema, frame = window_schema(TABLES[table], START, UPPER), spoil(received[table], table)
    frame = with_optional_columns(frame, schema).reset_index(drop=True)
    outcomes = []
    for candidate in (schema, plain_schema(schema)):
        try:
            outcomes.append(candidate.validate(frame.copy(), lazy=True))
        except SchemaErrors as exc:
            outcomes.append(exc.failure_cases)
    pd.testing.assert_frame_equal(outcomes[0], outcomes[1], check_exact=True)


def test_exact_duplicates_equal_drop_duplicates(received):
    for frame in received.values():
        doubled = pd.concat([frame, frame.iloc[::7], frame.iloc[::11]], ignore_index=True)
        near = doubled.iloc[::13].copy()
        near[near.columns[0]] = "changed"
        doubled = pd.concat([doubled, near], ignore_index=True)
        for case in (frame, doubled, doubled.astype(object)):
            pd.testing.assert_frame_equal(drop_exact_duplicates(case), case.drop_duplicates(ignore_index=True))
