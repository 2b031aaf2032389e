"""The normalized layout: tables exported from any vendor, read as they are.

`<records folder>/normalized/<table>.csv` (or `.csv.gz`, `.csv.xz`, `.parquet`), or a folder
`normalized/<table>/` of such files, for `insider_trades`, `institutional_holdings`,
`congress_trades`, `etf_holdings`, `prices` and optionally `universe`. Columns are those of
the table's schema in `data/schemas.py` (extra columns are ignored; docs/normalized-layout.md
lists them). Dates are ISO 8601; a public date (`known_at`) without a time of day means the end of
that day (usable from the next session), one with a time is taken as New York time (a
time zone, if given, is converted to it). Each file is typed by the schema, CSV and Parquet
alike: numbers as float64, dates as datetime64, flags (true/false, 1/0, yes/no) as boolean, the
rest as text; a row with a value that is not of its column's type is quarantined with the file,
column and value named, and a file that cannot be read or lacks a required column is set aside
whole.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from smart_money.data.normalize import end_of_day
from smart_money.data.schemas import TABLES, UNIVERSE, TableSpec
from smart_money.sources.public_records.common import (
    Parsed,
    normalize_tickers,
    public_date,
    read_or_set_aside,
    rejected_rows,
    require_columns,
)

SUFFIXES = (".csv", ".csv.gz", ".csv.xz", ".parquet")
SPECS: dict[str, TableSpec] = {**TABLES, UNIVERSE.name: UNIVERSE}
SYMBOL_COLUMNS = ("symbol", "etf_symbol")
PUBLIC_DATE = "known_at"
NEW_YORK = "America/New_York"
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "1.0"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "0.0"})


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


def read(folder: Path, table: str) -> Parsed:
    """Every file of `table`, typed by the schema (rows with untypable values rejected, files
    that cannot be read set aside), tickers normalized; an empty frame if there is none."""
    bad: list = []
    parts = [
        part
        for path in files_for(folder, table)
        if (part := read_or_set_aside(path, table, lambda p: typed(_read(p), table, _shown(folder, p)), bad))
        is not None
    ]
    parsed = Parsed.concat(parts)
    parsed.bad_files += bad
    return parsed


def _shown(folder: Path, path: Path) -> str:
    return f"normalized/{path.relative_to(folder)}"


def typed(raw: pd.DataFrame, table: str, file: str = "normalized") -> Parsed:
    """`raw` (one file, as read) with every schema column of its type: float64, datetime64[ns]
    (New York time, tz-naive), boolean or text (object, None when missing). Rows holding a value
    that does not convert are rejected with the file, column and value named."""
    spec = SPECS[table]
    raw = require_columns(raw, spec.required_columns, f"a normalized {table} table").reset_index(drop=True)
    frame = raw.copy()
    problems = pd.Series("", index=raw.index, dtype=object)
    for name, column in spec.schema.to_schema().columns.items():
        if name not in frame:
            continue
        values = frame[name]
        kind = str(column.dtype)
        if name == PUBLIC_DATE:
            converted, wanted = public_dates(values), "a date or timestamp (ISO 8601)"
        elif kind.startswith("datetime64"):
            converted, wanted = _dates(values), "a date (ISO 8601)"
        elif kind.startswith("float"):
            converted, wanted = _numbers(values), "a number"
        elif kind == "boolean":
            converted, wanted = _flags(values), "true or false"
        else:
            converted, wanted = _texts(values), "text"
        if name in SYMBOL_COLUMNS:
            converted = normalize_tickers(converted).astype(object).where(lambda s: s.notna(), None)
        given = values.notna() & (values.astype("string").str.strip().fillna("") != "")
        failed = given & converted.isna()
        if failed.any():
            problems[failed] += [f"{name} {v!r} is not {wanted}; " for v in values[failed]]
        frame[name] = converted
    bad = problems != ""
    parsed = Parsed(frame[~bad].reset_index(drop=True))
    if bad.any():
        reasons = f"{table}: {file}: " + problems[bad].str.rstrip("; ")
        symbols = raw["symbol"] if "symbol" in raw else None
        parsed.rejected = rejected_rows(raw, bad, "", symbols).assign(quarantine_reason=reasons.to_numpy())
    return parsed


def _texts(values: pd.Series) -> pd.Series:
    """Text, with integral numbers written without a decimal point (a CIK read as 320193.0)."""
    if pd.api.types.is_float_dtype(values):
        integral = values.notna() & (values == values.round())
        text = values.astype("string").mask(integral, values[integral].astype("Int64").astype("string"))
    else:
        text = values.astype("string").str.strip()
    text = text.mask(text == "")
    return text.astype(object).where(text.notna(), None)


def _numbers(values: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    return pd.to_numeric(values.astype("string").str.strip(), errors="coerce").astype("float64")


def _flags(values: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean")
    text = values.astype("string").str.strip().str.lower()
    return pd.Series(
        [True if t in TRUE_WORDS else False if t in FALSE_WORDS else pd.NA for t in text.fillna("")],
        index=values.index,
        dtype="boolean",
    )


def _new_york(stamps: pd.Series) -> pd.Series:
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert(NEW_YORK).dt.tz_localize(None)
    return stamps.astype("datetime64[ns]")


def _dates(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return _new_york(pd.to_datetime(values))
    text = values.astype("string").str.strip()
    try:
        return _new_york(pd.to_datetime(text, errors="coerce", format="ISO8601"))
    except (ValueError, TypeError):  # mixed time zones: each value on its own, in UTC
        return _new_york(pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True))


def public_dates(values: pd.Series) -> pd.Series:
    """Public dates: a value at exactly midnight (a date written as a timestamp) counts as a
    date, i.e. the end of that day; other timestamps are kept."""
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = _new_york(pd.to_datetime(values))
        midnight = stamps == stamps.dt.normalize()
        return stamps.where(~midnight, end_of_day(stamps))
    return public_date(values.astype("string"))
