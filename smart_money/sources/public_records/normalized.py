"""The normalized layout: tables exported from any vendor, read as they are.

`<records folder>/normalized/<table>.csv` (or `.csv.gz`, `.csv.xz`, `.parquet`), or a folder
`normalized/<table>/` of such files, for `insider_trades`, `institutional_holdings`,
`congress_trades`, `etf_holdings`, `prices` and optionally `universe`. Columns are those of
the table's schema in `data/schemas.py` (extra columns are ignored; docs/normalized-layout.md
lists them). Dates are ISO 8601; a public date (`known_at`) without a time of day means the end of
that day (usable from the next session), one with a time is taken as New York time (a
time zone, if given, is converted to it).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from smart_money.data.normalize import end_of_day
from smart_money.sources.public_records.common import normalize_tickers, public_date

SUFFIXES = (".csv", ".csv.gz", ".csv.xz", ".parquet")
TABLES = ("insider_trades", "institutional_holdings", "congress_trades", "etf_holdings", "prices", "universe")
DATE_COLUMNS = ("event_date", "date", "member_from", "member_to")
SYMBOL_COLUMNS = ("symbol", "etf_symbol")


def files_for(folder: Path, table: str) -> list[Path]:
    """The files of `table` in a normalized folder (a single file or a sub-folder of files)."""
    single = [folder / f"{table}{suffix}" for suffix in SUFFIXES if (folder / f"{table}{suffix}").is_file()]
    nested = (
        sorted(p for p in (folder / table).glob("*") if p.name.endswith(SUFFIXES)) if (folder / table).is_dir() else []
    )
    return single + nested


def _read(path: Path) -> pd.DataFrame:
    if path.name.endswith(".parquet"):
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


def read(folder: Path, table: str) -> pd.DataFrame:
    """Every file of `table`, concatenated, dates and tickers normalized (empty if none)."""
    paths = files_for(folder, table)
    if not paths:
        return pd.DataFrame()
    frame = pd.concat([_read(p) for p in paths], ignore_index=True)
    for column in SYMBOL_COLUMNS:
        if column in frame:
            frame[column] = normalize_tickers(frame[column])
    for column in DATE_COLUMNS:
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], errors="coerce")
    if "known_at" in frame:
        frame["known_at"] = public_dates(frame["known_at"])
    return frame


def public_dates(values: pd.Series) -> pd.Series:
    """Public dates: a value at exactly midnight (a date written as a timestamp) counts as a
    date, i.e. the end of that day; other timestamps are kept."""
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = pd.to_datetime(values)
        if stamps.dt.tz is not None:
            stamps = stamps.dt.tz_convert("America/New_York").dt.tz_localize(None)
        midnight = stamps == stamps.dt.normalize()
        return stamps.where(~midnight, end_of_day(stamps))
    return public_date(values.astype("string"))
