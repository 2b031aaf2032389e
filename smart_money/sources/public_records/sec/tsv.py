"""Reading the tab-separated tables inside an SEC data set ZIP, without unpacking it.

The tables are plain tab-separated dumps with a header row, not CSV: a stray double quote in a
name must stay a character (the readers run with quoting off), a few text fields arrive wrapped
in quotes with doubled inner quotes (`unquote`), and the header drifts over the years (columns
are added, e.g. AFF10B5ONE in 2023), so each reader asks for the columns it wants, requires the
ones it cannot do without, and reads in chunks of rows so a 3-million-row INFOTABLE never sits
in memory as text. Dates are written `15-JAN-2023`; they are parsed without the locale (month
names are mapped here).
"""

from __future__ import annotations

import csv
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd

from smart_money.sources.public_records.common import numbers, parse_dates

CHUNK_ROWS = 250_000
_MONTHS = {
    m: f"{i:02d}"
    for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)
}
_READ_ERRORS = (pd.errors.ParserError, zipfile.BadZipFile, zlib.error, EOFError, OSError, UnicodeError)


class SecDataError(ValueError):
    """A data set file is not readable as the SEC publishes it; the message names the file, the
    table and what is wrong."""


def member_name(archive: zipfile.ZipFile, table: str) -> str | None:
    """The archive's member for `table` (e.g. SUBMISSION.tsv), matched on the base name without
    regard to case or folder."""
    wanted = table.upper()
    for name in archive.namelist():
        if name.rsplit("/", 1)[-1].upper() == wanted:
            return name
    return None


def open_archive(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SecDataError(f"{path}: not a readable ZIP file ({exc}); download it again") from exc


def _header(archive: zipfile.ZipFile, member: str) -> list[str]:
    with archive.open(member) as handle:
        first = handle.readline().decode("utf-8-sig", errors="replace")
    return [c.strip().strip('"').upper() for c in first.rstrip("\r\n").split("\t")]


def read_table(
    path: Path,
    table: str,
    wanted: Sequence[str],
    required: Sequence[str],
    chunk_rows: int = CHUNK_ROWS,
    optional_table: bool = False,
    strip: Sequence[str] | None = None,
) -> Iterator[pd.DataFrame]:
    """Chunks of `table` (e.g. "NONDERIV_TRANS.tsv") with the `wanted` columns that exist, as
    strings ("" for empty), the `strip` columns (default: all) without surrounding blanks.
    Raises SecDataError naming the file when the table or a `required` column is missing or a
    line cannot be read; an absent `optional_table` yields nothing."""
    with open_archive(path) as archive:
        member = member_name(archive, table)
        if member is None:
            if optional_table:
                return
            raise SecDataError(f"{path}: no {table} inside (members: {', '.join(archive.namelist()[:12])})")
        header = _header(archive, member)
        missing = [c for c in required if c not in header]
        if missing:
            raise SecDataError(
                f"{path}:{member}: missing column(s) {', '.join(missing)} (header: {', '.join(header[:20])})"
            )
        keep = [c for c in wanted if c in header]
        positions = [header.index(c) for c in keep]
        stripped = [c for c in (keep if strip is None else strip) if c in keep]
        try:
            with archive.open(member) as handle:
                reader = pd.read_csv(
                    handle,
                    sep="\t",
                    header=0,
                    names=header,
                    usecols=positions,
                    dtype=str,
                    keep_default_na=False,
                    quoting=csv.QUOTE_NONE,
                    encoding="utf-8-sig",
                    encoding_errors="replace",
                    chunksize=chunk_rows,
                )
                for chunk in reader:  # columns come named from `header`, in file order
                    chunk = chunk[keep].fillna("")
                    for column in stripped:
                        chunk[column] = chunk[column].str.strip()
                    yield chunk
        except _READ_ERRORS as exc:
            raise SecDataError(
                f"{path}:{member}: cannot be read ({type(exc).__name__}: {exc}); the file is damaged or not in the "
                "SEC's layout"
            ) from exc


def read_whole(
    path: Path, table: str, wanted: Sequence[str], required: Sequence[str], optional_table: bool = False
) -> pd.DataFrame:
    chunks = list(read_table(path, table, wanted, required, optional_table=optional_table))
    if chunks:
        return pd.concat(chunks, ignore_index=True)
    return pd.DataFrame({c: pd.Series(dtype=object) for c in wanted})


def sec_dates(raw: pd.Series) -> pd.Series:
    """'15-JAN-2023' (or ISO '2023-01-15') -> dates; unreadable or implausible -> NaT. A file
    holds a few hundred distinct dates for a million lines: each is parsed once."""
    distinct = pd.Series(raw.astype("string").unique(), dtype="string")
    text = distinct.str.strip().str.upper()
    numeric = text.str.replace(
        r"^(\d{1,2})-([A-Z]{3})-(\d{4})$", lambda m: f"{m[1]}-{_MONTHS.get(m[2], 'XX')}-{m[3]}", regex=True
    )
    parsed = parse_dates(numeric, formats=("%d-%m-%Y", "%Y-%m-%d"))
    lookup = dict(zip(distinct.fillna("").tolist(), parsed.tolist(), strict=True))
    return pd.Series(
        pd.to_datetime(raw.astype("string").fillna("").map(lookup)), index=raw.index, dtype="datetime64[ns]"
    )


def sec_numbers(raw: pd.Series) -> pd.Series:
    """Numbers as the data sets write them ('1000', '12.5'); the slower cleanup of
    common.numbers ('$1,000') only for what does not parse plainly."""
    out = pd.to_numeric(raw, errors="coerce").astype(float)
    retry = out.isna() & raw.fillna("").astype(str).str.len().gt(0)
    if retry.any():
        out[retry] = numbers(raw[retry])
    return out


def unquote(raw: pd.Series) -> pd.Series:
    """Text fields the SEC wrapped in quotes ('"Newton (""NIMNA"")"') -> their text."""
    text = raw.astype("string")
    wrapped = text.str.len().ge(2) & text.str.startswith('"') & text.str.endswith('"')
    return text.where(~wrapped, text.str.slice(1, -1).str.replace('""', '"', regex=False))


def cik(raw: pd.Series) -> pd.Series:
    """CIKs as the SEC writes them in URLs and indexes: ten digits, zero-padded."""
    text = raw.astype("string").str.strip()
    digits = text.str.fullmatch(r"\d{1,10}").fillna(False)
    return text.where(~digits, text.str.zfill(10)).mask(text.fillna("") == "")
