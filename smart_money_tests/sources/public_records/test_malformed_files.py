"""Files that cannot be read are set aside by name and the rest of the folder is read (a Senate
export with an unterminated quote, a ragged OpenInsider screen, a price file with a 0xFF byte, a
truncated .xz); the normalized layout is typed by the schema, CSV and Parquet alike, table by
table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from smart_money.data.raw_pull import pull_raw
from smart_money.data.schemas import TABLES, UNIVERSE
from smart_money.sources.public_records import PublicRecordsSource
from smart_money.sources.public_records import normalized as layout
from smart_money_tests.support.public_records import (
    BAD_BYTE_PRICES,
    BROKEN_SENATE,
    RAGGED_SCREEN,
    TRUNCATED_PRICES,
    tickers,
    write_malformed,
    write_records,
)

FIRST, END = pd.Timestamp("2019-01-01"), pd.Timestamp("2021-10-01")


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> tuple[Path, Path]:
    clean = write_records(tmp_path_factory.mktemp("clean"))
    broken = write_malformed(write_records(tmp_path_factory.mktemp("broken")))
    return clean, broken


def named(files) -> dict[str, str]:
    return {f.file: f.reason for f in files}


def test_unreadable_price_files_are_set_aside_and_the_universe_is_built_without_them(folders):
    clean, broken = (PublicRecordsSource(f) for f in folders)
    assert broken.universe()["symbol"].tolist() == clean.universe()["symbol"].tolist()  # BADFF, TRUNC left out
    problems = named(broken.quarantined_files())
    assert "byte 0xff" in problems[BAD_BYTE_PRICES] and "UnicodeDecodeError" in problems[BAD_BYTE_PRICES]
    assert "Compressed file ended before the end-of-stream marker" in problems[TRUNCATED_PRICES]
    prices = broken.fetch("prices", ["T03", "BADFF"], FIRST, END)
    assert set(prices.frame["symbol"]) == {"T03"} and set(named(prices.quarantined_files)) == {
        BAD_BYTE_PRICES,
        TRUNCATED_PRICES,
    }


def test_a_malformed_senate_export_is_set_aside_by_name_and_the_other_exports_are_read(folders):
    clean, broken = (PublicRecordsSource(f) for f in folders)
    symbols = [*tickers(), "T20", "T21", "T22", "BRK-B"]
    ok = clean.fetch("congress_trades", symbols, FIRST, END)
    result = broken.fetch("congress_trades", symbols, FIRST, END)
    pd.testing.assert_frame_equal(result.frame, ok.frame)  # the good files' rows, all of them
    assert named(result.quarantined_files) == {
        BROKEN_SENATE: "ParserError: Error tokenizing data. C error: EOF inside string starting at row 3"
    }
    assert result.stats["files_set_aside"] == 1
    pull = pull_raw(broken, "congress_trades", symbols, [pd.Timestamp("2020-06-01")], pd.Timestamp("2020-06-01"))
    metadata = pull.metadata()
    assert metadata["files_quarantined"] == 1 and metadata["quarantined_files"][0]["file"] == BROKEN_SENATE
    assert metadata["rows"] > 0


def test_a_ragged_openinsider_screen_is_set_aside_by_name(folders):
    clean, broken = (PublicRecordsSource(f) for f in folders)
    ok = clean.fetch("insider_trades", tickers(), FIRST, END)
    result = broken.fetch("insider_trades", tickers(), FIRST, END)
    pd.testing.assert_frame_equal(result.frame, ok.frame)
    reason = named(result.quarantined_files)[RAGGED_SCREEN]
    assert reason == "ParserError: Error tokenizing data. C error: Expected 14 fields in line 4, saw 16"


def test_a_price_file_damaged_after_the_universe_was_built_becomes_a_named_gap(tmp_path):
    root = write_records(tmp_path)
    source = PublicRecordsSource(root)
    assert "T04" in set(source.universe()["symbol"])
    damaged = root / "prices" / "yahoo" / "data" / "T04.csv"
    damaged.write_bytes(damaged.read_bytes()[:2000] + b"\xff\xfe" + damaged.read_bytes()[2000:])
    result = source.fetch("prices", ["T03", "T04"], FIRST, END)
    assert set(result.frame["symbol"]) == {"T03"}
    assert [(g.symbol, g.reason) for g in result.gaps] == [
        ("T04", "its price file prices/yahoo/data/T04.csv is unreadable (set aside)")
    ]
    assert [f.file for f in result.quarantined_files] == ["prices/yahoo/data/T04.csv"]


# -- the normalized layout, typed by the schema -----------------------------------------------------------
KINDS = {"float64": "float64", "boolean": "boolean"}


def expected_dtype(column) -> str:
    kind = str(column.dtype)
    return "datetime64[ns]" if kind.startswith("datetime64") else KINDS.get(kind, "object")


def table_rows(small_source, table: str) -> pd.DataFrame:
    universe = small_source.universe()
    if table == "universe":
        return universe
    stocks = universe.loc[universe["asset_type"] == "stock", "symbol"].head(6).tolist()
    frame = small_source.fetch(table, [*stocks, "SPY"], pd.Timestamp("2022-01-01"), pd.Timestamp("2022-07-01")).frame
    if table == "insider_trades":  # the optional flags as a vendor writes them
        frame = frame.assign(plan_10b5_1=[(True, False, None)[i % 3] for i in range(len(frame))])
    return frame


def write_layout(folder: Path, table: str, frame: pd.DataFrame, prices: pd.DataFrame, fmt: str) -> None:
    target = folder / "normalized"
    target.mkdir(parents=True, exist_ok=True)
    for name, rows in {"prices": prices, table: frame}.items():
        if fmt == "parquet":
            rows.to_parquet(target / f"{name}.parquet", index=False)
        else:
            rows.to_csv(target / f"{name}.csv", index=False)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("table", [*TABLES, "universe"])
def test_the_normalized_layout_is_typed_by_the_schema(small_source, tmp_path, table, fmt):
    prices = table_rows(small_source, "prices")
    frame = table_rows(small_source, table)
    assert len(frame) > 0
    write_layout(tmp_path, table, frame, prices, fmt)
    parsed = layout.read(tmp_path / "normalized", table)
    spec = UNIVERSE if table == "universe" else TABLES[table]
    columns = spec.schema.to_schema().columns
    assert parsed.rejected.empty and not parsed.bad_files
    for name in frame.columns.intersection(list(columns)):
        assert str(parsed.frame[name].dtype) == expected_dtype(columns[name]), (table, fmt, name)
    # the whole source path, share restatement included (CSV text once failed there)
    source = PublicRecordsSource(tmp_path)
    if table == "universe":
        assert set(source.universe()["symbol"]) == set(frame["symbol"])
        return
    symbols = sorted(frame["symbol"].unique())
    result = source.fetch(table, symbols, pd.Timestamp("2021-01-01"), pd.Timestamp("2022-07-01"))
    assert len(result.frame) == len(frame) and not result.quarantined_files
    if "shares" in frame:  # restated onto the normalized prices' basis (closes found for most rows)
        assert result.frame["shares"].dtype == "float64" and (result.frame["shares"] > 0).all()
        assert result.stats.get("price_basis_unknown", 0) < len(frame)
    for name in ("close", "amount_low"):
        if name in frame:
            assert result.frame[name].dtype == "float64"
            assert sorted(result.frame[name]) == pytest.approx(sorted(frame[name]))


def test_a_value_of_the_wrong_type_quarantines_its_row_naming_file_column_and_value(small_source, tmp_path):
    frame = table_rows(small_source, "insider_trades").astype({"shares": object, "event_date": object})
    frame.loc[0, "shares"] = "lots"
    frame.loc[1, "event_date"] = "yesterday"
    write_layout(tmp_path, "insider_trades", frame, table_rows(small_source, "prices"), "csv")
    parsed = layout.read(tmp_path / "normalized", "insider_trades")
    assert len(parsed.frame) == len(frame) - 2
    assert sorted(parsed.rejected["quarantine_reason"]) == [
        "insider_trades: normalized/insider_trades.csv: event_date 'yesterday' is not a date (ISO 8601)",
        "insider_trades: normalized/insider_trades.csv: shares 'lots' is not a number",
    ]
    (tmp_path / "normalized" / "congress_trades.csv").write_text("symbol,known_at\nT01,2020-01-02\n")
    missing = layout.read(tmp_path / "normalized", "congress_trades")
    assert missing.frame.empty and "no column 'event_date'" in missing.bad_files[0].reason
