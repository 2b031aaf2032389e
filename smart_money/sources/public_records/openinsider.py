"""OpenInsider purchase extracts (scraped openinsider.com screens of SEC Form 4 filings) ->
`insider_trades`.

Columns: Filing_Date, Trade_Date, Ticker, Company_Name, Insider_Name + Title (one insider per
row) or Industry + Insider_Amount (cluster screens: one row per cluster buy, Insider_Amount
insiders together), Trade_Type ('P - Purchase'), Price, Qty, Owned, ΔOwn, Value.

The scraper appended prices and returns AFTER each trade (2w, 1m, ..., 1yr, 2yr and 2w% ...
2yr%) and its own bookkeeping (active, done, skip, source, exchange): `extract` drops them on
load, so nothing downstream can read them.

known_at = Filing_Date (its time when given, else the end of the day); event_date = Trade_Date.
The files overlap: a trade in several screens is kept once. A cluster row states a total and a
number of insiders; the insiders it names in the one-insider screens (same ticker, trade and
filing date) are taken out of it, and the rest becomes one line per remaining insider with an
equal share of the remaining quantity (the features only use totals and insider counts, which
this keeps exact). Insiders are keyed by name (the screens carry no CIK).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from smart_money.data.normalize import form4_code, insider_role
from smart_money.data.schemas import TABLES
from smart_money.sources.public_records.common import (
    Parsed,
    drop_columns_matching,
    normalize_tickers,
    numbers,
    parse_dates,
    public_date,
    read_csv,
    read_or_set_aside,
    rejected_rows,
    require_columns,
    slug,
    stable_ids,
)

# Prices/returns after the trade, computed by the scraper: future information.
FUTURE_COLUMNS = (re.compile(r"\d+(w|m|yr)%?"),)
BOOKKEEPING_COLUMNS = ("active", "done", "skip", "source", "exchange", "idx")
REQUIRED = ("Filing_Date", "Trade_Date", "Ticker", "Trade_Type", "Price", "Qty", "Owned")
TABLE = "insider_trades"
COLUMNS = TABLES[TABLE].required_columns  # a screen states none of the optional ones


def extract(path: Path) -> pd.DataFrame:
    """One screen's rows, without the scraper's look-ahead and bookkeeping columns."""
    raw = require_columns(read_csv(path, dtype=str, keep_default_na=False), REQUIRED, "an OpenInsider screen")
    if "Insider_Name" not in raw and "Insider_Amount" not in raw:
        raise KeyError("not an OpenInsider screen: no column 'Insider_Name' nor 'Insider_Amount'")
    raw, dropped = drop_columns_matching(raw, FUTURE_COLUMNS, BOOKKEEPING_COLUMNS)
    raw.attrs["dropped_columns"] = dropped
    return raw


def _lines(raw: pd.DataFrame) -> pd.DataFrame:
    """The rows as trade lines (one per insider-row or cluster-row), before cluster splitting."""
    cluster = "Insider_Name" not in raw
    names = raw["Insider_Name"] if not cluster else pd.Series(pd.NA, index=raw.index, dtype="string")
    titles = raw["Title"] if "Title" in raw else pd.Series(pd.NA, index=raw.index, dtype="string")
    return pd.DataFrame(
        {
            "symbol": normalize_tickers(raw["Ticker"]),
            "event_date": parse_dates(raw["Trade_Date"]),
            "known_at": public_date(raw["Filing_Date"]),
            "filing_day": raw["Filing_Date"].astype("string").str.slice(0, 10),
            "reporting_name": names,
            "type_of_owner": titles,
            "transaction_code": raw["Trade_Type"].map(form4_code),
            "shares": numbers(raw["Qty"]).abs(),
            "price": numbers(raw["Price"]),
            "shares_owned_after": numbers(raw["Owned"]),
            "insiders": numbers(raw["Insider_Amount"]) if cluster else 1.0,
            "cluster": cluster,
        },
        index=raw.index,
    )


def split_clusters(lines: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Cluster rows minus the insiders already listed one by one, as one line per remaining
    insider (equal shares of the remaining quantity)."""
    singles, clusters = lines[~lines["cluster"]], lines[lines["cluster"]]
    key = ["symbol", "event_date", "filing_day"]
    listed = singles.groupby(key, dropna=False).agg(named=("shares", "size"), named_shares=("shares", "sum"))
    merged = clusters.join(listed, on=key)
    remaining = (merged["insiders"] - merged["named"].fillna(0)).clip(lower=0).fillna(1).astype(int)
    remaining_shares = merged["shares"] - merged["named_shares"].fillna(0)
    usable = (remaining > 0) & (remaining_shares > 0)
    parts = []
    for i in range(int(remaining[usable].max()) if usable.any() else 0):
        part = merged[usable & (remaining > i)].copy()
        part["shares"] = remaining_shares[part.index] / remaining[part.index]
        part["reporting_name"] = "cluster insider " + str(i + 1)
        part["_cluster_member"] = i
        parts.append(part)
    out = pd.concat([singles, *parts], ignore_index=True) if parts else singles.reset_index(drop=True)
    return out, int((~usable).sum())


def transform(raws: list[pd.DataFrame]) -> Parsed:
    """Every screen together (clusters are resolved against the one-insider screens)."""
    parsed = Parsed(pd.DataFrame(columns=COLUMNS))
    raws = [r for r in raws if len(r)]
    if not raws:
        return parsed
    lines = pd.concat([_lines(r) for r in raws], ignore_index=True)
    raw_all = pd.concat(raws, ignore_index=True)
    bad = lines["event_date"].isna() | lines["known_at"].isna()
    if bad.any():
        parsed.rejected = rejected_rows(
            raw_all, bad, "insider_trades: trade or filing date missing, unparseable or implausible", lines["symbol"]
        )
    lines = lines[~bad]
    before = len(lines)
    lines = lines.drop_duplicates(
        ["symbol", "event_date", "filing_day", "reporting_name", "shares", "price", "cluster"]
    )
    parsed.counts["duplicate_rows_across_screens"] += before - len(lines)
    lines, absorbed = split_clusters(lines)
    parsed.counts["cluster_rows_fully_listed"] += absorbed
    if "_cluster_member" not in lines:
        lines["_cluster_member"] = np.nan
    name_key = slug(lines["reporting_name"])
    cluster_key = (
        "openinsider-cluster:"
        + lines["symbol"].fillna("")
        + ":"
        + lines["filing_day"].fillna("")
        + ":"
        + lines["_cluster_member"].astype("Int64").astype("string").fillna("")
    )
    lines["reporting_cik"] = np.where(lines["cluster"], cluster_key, "name:" + name_key)
    lines["role"] = lines["type_of_owner"].map(insider_role)
    lines["acquisition_or_disposition"] = np.where(lines["transaction_code"] == "S", "D", "A")
    lines["form_type"] = "4"
    lines["amends_record_id"] = None
    lines["record_id"] = stable_ids(
        lines, ["symbol", "event_date", "filing_day", "reporting_cik", "shares", "price"], "oi-"
    )
    parsed.frame = lines[COLUMNS].reset_index(drop=True)
    return parsed


def read(paths: list[Path]) -> Parsed:
    """Every screen (unreadable files set aside)."""
    bad: list = []
    raws = [raw for path in paths if (raw := read_or_set_aside(path, TABLE, extract, bad)) is not None]
    parsed = transform(raws)
    parsed.bad_files += bad
    parsed.counts["look_ahead_and_bookkeeping_columns_dropped"] += sum(
        len(r.attrs.get("dropped_columns", [])) for r in raws
    )
    return parsed
