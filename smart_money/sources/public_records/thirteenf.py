"""13F-HR holdings per filer (one JSON per manager and filing quarter:
`<manager>/<YYYY>-Q<n>.json` with `form`, `date` (the filing date), optional `accession` and
`positions` [{name, cusip, shares, value, putCall/optionType, ...}]; read from a .tar.xz or a
folder), plus CUSIP -> ticker maps -> `institutional_holdings`.

- The file's quarter is the quarter the report was FILED; `date` is the filing date, so
  known_at = date (end of day) and the positions are as of the last quarter end before it
  (event_date).
- `value` is in thousands of USD in filings before 2023 and in USD after (an SEC change that
  did not happen cleanly per year), and a few files are off by another factor of 1,000. Each
  file's unit is chosen from its median value per share: the unit that puts it closest to a
  typical share price. value_usd is informational (the features use shares).
- Sub-account rows of one CUSIP (and CUSIPs mapping to one ticker) are summed per filing.
- Option rows (puts, calls) are set aside and counted: they are not shares held.
- N-PORT files (fund reports with another deadline) and files without a filing date are
  skipped and counted.
- Tickers come from the CUSIP maps in order (the first map wins); positions without a ticker
  are counted (`positions_without_ticker`).
- Filers are the managers of the files (`filer_cik` = `manager:<name>`): the files carry no CIK.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from smart_money.data.normalize import end_of_day
from smart_money.data.schemas import TABLES
from smart_money.sources.public_records.common import (
    Parsed,
    json_members,
    normalize_tickers,
    parse_dates,
    read_csv,
    read_json_member,
    read_or_set_aside,
    require_columns,
)

FILING_FILE = re.compile(r"(?:^|/)(?P<manager>[^/]+)/(?P<year>\d{4})-Q(?P<quarter>\d)\.json$")
FORMS_13F = ("13F-HR", "13F-HR/A")
OPTION_KINDS = frozenset({"PUT", "CALL"})
TYPICAL_SHARE_PRICE = 40.0
UNITS = (1_000.0, 1.0, 0.001)  # thousands of USD, USD, thousandths (seen in a few files)
TABLE = "institutional_holdings"
COLUMNS = TABLES[TABLE].columns


def read_cusip_map(paths: list[Path], bad: list | None = None) -> dict[str, str]:
    """CUSIP -> ticker from CSV files with `cusip` and `ticker` columns (first file wins; CUSIPs
    a file maps to two tickers are left out of that file's contribution). With `bad`, a map that
    cannot be read is left out and added to it."""
    mapping: dict[str, str] = {}
    for path in paths:
        if bad is None:
            table = _cusip_table(path)
        elif (table := read_or_set_aside(path, TABLE, _cusip_table, bad)) is None:
            continue
        table = table.assign(cusip=table["cusip"].str.strip().str.upper(), ticker=normalize_tickers(table["ticker"]))
        table = table[(table["cusip"].str.len() >= 8) & table["ticker"].notna()].drop_duplicates(["cusip", "ticker"])
        unambiguous = table[~table["cusip"].duplicated(keep=False)]
        for cusip, ticker in zip(unambiguous["cusip"], unambiguous["ticker"]):
            mapping.setdefault(cusip, ticker)
    return mapping


def _cusip_table(path: Path) -> pd.DataFrame:
    return require_columns(read_csv(path, dtype=str, keep_default_na=False), ("cusip", "ticker"), "a CUSIP map")


def extract(
    path: Path, first: pd.Timestamp | None = None, last: pd.Timestamp | None = None, bad: list | None = None
) -> tuple[pd.DataFrame, Counter]:
    """One row per position of the filings whose filing quarter meets [first, last], with the
    file's manager, quarter, form, filing date and accession. A filing that is not valid JSON is
    set aside (added to `bad`)."""
    lo = -1 if first is None else first.year * 4 + (first.month - 1) // 3
    hi = 1 << 30 if last is None else last.year * 4 + (last.month - 1) // 3
    rows: list[dict] = []
    counts: Counter = Counter()
    for name, read_bytes in json_members(Path(path)):
        match = FILING_FILE.search(name)
        if not match or not lo <= int(match["year"]) * 4 + int(match["quarter"]) - 1 <= hi:
            continue
        filing = read_json_member(path, name, read_bytes, TABLE, bad)
        if filing is None:
            continue
        form = str(filing.get("form") or "")
        if form not in FORMS_13F or not filing.get("date"):
            counts["files_not_13f_or_undated"] += 1
            continue
        counts["filings"] += 1
        quarter = f"{match['year']}-Q{match['quarter']}"
        accession = filing.get("accession") or f"{match['manager']}:{quarter}"
        for position in filing.get("positions") or []:
            kind = str(position.get("putCall") or position.get("optionType") or "").upper()
            rows.append(
                {
                    "manager": match["manager"],
                    "quarter": quarter,
                    "form": form,
                    "date": filing["date"],
                    "accession": accession,
                    "name": position.get("name"),
                    "cusip": position.get("cusip"),
                    "shares": position.get("shares"),
                    "value": position.get("value"),
                    "kind": kind,
                }
            )
    return pd.DataFrame.from_records(
        rows, columns=["manager", "quarter", "form", "date", "accession", "name", "cusip", "shares", "value", "kind"]
    ), counts


def file_units(raw: pd.DataFrame) -> pd.Series:
    """USD per unit of `value`, per accession: the unit that brings the filing's median value
    per share closest to a typical share price."""
    per_share = pd.to_numeric(raw["value"], errors="coerce") / pd.to_numeric(raw["shares"], errors="coerce")
    median = per_share.where(per_share > 0).groupby(raw["accession"]).median()
    candidates = np.log(np.outer(median.to_numpy(), UNITS) / TYPICAL_SHARE_PRICE)
    best = np.nanargmin(np.where(np.isnan(candidates), np.inf, np.abs(candidates)), axis=1)
    return pd.Series(np.asarray(UNITS)[best], index=median.index)


def previous_quarter_end(days: pd.Series) -> pd.Series:
    """The last calendar quarter end strictly before each day."""
    return days.dt.to_period("Q").dt.start_time - pd.Timedelta(days=1)


def transform(raw: pd.DataFrame, cusip_to_ticker: dict[str, str], counts: Counter | None = None) -> Parsed:
    parsed = Parsed(pd.DataFrame(columns=COLUMNS), counts=Counter(counts or {}))
    if raw.empty:
        return parsed
    options = raw["kind"].isin(OPTION_KINDS)
    parsed.counts["option_positions_set_aside"] += int(options.sum())
    raw = raw[~options]
    units = raw["accession"].map(file_units(raw))
    parsed.counts["filings_in_thousands"] += int((file_units(raw) == 1_000.0).sum())
    cusip = raw["cusip"].astype("string").str.strip().str.upper()
    ticker = cusip.map(cusip_to_ticker)
    parsed.counts["positions_without_ticker"] += int(ticker.isna().sum())
    filed = parse_dates(raw["date"])
    positions = pd.DataFrame(
        {
            "symbol": ticker,
            "filing_day": filed,
            "accession": raw["accession"].astype(str),
            "filer_cik": "manager:" + raw["manager"].astype(str),
            "filer_name": raw["manager"].astype(str),
            "cusip": cusip,
            "form_type": raw["form"].astype(str),
            "shares": pd.to_numeric(raw["shares"], errors="coerce"),
            "value_usd": pd.to_numeric(raw["value"], errors="coerce") * units,
        }
    )
    positions = positions[positions["symbol"].notna() & positions["filing_day"].notna()]
    keys = ["accession", "symbol"]
    summed = positions.groupby(keys, as_index=False).agg(
        filing_day=("filing_day", "first"),
        filer_cik=("filer_cik", "first"),
        filer_name=("filer_name", "first"),
        cusip=("cusip", "first"),
        form_type=("form_type", "first"),
        shares=("shares", "sum"),
        value_usd=("value_usd", lambda v: v.sum(min_count=1)),
        rows=("shares", "size"),
    )
    parsed.counts["sub_account_rows_summed"] += int((summed["rows"] - 1).sum())
    summed["event_date"] = previous_quarter_end(summed["filing_day"])
    summed["known_at"] = end_of_day(summed["filing_day"])
    summed["record_id"] = summed["accession"] + ":" + summed["symbol"]
    parsed.frame = summed[COLUMNS].reset_index(drop=True)
    return parsed


def read(
    path: Path,
    cusip_to_ticker: dict[str, str],
    first: pd.Timestamp | None = None,
    last: pd.Timestamp | None = None,
) -> Parsed:
    """One holdings archive (or folder) with the CUSIP map (`read_cusip_map`)."""
    bad: list = []
    raw, counts = extract(path, first, last, bad)
    parsed = transform(raw, cusip_to_ticker, counts)
    parsed.bad_files += bad
    return parsed
