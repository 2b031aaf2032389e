"""Senate and House Stock Watcher exports (CSV or JSON) -> `congress_trades`.

Formats (one row per disclosed transaction):

- Senate Stock Watcher: transaction_date (MM/DD/YYYY), owner, ticker, asset_description,
  asset_type, type, amount, comment, senator, ptr_link and, in the all-transactions export,
  disclosure_date. The aggregate export has no disclosure date: its public date is then the
  STOCK Act deadline, 45 days after the transaction (a late filer was public later).
- House Stock Watcher: disclosure_date (MM/DD/YYYY), transaction_date (YYYY-MM-DD or
  MM/DD/YYYY), owner, ticker, asset_description, [asset_type], type, amount, representative,
  district, ptr_link or source_url, [filing_id].

known_at = the disclosure date (end of that day); event_date = the transaction date. Amount
bands become (low, high) numbers; the member key is the chamber plus the member's name (the
files carry no Bioguide ID). Rows of other assets (bonds, funds, options: asset type other than
stock, or ticker '--') are not stock trades and are counted, not kept. Dates that do not parse
or are implausible (years like 0009 or 2202) send the row to the quarantine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from smart_money.data.normalize import amount_band, congress_owner, congress_transaction
from smart_money.data.schemas import TABLES
from smart_money.sources.public_records.common import (
    Parsed,
    deadline,
    normalize_tickers,
    parse_dates,
    public_date,
    read_csv,
    read_json_records,
    read_or_set_aside,
    rejected_rows,
    require_columns,
    slug,
    stable_ids,
)

STOCK_ACT_DEADLINE_DAYS = 45
# The STOCK Act's amount bands by their lower end: a band written only as its start
# ('$1,001 -') is the standard band that starts there.
STOCK_ACT_BANDS = {
    1_001: 15_000, 15_001: 50_000, 50_001: 100_000, 100_001: 250_000, 250_001: 500_000,
    500_001: 1_000_000, 1_000_001: 5_000_000, 5_000_001: 25_000_000, 25_000_001: 50_000_000,
}  # fmt: skip
STOCK_ASSET_TYPES = frozenset({"stock", ""})
REQUIRED = ("ticker", "transaction_date", "type", "amount", "owner")
MEMBER_COLUMNS = ("senator", "representative")
TABLE = "congress_trades"
COLUMNS = TABLES[TABLE].columns


def extract(path: Path) -> pd.DataFrame:
    """The export's rows as strings (CSV, optionally compressed, or a JSON array)."""
    path = Path(path)
    if path.name.endswith(".json"):
        return read_json_records(path).astype("string")
    return read_csv(path, dtype=str, keep_default_na=False)


def amounts(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """'$1,001 - $15,000' -> (1001, 15000); '$1,000,000 +' / 'Over $50,000,000' -> (low, NaN);
    '$1,001 -' -> the STOCK Act band starting there; 'Unknown' -> (NaN, NaN)."""
    low, high = np.full(len(text), np.nan), np.full(len(text), np.nan)
    for i, value in enumerate(text.astype("string").fillna("")):
        lo, hi = amount_band(value)
        if lo == hi and value.strip().endswith("-"):
            hi = STOCK_ACT_BANDS.get(int(lo), np.nan)
        low[i], high[i] = lo, hi
    return low, high


def transform(raw: pd.DataFrame, chamber: str) -> Parsed:
    """Stock Watcher rows of one chamber -> CongressTradesSchema columns."""
    parsed = Parsed(pd.DataFrame(columns=COLUMNS))
    if raw.empty:
        return parsed
    require_columns(raw, REQUIRED, "a Stock Watcher export")
    if not any(c in raw for c in MEMBER_COLUMNS):
        raise KeyError(f"not a Stock Watcher export: no column {' or '.join(repr(c) for c in MEMBER_COLUMNS)}")
    member = raw.get("senator", raw.get("representative")).astype("string")
    asset_type = (
        raw.get("asset_type", pd.Series("", index=raw.index)).astype("string").fillna("").str.strip().str.lower()
    )
    symbols = normalize_tickers(raw["ticker"])
    stock = asset_type.isin(STOCK_ASSET_TYPES) & symbols.notna()
    parsed.counts["not_a_stock_trade"] += int((~stock).sum())
    raw, symbols, member = raw[stock], symbols[stock], member[stock]

    event = parse_dates(raw["transaction_date"], ("%m/%d/%Y", "%Y-%m-%d"))
    if "disclosure_date" in raw:
        known = public_date(raw["disclosure_date"])
        derived = pd.Series(False, index=raw.index)
    else:
        known = deadline(event, calendar_days=STOCK_ACT_DEADLINE_DAYS)
        derived = pd.Series(True, index=raw.index)
        parsed.counts["known_at_from_deadline"] += int(len(raw))
    bad = event.isna() | known.isna()
    if bad.any():
        parsed.rejected = rejected_rows(
            raw, bad, "congress_trades: transaction or disclosure date missing, unparseable or implausible", symbols
        )
    raw, symbols, member, event, known, derived = (x[~bad] for x in (raw, symbols, member, event, known, derived))

    low, high = amounts(raw["amount"])
    link = raw.get("ptr_link", raw.get("source_url", pd.Series("", index=raw.index)))
    frame = pd.DataFrame(
        {
            "symbol": symbols,
            "event_date": event,
            "known_at": known,
            "member_id": chamber + ":" + slug(member),
            "member_name": member,
            "chamber": chamber,
            "transaction_type": raw["type"].map(congress_transaction),
            "amount_low": low,
            "amount_high": high,
            "owner": raw["owner"].map(congress_owner),
            "_link": link,
            "_derived_known_at": derived,
        }
    )
    frame["record_id"] = stable_ids(
        frame,
        ["chamber", "member_id", "event_date", "symbol", "transaction_type", "amount_low", "owner", "_link"],
        f"{chamber}-",
    )
    parsed.frame = frame.reset_index(drop=True)
    return parsed


def deduplicate(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """One row per trade across files: the same member, transaction date, ticker, direction,
    amount band and owner (owner belongs in the key: the same trade in a spouse's and a child's
    account is two disclosures). A row with a real disclosure date wins over a deadline-derived
    one, then the earliest disclosure."""
    if frame.empty:
        return frame, 0
    direction = frame["transaction_type"].fillna("").str.replace(r"_(partial|full)$", "", regex=True)
    key = [
        frame["chamber"],
        frame["member_id"],
        frame["event_date"],
        frame["symbol"],
        direction,
        frame["amount_low"].fillna(-1),
        frame["owner"].fillna(""),
    ]
    ordered = frame.assign(_direction=direction).sort_values(["_derived_known_at", "known_at"], kind="stable")
    keys = pd.concat([k.rename(f"k{i}") for i, k in enumerate(key)], axis=1).loc[ordered.index]
    keep = ~keys.duplicated()
    return ordered[keep.to_numpy()].drop(columns=["_direction"]).sort_index().reset_index(drop=True), int((~keep).sum())


def read(paths_by_chamber: dict[str, list[Path]]) -> Parsed:
    """Every export of both chambers, deduplicated across files; unreadable files set aside."""
    bad: list = []
    parts = [
        part
        for chamber, paths in paths_by_chamber.items()
        for path in paths
        if (part := read_or_set_aside(path, TABLE, lambda p, c=chamber: transform(extract(p), c), bad)) is not None
    ]
    parsed = Parsed.concat(parts)
    parsed.bad_files += bad
    if parsed.frame.empty:
        parsed.frame = pd.DataFrame(columns=COLUMNS)
        return parsed
    parsed.frame, dropped = deduplicate(parsed.frame)
    parsed.counts["duplicate_trades_dropped"] += dropped
    parsed.counts["known_at_from_deadline_kept"] += int(parsed.frame["_derived_known_at"].sum())
    parsed.frame = parsed.frame.drop(columns=["_link", "_derived_known_at"])
    return parsed
