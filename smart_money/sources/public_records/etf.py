"""ETF daily holdings files (ARK's published holdings as archived: date, fund, company, ticker,
shares, market value($), weight(%)) -> `etf_holdings`.

ARK published end-of-day holdings until 2021-03-14: a file dated D holds the close of D and
appeared that evening. From 2021-03-15 on it published start-of-day holdings: a file dated D
holds the previous session's close and appeared on D. So event_date = D before the switch and
the previous NYSE session after it, and known_at = the end of D in both cases (conservative: a
file is used from the session after its date). Tickers carry Bloomberg exchange codes ('TREE
UW'): US codes are stripped, other exchanges (foreign listings) are counted and left out, as
are cash and money-market rows (no ticker). Two rows of one fund and ticker in one file are
summed; when two files hold the same holdings date (at the switch), the first published counts.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from smart_money.data import calendar as cal
from smart_money.data.normalize import end_of_day
from smart_money.data.schemas import TABLES
from smart_money.sources.public_records.common import (
    Parsed,
    normalize_tickers,
    numbers,
    parse_dates,
    read_csv,
    read_or_set_aside,
    rejected_rows,
    require_columns,
)

START_OF_DAY_FROM = pd.Timestamp("2021-03-15")
US_EXCHANGE_CODES = frozenset({"U", "UA", "UB", "UC", "UD", "UF", "UN", "UP", "UQ", "UR", "UV", "UW", "US"})
TABLE = "etf_holdings"
COLUMNS = TABLES[TABLE].columns


REQUIRED = ("date", "fund", "ticker", "shares", "market value($)", "weight(%)")


def extract(path: Path) -> pd.DataFrame:
    return require_columns(read_csv(path, dtype=str, keep_default_na=False), REQUIRED, "an ARK holdings file")


def _us_tickers(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(ticker without a US exchange code, whether it is listed elsewhere)."""
    parts = raw.astype("string").str.strip().str.split(r"\s+", n=1, expand=True)
    if parts.shape[1] == 1:
        parts[1] = pd.NA
    code = parts[1].str.upper()
    foreign = code.notna() & ~code.isin(US_EXCHANGE_CODES)
    return normalize_tickers(parts[0]), foreign


def transform(raw: pd.DataFrame, switch_date: pd.Timestamp = START_OF_DAY_FROM) -> Parsed:
    parsed = Parsed(pd.DataFrame(columns=COLUMNS))
    if raw.empty:
        return parsed
    symbols, foreign = _us_tickers(raw["ticker"])
    no_ticker = symbols.isna()
    parsed.counts["rows_without_ticker"] += int(no_ticker.sum())
    parsed.counts["foreign_listings_left_out"] += int((foreign & ~no_ticker).sum())
    keep = ~no_ticker & ~foreign
    raw, symbols = raw[keep], symbols[keep]
    day = parse_dates(raw["date"])
    if day.isna().any():
        parsed.rejected = rejected_rows(raw, day.isna(), "etf_holdings: holdings date missing or unparseable", symbols)
    ok = day.notna()
    raw, symbols, day = raw[ok], symbols[ok], day[ok]
    sessions = cal.nyse_sessions()
    previous = sessions[sessions.searchsorted(day.to_numpy(), side="left") - 1]
    frame = pd.DataFrame(
        {
            "symbol": symbols,
            "event_date": day.where(day < switch_date, pd.Series(previous, index=day.index)),
            "known_at": end_of_day(day),
            "etf_symbol": normalize_tickers(raw["fund"]),
            "shares": numbers(raw["shares"]),
            "market_value": numbers(raw["market value($)"]),
            "weight_pct": numbers(raw["weight(%)"]),
        }
    )
    summed = frame.groupby(["etf_symbol", "symbol", "known_at"], as_index=False).agg(
        event_date=("event_date", "first"),
        shares=("shares", "sum"),
        market_value=("market_value", lambda v: v.sum(min_count=1)),
        weight_pct=("weight_pct", lambda v: v.sum(min_count=1)),
        rows=("shares", "size"),
    )
    parsed.counts["rows_summed_per_fund_ticker_file"] += int((summed["rows"] - 1).sum())
    # the last end-of-day file and the first start-of-day file hold the same close: keep the first
    ordered = summed.sort_values("known_at", kind="stable")
    repeated = ordered.duplicated(["etf_symbol", "symbol", "event_date"])
    parsed.counts["same_holdings_date_in_two_files"] += int(repeated.sum())
    parsed.frame = ordered[~repeated][COLUMNS].reset_index(drop=True)
    return parsed


def read(paths: list[Path]) -> Parsed:
    """Every holdings file (unreadable files set aside)."""
    bad: list = []
    parts = [
        part for p in paths if (part := read_or_set_aside(p, TABLE, lambda q: transform(extract(q)), bad)) is not None
    ]
    parsed = Parsed.concat(parts)
    parsed.bad_files += bad
    return parsed
