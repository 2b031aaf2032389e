"""What every public-records reader shares: the parse result, tickers, dates, stable ids.

Each reader module is OpenBB-style: `extract(path)` reads a file as it is (nothing interpreted
yet, except dropping columns that must never be read), `transform(raw)` turns those rows into
a normalized table of `data/schemas.py` plus the rows it could not read (with a reason, for the
quarantine) and counts of what it did (duplicates dropped, dates derived, ...).

A file that cannot be read at all (an unterminated quote, a ragged row, bytes that are not
UTF-8, a truncated .xz or tar, a missing column) is set aside whole with the error
(`read_or_set_aside`): its rows are not used, the file is named in `Parsed.bad_files` and the
rest of the folder is read.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import re
import tarfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
from pandas.tseries.holiday import USFederalHolidayCalendar

from smart_money.data.normalize import MISSING_SPELLINGS, end_of_day
from smart_money.data.quality import QUARANTINE_REASON
from smart_money.data.schemas import SYMBOL_PATTERN
from smart_money.data.source import QuarantinedFile

# Dates outside this range are typos in the records (years 0009, 20222, 1935, 2202 ...).
EARLIEST_PLAUSIBLE = pd.Timestamp("1990-01-01")


def federal_holidays() -> np.ndarray:
    """US federal holidays (the days EDGAR does not count as business days)."""
    return USFederalHolidayCalendar().holidays("1990-01-01", "2040-12-31").to_numpy(dtype="datetime64[D]")


@dataclass
class Parsed:
    """A reader's output: normalized rows, rejected raw rows (with `quarantine_reason` and, where
    known, `symbol`), counts of what the transform did, and the files it could not read at all."""

    frame: pd.DataFrame
    rejected: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["symbol", QUARANTINE_REASON]))
    counts: Counter = field(default_factory=Counter)
    bad_files: list[QuarantinedFile] = field(default_factory=list)

    @staticmethod
    def concat(parts: Iterable[Parsed]) -> Parsed:
        parts = list(parts)
        frames = [p.frame for p in parts if len(p.frame)]
        rejected = [p.rejected for p in parts if len(p.rejected)]
        counts: Counter = Counter()
        for p in parts:
            counts.update(p.counts)
        return Parsed(
            pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(),
            pd.concat(rejected, ignore_index=True) if rejected else pd.DataFrame(columns=["symbol", QUARANTINE_REASON]),
            counts,
            [f for p in parts for f in p.bad_files],
        )


# What reading a malformed file raises: pandas' parser errors, UnicodeDecodeError and JSON errors
# (ValueErrors), a missing column (KeyError), truncated compressed files and archives.
FILE_ERRORS = (ValueError, KeyError, OSError, EOFError, lzma.LZMAError, tarfile.TarError, zipfile.BadZipFile)
T = TypeVar("T")


def file_problem(path: Path, table: str, error: BaseException) -> QuarantinedFile:
    """What went wrong with a file, in one line (pandas names the line, the codec the byte)."""
    text = " ".join(f"{type(error).__name__}: {error}".split())
    return QuarantinedFile(str(path), table, text[:400])


def read_or_set_aside(path: Path, table: str, read: Callable[[Path], T], bad: list[QuarantinedFile]) -> T | None:
    """`read(path)`, or None with the file added to `bad` when it cannot be read."""
    try:
        return read(path)
    except FILE_ERRORS as error:
        bad.append(file_problem(path, table, error))
        return None


def require_columns(raw: pd.DataFrame, columns: Iterable[str], what: str) -> pd.DataFrame:
    """`raw`, or KeyError naming the columns a file of `what` must have and lacks."""
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise KeyError(f"not {what}: no column {', '.join(repr(c) for c in missing)}")
    return raw


def read_csv(path: Path, **kwargs) -> pd.DataFrame:
    """A CSV file, plain or compressed (.xz, .gz, .zip, .bz2: pandas infers it from the name)."""
    return pd.read_csv(path, **kwargs)


def read_json_records(path: Path) -> pd.DataFrame:
    """A JSON array of flat objects (the Stock Watcher exports)."""
    with Path(path).open() as handle:
        payload = json.load(handle)
    if not isinstance(payload, list):
        raise ValueError(f"{path}: expected a JSON array of records, got {type(payload).__name__}")
    return pd.DataFrame.from_records(payload)


def normalize_tickers(raw: pd.Series) -> pd.Series:
    """Upper-case tickers with class separators as '-' (BRK.B, BRK/B -> BRK-B, Yahoo's form);
    missing spellings ('--', 'N/A', '') become NA. Malformed tickers are kept as written, so
    the schema quarantines them with a reason."""
    text = raw.astype("string").str.strip().str.upper()
    text = text.str.replace(r"[./]", "-", regex=True)
    return text.mask(text.isin(MISSING_SPELLINGS) | text.isna())


def valid_ticker(symbols: pd.Series) -> pd.Series:
    return symbols.fillna("").str.fullmatch(SYMBOL_PATTERN)


def parse_dates(raw: pd.Series, formats: tuple[str, ...] = ("%Y-%m-%d", "%m/%d/%Y")) -> pd.Series:
    """Dates in any of `formats` (the first that parses wins per value); implausible years
    (before 1990 or after today) and unparseable text become NaT."""
    text = raw.astype("string").str.strip()
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    for fmt in formats:
        missing = out.isna()
        if not missing.any():
            break
        out[missing] = pd.to_datetime(text[missing], format=fmt, errors="coerce")
    plausible = (out >= EARLIEST_PLAUSIBLE) & (out <= pd.Timestamp(date.today()) + pd.Timedelta(days=1))
    return out.where(plausible)


def public_date(raw: pd.Series) -> pd.Series:
    """A public date as the tables store it: with its time when the file gives one, else the
    end of that day (23:59:59: usable from the next session)."""
    text = raw.astype("string").str.strip()
    has_time = text.str.contains(r"\d{1,2}:\d{2}", regex=True, na=False)
    stamps = pd.to_datetime(text.where(has_time), errors="coerce", format="mixed")
    days = parse_dates(text.where(~has_time).str.slice(0, 10))
    out = stamps.where(has_time, end_of_day(days))
    too_late = out > pd.Timestamp(date.today()) + pd.Timedelta(days=1)
    return out.mask(too_late | (out < EARLIEST_PLAUSIBLE))


def deadline(event_dates: pd.Series, business_days: int = 0, calendar_days: int = 0) -> pd.Series:
    """The legal latest public date of an event (end of that day): `business_days` SEC business
    days (federal holidays off) or `calendar_days` after it. Used only where a file has no
    filing date; a late filer was public later than this."""
    days = pd.to_datetime(event_dates)
    ok = days.notna()
    out = pd.Series(pd.NaT, index=days.index, dtype="datetime64[ns]")
    if business_days:
        start = days[ok].to_numpy(dtype="datetime64[D]")
        out[ok] = np.busday_offset(start, business_days, roll="backward", holidays=federal_holidays()).astype(
            "datetime64[ns]"
        )
    else:
        out[ok] = days[ok] + pd.Timedelta(days=calendar_days)
    return end_of_day(out)


def slug(names: pd.Series) -> pd.Series:
    """'Hon. Virginia Foxx' / 'FOXX, VIRGINIA' -> 'foxx-virginia'-style keys: lower case, honorifics
    and single letters dropped, words sorted (files spell and order names differently)."""
    text = names.astype("string").fillna("").str.lower()
    text = text.str.replace(r"\b(hon|mr|mrs|ms|dr|jr|sr|ii|iii|iv)\b\.?", " ", regex=True)
    words = text.str.replace(r"[^a-z ]+", " ", regex=True).str.split()
    return words.map(lambda ws: "-".join(sorted(w for w in ws if len(w) > 1)) if isinstance(ws, list) else "")


def stable_ids(frame: pd.DataFrame, columns: list[str], prefix: str) -> pd.Series:
    """A short content hash per row (the same row always gets the same id)."""
    text = frame[columns[0]].astype("string").fillna("")
    for column in columns[1:]:
        text = text + "|" + frame[column].astype("string").fillna("")
    return prefix + pd.Series(
        [hashlib.sha1(s.encode()).hexdigest()[:16] for s in text], index=frame.index, dtype=object
    )


def rejected_rows(raw: pd.DataFrame, mask: pd.Series, reason: str, symbols: pd.Series | None = None) -> pd.DataFrame:
    """The raw rows under `mask`, as strings, with the reason and (where known) the symbol."""
    rows = raw.loc[mask].astype("string")
    rows = rows.assign(symbol=symbols[mask].to_numpy() if symbols is not None else pd.NA)
    rows[QUARANTINE_REASON] = reason
    return rows.reset_index(drop=True)


def numbers(raw: pd.Series) -> pd.Series:
    """'$1,234.50', '+20,000', '1.5e3' -> floats; anything else -> NaN."""
    text = raw.astype("string").str.replace(r"[$,+\s]", "", regex=True)
    return pd.to_numeric(text, errors="coerce").astype(float)


def first_nonempty(*columns: pd.Series) -> pd.Series:
    out = columns[0]
    for column in columns[1:]:
        out = out.fillna(column)
    return out


def drop_columns_matching(
    frame: pd.DataFrame, patterns: Iterable[re.Pattern[str]], names: Iterable[str] = ()
) -> tuple[pd.DataFrame, list[str]]:
    """`frame` without the columns whose names match a pattern or are listed; and which went."""
    names = set(names)
    dropped = [c for c in frame.columns if c in names or any(p.fullmatch(str(c)) for p in patterns)]
    return frame.drop(columns=dropped), dropped


def as_float(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)


def read_json_member(
    path: Path, name: str, read: Callable[[], bytes], table: str, bad: list[QuarantinedFile] | None
) -> dict | None:
    """One JSON object of a folder or tar; None, with `<archive>:<member>` added to `bad`, when it
    is not one (a truncated archive still fails as a whole: reading it raises)."""
    try:
        payload = json.loads(read())
        if not isinstance(payload, dict):
            raise ValueError(f"expected a JSON object, got {type(payload).__name__}")
    except ValueError as error:
        if bad is None:
            raise
        bad.append(file_problem(Path(f"{path}:{name}"), table, error))
        return None
    return payload


def json_members(path: Path) -> Iterator[tuple[str, Callable[[], bytes]]]:
    """(name, read) for every JSON file of a folder or a tar; `read` is called only for the
    files wanted (the tar is streamed once)."""
    if path.is_dir():
        for file in sorted(path.rglob("*.json")):
            yield str(file.relative_to(path)), file.read_bytes
        return
    with tarfile.open(path) as archive:
        for member in archive:
            if member.isfile():
                yield member.name, lambda m=member: archive.extractfile(m).read()  # type: ignore[union-attr]
