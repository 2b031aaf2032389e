"""Yahoo-style daily price CSVs, one file per ticker (`<TICKER>.csv`, `<TICKER>.csv.xz`,
`<TICKER>_<anything>.csv[.xz]`), columns Date, Open, High, Low, Close, Adj Close, Volume ->
`prices`.

Yahoo's `Close` is adjusted for splits (as of the download), `Adj Close` also for dividends.
The table takes `Close` as `close` and `Adj Close` as `adj_close` (labels and returns use
adj_close, one series from one download). `close` is therefore on the download's split basis,
not as traded: the source restates insider and 13F share counts onto that basis.

Some archived files are dirty: `null` rows, dates repeated with different volumes, Yahoo error
JSON appended at the end. Only lines that start with a date are read, `null` rows are dropped
and a repeated date keeps its first row (all counted). Files without an `Adj Close` column are
not Yahoo-style and are not read.
"""

from __future__ import annotations

import io
import lzma
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from smart_money.data.schemas import TABLES

DATE_LINE = re.compile(r"^\d{4}-\d{2}-\d{2},")
TABLE = "prices"
COLUMNS = TABLES[TABLE].columns
NAMES = {
    "Date": "date",
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Adj Close": "adj_close",
    "Volume": "volume",
}


def symbol_of(path: Path) -> str:
    """'MSFT.csv.xz' -> 'MSFT'; 'SPY_noahrubin989.csv' -> 'SPY'; 'BRK-B.csv' -> 'BRK-B'."""
    stem = path.name.split(".csv")[0]
    return stem.split("_")[0].upper()


def _text(path: Path) -> str:
    if path.name.endswith(".xz"):
        with lzma.open(path, "rt") as handle:
            return handle.read()
    return path.read_text()


def is_yahoo_style(path: Path) -> bool:
    """Whether the file's header has the Yahoo columns (Date ... Adj Close ... Volume)."""
    opener = lzma.open if path.name.endswith(".xz") else open
    with opener(path, "rt") as handle:  # type: ignore[operator]
        header = handle.readline().strip().split(",")
    return {"Date", "Close", "Adj Close"} <= set(header)


def date_span(path: Path) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last dates with a price (a scan of the text, no parsing): the listing span."""
    lines = [line for line in _text(Path(path)).splitlines() if DATE_LINE.match(line) and ",null" not in line]
    if not lines:
        return None
    return pd.Timestamp(lines[0][:10]), pd.Timestamp(max(line[:10] for line in lines[-50:]))


def extract(path: Path) -> tuple[pd.DataFrame, Counter]:
    """The file's data rows (`null` cells as NaN) and what was skipped. Clean files go through
    pandas' C parser directly; a file with lines that are not data is filtered line by line."""
    counts: Counter = Counter()
    try:
        raw = pd.read_csv(path, na_values=["null"], keep_default_na=True, dtype={"Date": str})
        if raw["Date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all():
            return raw, counts
    except (pd.errors.ParserError, KeyError, ValueError):
        pass
    lines = _text(Path(path)).splitlines()
    header, body = lines[0], lines[1:]
    data = [line for line in body if DATE_LINE.match(line)]
    counts["non_data_lines_skipped"] += len(body) - len(data)
    raw = pd.read_csv(
        io.StringIO("\n".join([header, *data])), na_values=["null"], keep_default_na=True, dtype={"Date": str}
    )
    return raw, counts


def transform(raw: pd.DataFrame, symbol: str, counts: Counter | None = None) -> tuple[pd.DataFrame, Counter]:
    counts = Counter(counts or {})
    missing = [c for c in NAMES if c not in raw.columns]
    if missing:
        raise ValueError(f"{symbol}: not a Yahoo-style price file (missing {missing})")
    frame = raw[list(NAMES)].rename(columns=NAMES)
    for column in ("open", "high", "low", "close", "adj_close", "volume"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    nulls = frame["close"].isna() & frame["adj_close"].isna()
    counts["null_rows_dropped"] += int(nulls.sum())
    frame = frame[~nulls]
    repeated = frame["date"].duplicated()
    counts["repeated_dates_dropped"] += int(repeated.sum())
    frame = frame[~repeated]
    out = frame.assign(
        symbol=symbol, date=pd.to_datetime(frame["date"], format="%Y-%m-%d", errors="coerce"), shares_outstanding=np.nan
    )
    return out[COLUMNS].reset_index(drop=True), counts  # Yahoo's daily files carry no shares outstanding


def read(path: Path, symbol: str | None = None) -> tuple[pd.DataFrame, Counter]:
    raw, counts = extract(path)
    return transform(raw, symbol or symbol_of(Path(path)), counts)
