"""SEC Form 4 transactions as JSON (the sec-form4-api layout: `data/json/<TICKER>/quarterly/
<YYYY>-Q<n>.json`, each `{"ticker", "year", "quarter", "transactions": [...]}`; read straight
from a .tar.xz or from a folder) -> `insider_trades`.

Transaction fields: id, issuer_name, reporting_owner, reporting_owner_cik,
reporting_owner_position, transaction_date, transaction_shares, transaction_price,
transaction_type (the SEC code), shares_after_transaction.

The files have NO filing date. A Form 4 is due two SEC business days after the transaction
(federal holidays off), so known_at = that deadline (end of day): the earliest moment the line
was surely public for a filer on time. A late filer was public later than this, so these rows
can be a few days early: the assumption is counted (`known_at_from_deadline`) and stated in the
docs. The same transaction appears under several ids and files: rows are deduplicated on
(ticker, owner CIK, date, shares, price, code, shares after). Codes that can go either way
(gifts G, wills W, discretionary I, voluntary V, expirations E, other J, swaps K, trusts Z) are
quarantined with the reason rather than guessed: the file does not say acquired or disposed.
Only the quarter files that can hold the requested window are parsed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from smart_money.data.normalize import form4_code, insider_role
from smart_money.data.schemas import TABLES
from smart_money.sources.public_records.common import (
    Parsed,
    deadline,
    json_members,
    normalize_tickers,
    numbers,
    parse_dates,
    read_json_member,
    rejected_rows,
    stable_ids,
)

FILING_DEADLINE_BUSINESS_DAYS = 2
QUARTER_FILE = re.compile(
    r"(?:^|/)json/(?P<ticker>[^/]+)/quarterly/(?P<year>\d{4})(?:\.0)?-Q(?P<quarter>\d)(?:\.0)?\.json$"
)
# Acquired (A) or disposed (D) by the SEC's definition of each code (Form 4, General
# Instructions 8). Codes that can go either way are absent: the file does not say which.
DIRECTION = {
    "P": "A",
    "A": "A",
    "M": "A",
    "C": "A",
    "X": "A",
    "O": "A",
    "L": "A",
    "S": "D",
    "D": "D",
    "F": "D",
    "U": "D",
    "H": "D",
}
KEY = ["symbol", "reporting_cik", "event_date", "shares", "price", "transaction_code", "shares_owned_after"]
TABLE = "insider_trades"
COLUMNS = TABLES[TABLE].required_columns  # the files state none of the optional ones


def _quarter_index(day: pd.Timestamp) -> int:
    return day.year * 4 + (day.month - 1) // 3


def extract(
    path: Path, first: pd.Timestamp | None = None, last: pd.Timestamp | None = None, bad: list | None = None
) -> pd.DataFrame:
    """Every transaction of the quarter files that can hold [first, last] (all when None; a file
    may hold a few transactions dated a quarter off its name), with its folder's ticker, as
    strings. A quarter file that is not valid JSON is set aside (added to `bad`)."""
    lo = -1 if first is None else _quarter_index(first) - 1
    hi = 1 << 30 if last is None else _quarter_index(last) + 1
    rows: list[dict] = []
    for name, read_bytes in json_members(Path(path)):
        match = QUARTER_FILE.search(name)
        if not match or not lo <= int(match["year"]) * 4 + int(match["quarter"]) - 1 <= hi:
            continue
        payload = read_json_member(path, name, read_bytes, TABLE, bad)
        for row in payload.get("transactions", []) if payload is not None else []:
            rows.append({**row, "ticker": match["ticker"], "file": name})
    return (
        pd.DataFrame.from_records(rows).astype("string")
        if rows
        else pd.DataFrame(columns=["ticker", "transaction_date"])
    )


def transform(raw: pd.DataFrame) -> Parsed:
    parsed = Parsed(pd.DataFrame(columns=COLUMNS))
    if raw.empty:
        return parsed
    symbols = normalize_tickers(raw["ticker"])
    lines = pd.DataFrame(
        {
            "symbol": symbols,
            "event_date": parse_dates(raw["transaction_date"]),
            "reporting_cik": raw["reporting_owner_cik"].astype("string").str.strip(),
            "reporting_name": raw["reporting_owner"],
            "type_of_owner": raw["reporting_owner_position"],
            "transaction_code": raw["transaction_type"].map(form4_code),
            "shares": numbers(raw["transaction_shares"]),
            "price": numbers(raw["transaction_price"]),
            "shares_owned_after": numbers(raw["shares_after_transaction"]),
        }
    )
    no_ticker = symbols.isna() | (raw["ticker"].str.strip() == "-")
    parsed.counts["rows_without_ticker"] += int(no_ticker.sum())
    lines, raw = lines[~no_ticker], raw[~no_ticker]
    before = len(lines)
    keep = ~lines.duplicated(KEY)
    lines, raw = lines[keep], raw[keep]
    parsed.counts["duplicate_rows_dropped"] += before - len(lines)

    direction = lines["transaction_code"].map(DIRECTION)
    problems = [
        (lines["event_date"].isna(), "insider_trades: transaction date missing, unparseable or implausible"),
        (
            direction.isna() & lines["event_date"].notna(),
            "insider_trades: the code does not fix acquired/disposed and the file does not state it",
        ),
    ]
    rejected = []
    bad = pd.Series(False, index=lines.index)
    for mask, reason in problems:
        mask = mask & ~bad
        if mask.any():
            rejected.append(rejected_rows(raw, mask, reason, lines["symbol"]))
        bad |= mask
    if rejected:
        parsed.rejected = pd.concat(rejected, ignore_index=True)
    lines = lines[~bad].copy()
    lines["acquisition_or_disposition"] = direction[~bad]
    lines["known_at"] = deadline(lines["event_date"], business_days=FILING_DEADLINE_BUSINESS_DAYS)
    parsed.counts["known_at_from_deadline"] += int(len(lines))
    lines["role"] = lines["type_of_owner"].map(insider_role)
    lines["form_type"] = "4"
    lines["amends_record_id"] = None
    lines["record_id"] = stable_ids(lines, KEY, "f4-")
    parsed.frame = lines[COLUMNS].reset_index(drop=True)
    return parsed


def read(path: Path, first: pd.Timestamp | None = None, last: pd.Timestamp | None = None) -> Parsed:
    bad: list = []
    parsed = transform(extract(path, first, last, bad))
    parsed.bad_files += bad
    return parsed
