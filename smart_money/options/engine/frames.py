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

from smart_money.options.engine.validation import (
    OptionsInputError,
    RowProblems,
    check_table,
    parse_timestamps,
    row_numbers,
)


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV, Parquet or JSON-lines file as a frame; OptionsInputError if it cannot be read."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".pq", ".jsonl", ".ndjson", ".json", ".csv", ".gz"):
        raise OptionsInputError(
            str(path), None, None, f"unsupported file type {suffix!r} (use .csv, .parquet or .jsonl)"
        )
    if not path.is_file():
        raise OptionsInputError(str(path), None, None, "no such file")
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix in (".jsonl", ".ndjson", ".json"):
            return pd.read_json(path, lines=suffix != ".json", dtype=False)
        return pd.read_csv(
            path, keep_default_na=True, dtype={"condition": str, "print_id": str, "venue": str, "ref_print_id": str}
        )
    except pd.errors.EmptyDataError:
        raise OptionsInputError(str(path), None, None, "the file is empty (no header row)") from None
    except (ValueError, OSError, pd.errors.ParserError, UnicodeDecodeError) as error:  # pyarrow/json/csv errors
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise OptionsInputError(str(path), None, None, f"cannot be read ({reason})") from None


def utc(values: pd.Series) -> pd.Series:
    """Timestamps as tz-aware UTC nanoseconds; integers are epoch nanoseconds."""
    return parse_timestamps(values)


DICTIONARY_COLUMNS = ("underlying", "venue", "condition", "right")


def _encoded(out: pd.DataFrame) -> pd.DataFrame:
    """Dictionary-encode the repetitive name columns (as Parquet/Arrow would): the engine maps
    names to codes once per distinct name, not once per row. Option prints and quotes also get
    their `contract` (see `contract_names`)."""
    for column in DICTIONARY_COLUMNS:
        if column in out:
            out[column] = out[column].astype("category")
    if "size" in out:
        out["size"] = out["size"].astype(np.int64)
    if "multiplier" in out:
        out["multiplier"] = out["multiplier"].astype(np.int64)
    if "strike" in out:
        out["contract"] = contract_names(out)
    return out


@dataclass
class Checked:
    """A table's usable rows, normalized, and the problems of every input row."""

    frame: pd.DataFrame
    problems: RowProblems
    source: pd.DataFrame  # the rows as read (for reporting rejected ones)


def check(frame: pd.DataFrame, kind: str, file: str) -> Checked:
    """Normalize a raw table, quarantining unusable rows (see `validation`); structural
    problems raise OptionsInputError."""
    out, problems = check_table(frame, kind, file)
    return Checked(_encoded(out), problems, frame)


def _strict(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    checked = check(frame, kind, f"<{kind}>")
    if checked.problems.bad.any():
        first = np.flatnonzero(checked.problems.bad)
        raise OptionsInputError(
            f"<{kind}>",
            str(checked.problems.column[first[0]]),
            row_numbers(checked.problems.bad),
            str(checked.problems.reason[first[0]]),
        )
    return checked.frame


def normalize_prints(frame: pd.DataFrame) -> pd.DataFrame:
    """Typed, dictionary-encoded prints; OptionsInputError on any unusable row."""
    return _strict(frame, "prints")


def normalize_quotes(frame: pd.DataFrame) -> pd.DataFrame:
    return _strict(frame, "quotes")


def normalize_underlying(frame: pd.DataFrame | None) -> pd.DataFrame:
    if frame is None:
        frame = empty_underlying()
    return _strict(frame, "underlying")


def normalize_calendar(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """None stays None: no calendar at all (event alignment features become null)."""
    if frame is None:
        return None
    return _strict(frame, "calendar")


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
