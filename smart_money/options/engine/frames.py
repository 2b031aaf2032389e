"""Normalizing input tables into the typed frames the engine reads, and reading them from files.

Files may be CSV, Parquet or JSON lines; timestamps are ISO-8601 strings (an offset or `Z`;
naive ones are taken as UTC) or integer epoch nanoseconds. Column names are those of the
pandera models in `contracts` (docs/options-flow.md, "Scoring files").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from smart_money.options.engine import conditions as cond
from smart_money.options.engine.contracts import (
    CalendarFrame,
    PrintsFrame,
    QuotesFrame,
    UnderlyingFrame,
)


def read_table(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix in (".jsonl", ".ndjson", ".json"):
        return pd.read_json(path, lines=suffix != ".json", dtype=False)
    if suffix in (".csv", ".gz"):
        return pd.read_csv(path, keep_default_na=True, dtype={"condition": str, "print_id": str, "venue": str})
    raise ValueError(f"{path}: unsupported file type {suffix!r} (use .csv, .parquet or .jsonl)")


def utc(values: pd.Series) -> pd.Series:
    """Timestamps as tz-aware UTC nanoseconds; integers are epoch nanoseconds."""
    if pd.api.types.is_integer_dtype(values):
        return pd.to_datetime(values, unit="ns", utc=True)
    out = (
        pd.to_datetime(values, utc=True, format="ISO8601")
        if values.dtype == object
        else pd.to_datetime(values, utc=True)
    )
    return out.dt.as_unit("ns")


def _dates(values: pd.Series) -> pd.Series:
    """Expiry dates as midnight timestamps (a zoned value is read in New York time)."""
    stamps = pd.to_datetime(values)
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_convert("America/New_York").dt.tz_localize(None)
    return stamps.dt.normalize().dt.as_unit("ns")


DICTIONARY_COLUMNS = ("underlying", "venue", "condition", "right")


def _validated(frame: pd.DataFrame, model: type[pa.DataFrameModel]) -> pd.DataFrame:
    """Validate, then dictionary-encode the repetitive name columns (as Parquet/Arrow would):
    the engine maps names to codes once per distinct name, not once per row. Option prints and
    quotes also get their `contract` (see `contract_names`)."""
    out = model.validate(frame, lazy=True).reset_index(drop=True)
    for column in DICTIONARY_COLUMNS:
        if column in out:
            out[column] = out[column].astype("category")
    if "strike" in out:
        out["contract"] = contract_names(out)
    return out


def normalize_prints(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["ts"] = utc(out["ts"])
    out["expiry"] = _dates(out["expiry"])
    out["print_id"] = out["print_id"].astype(str)
    out["right"] = out["right"].astype(str).str.upper().str[0]
    out["condition"] = [cond.normalize(c) for c in out["condition"]] if "condition" in out else cond.REGULAR
    if "multiplier" not in out:
        out["multiplier"] = 100
    out["multiplier"] = out["multiplier"].fillna(100).astype(np.int64)
    if "ref_print_id" not in out:
        out["ref_print_id"] = None
    out["ref_print_id"] = out["ref_print_id"].astype(object).where(out["ref_print_id"].notna(), None)
    out["venue"] = out["venue"].astype(str)
    return _validated(out, PrintsFrame)


def normalize_quotes(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["ts"] = utc(out["ts"])
    out["expiry"] = _dates(out["expiry"])
    out["right"] = out["right"].astype(str).str.upper().str[0]
    return _validated(out, QuotesFrame)


def normalize_underlying(frame: pd.DataFrame | None) -> pd.DataFrame:
    if frame is None:
        return empty_underlying()
    out = frame.copy()
    out["ts"] = utc(out["ts"])
    return _validated(out, UnderlyingFrame)


def normalize_calendar(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """None stays None: no calendar at all (event alignment features become null)."""
    if frame is None:
        return None
    out = frame.copy()
    out["announced_ts"] = utc(out["announced_ts"])
    out["event_ts"] = utc(out["event_ts"])
    return _validated(out, CalendarFrame)


@dataclass
class NormalizedTape:
    """Validated engine inputs: prints, option NBBO, underlying quotes, calendar (or None)."""

    prints: pd.DataFrame
    quotes: pd.DataFrame
    underlying: pd.DataFrame
    calendar: pd.DataFrame | None

    @classmethod
    def of(cls, tape) -> NormalizedTape:
        """From any object with raw prints/quotes/underlying/calendar frames."""
        return cls(
            normalize_prints(tape.prints),
            normalize_quotes(tape.quotes),
            normalize_underlying(tape.underlying),
            normalize_calendar(tape.calendar),
        )

    @classmethod
    def empty(cls) -> NormalizedTape:
        """No data (a closed market day): typed zero-row frames, no calendar."""
        return cls(
            normalize_prints(empty_prints()),
            normalize_quotes(empty_quotes()),
            normalize_underlying(empty_underlying()),
            None,
        )

    @classmethod
    def from_files(
        cls,
        prints: str | Path,
        quotes: str | Path,
        underlying: str | Path | None = None,
        calendar: str | Path | None = None,
    ) -> NormalizedTape:
        return cls(
            normalize_prints(read_table(prints)),
            normalize_quotes(read_table(quotes)),
            normalize_underlying(read_table(underlying) if underlying else None),
            normalize_calendar(read_table(calendar) if calendar else None),
        )


def empty_prints() -> pd.DataFrame:
    return pd.DataFrame(
        {
            **{c: pd.Series(dtype=object) for c in ("print_id", "underlying", "right", "venue", "condition")},
            "ts": pd.Series(dtype="datetime64[ns, UTC]"),
            "expiry": pd.Series(dtype="datetime64[ns]"),
            "strike": pd.Series(dtype=float),
            "price": pd.Series(dtype=float),
            "size": pd.Series(dtype=np.int64),
        }
    )


def empty_quotes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": pd.Series(dtype="datetime64[ns, UTC]"),
            "underlying": pd.Series(dtype=object),
            "expiry": pd.Series(dtype="datetime64[ns]"),
            "strike": pd.Series(dtype=float),
            "right": pd.Series(dtype=object),
            "bid": pd.Series(dtype=float),
            "ask": pd.Series(dtype=float),
        }
    )


def empty_underlying() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ts": pd.Series(dtype="datetime64[ns, UTC]"),
            "underlying": pd.Series(dtype=object),
            "bid": pd.Series(dtype=float),
            "ask": pd.Series(dtype=float),
        }
    )


_EPOCH_DAY_2000 = 10_957  # 2000-01-01 in days since 1970
_DAY_NS = 86_400 * 1_000_000_000


def contract_keys(frame: pd.DataFrame, und_code: np.ndarray) -> np.ndarray:
    """An exact int64 per (underlying, expiry, strike, right): 20 bits underlying code, 15 bits
    expiry day since 2000, 27 bits strike in thousandths, 1 bit call; -1 for unknown names."""
    day = frame["expiry"].to_numpy(dtype="datetime64[ns]").view(np.int64) // _DAY_NS - _EPOCH_DAY_2000
    strike = np.rint(frame["strike"].to_numpy(dtype=float) * 1000).astype(np.int64)
    if len(day) and (day.min() < 0 or day.max() >= 1 << 15 or strike.max() >= 1 << 27 or und_code.max() >= 1 << 20):
        raise ValueError("expiry, strike or number of underlyings outside the supported range")
    right = frame["right"]
    if isinstance(right.dtype, pd.CategoricalDtype):  # one comparison per category
        call = np.append(np.asarray(right.cat.categories) == "C", False)[right.cat.codes.to_numpy()].astype(np.int64)
    else:
        call = (right.to_numpy() == "C").astype(np.int64)
    key = (und_code.astype(np.int64) << 43) | (day << 28) | (strike << 1) | call
    return np.where(und_code >= 0, key, -1)


def contract_names(frame: pd.DataFrame) -> pd.Categorical:
    """Each row's option contract as one dictionary-encoded name, `UNDERLYING YYYY-MM-DD C|P
    STRIKE` (like the OSI symbol a feed carries on every quote): equal names are exactly equal
    (underlying, expiry, right, strike in thousandths). Built once per distinct contract."""
    underlying = frame["underlying"].astype("category")
    keys = contract_keys(frame, underlying.cat.codes.to_numpy())
    codes, uniques = pd.factorize(keys)
    names = np.asarray(underlying.cat.categories, dtype=object)[uniques >> 43]
    days = ((uniques >> 28) & 0x7FFF) + _EPOCH_DAY_2000
    strikes = (uniques >> 1) & ((1 << 27) - 1)
    text = [
        f"{name} {day} {'C' if call else 'P'} {strike // 1000}"
        + (f".{strike % 1000:03d}".rstrip("0") if strike % 1000 else "")
        for name, day, call, strike in zip(
            names, np.asarray(days, dtype="datetime64[D]").astype(str), (uniques & 1).tolist(), strikes.tolist()
        )
    ]
    return pd.Categorical.from_codes(codes, categories=pd.Index(text, dtype=object))


def contracts(frame: pd.DataFrame) -> pd.Categorical:
    """The frame's dictionary-encoded `contract` column, built if missing (frames that did not
    come through `normalize_prints` / `normalize_quotes`, or lost their encoding)."""
    column = frame["contract"] if "contract" in frame else None
    if column is not None and isinstance(column.dtype, pd.CategoricalDtype):
        return column.array
    return contract_names(frame)


def name_codes(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Position of each name in `index` (-1 if absent); dictionary-encoded (categorical)
    columns are mapped once per category instead of once per row."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        per_category = np.append(index.get_indexer(values.cat.categories), -1)
        return per_category[values.cat.codes.to_numpy()]
    return index.get_indexer(values.to_numpy())
