"""FMP endpoint families, OpenBB-style: query (route and parameters) -> extract (every page of
raw rows) -> transform (pydantic rows -> a normalized table of data/schemas.py).

Nothing here caches or schedules: `source.FmpSource` decides which units to fetch, looks them up
in the cache and runs them concurrently. Listing endpoints are newest first; a page shorter than
the route's documented page size ends the listing, and so does a page whose newest row is older
than the window (`stop_before`), so a backfill window costs the pages down to its start.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from smart_money.data.normalize import (
    amount_band,
    congress_owner,
    congress_transaction,
    end_of_day,
    form4_code,
    insider_role,
)
from smart_money.sources.fmp.client import FmpClient
from smart_money.sources.fmp.errors import FmpLegacyEndpointError
from smart_money.sources.fmp.models import (
    CongressTradeRow,
    ConstituentChangeRow,
    ConstituentRow,
    EtfPositionRow,
    HolderPositionRow,
    InsiderTradeRow,
    PositionsSummaryRow,
    PriceBarRow,
    ProfileRow,
)

logger = logging.getLogger("smart_money.fmp")

MAX_PAGES = 500  # a listing longer than this is a bug (e.g. a filter FMP silently ignored)
PRICE_ROW_CAP = 5_000  # FMP drops the oldest rows beyond this, silently
PRICE_CHUNK_DAYS = 5_000  # calendar days per price request: ~3,450 sessions, well under the cap


@dataclass(frozen=True)
class Route:
    """One HTTP path. `page_size`: rows per full page (None: not paged); `limit_param`: whether
    the page size is sent as `limit`; `symbol_in_path`: legacy v3 style `/path/{symbol}`."""

    path: str
    page_size: int | None = None
    limit_param: bool = True
    symbol_in_path: bool = False

    def request(self, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        params = dict(params)
        if self.page_size is None:
            params.pop("page", None)
        elif self.limit_param:
            params["limit"] = self.page_size
        if self.symbol_in_path:
            return f"{self.path}/{params.pop('symbol')}", params
        return self.path, params


@dataclass(frozen=True)
class Family:
    """An endpoint family: its stable route, its legacy route if any, and the plan it needs."""

    data_type: str  # the cache key's data_type
    stable: Route
    legacy: Route | None = None
    plan: str = "Starter"


INSIDER = Family(
    "insider-trades",
    Route("/stable/insider-trading/search", 1000),
    Route("/api/v4/insider-trading", 100, limit_param=False),
)
SENATE = Family(
    "senate-trades", Route("/stable/senate-trades", 100), Route("/api/v4/senate-trading", 100, limit_param=False)
)
HOUSE = Family(
    "house-trades", Route("/stable/house-trades", 100), Route("/api/v4/senate-disclosure", 100, limit_param=False)
)
HOLDERS = Family("13f-holders", Route("/stable/institutional-ownership/extract-analytics/holder", 100), plan="Ultimate")
POSITIONS_SUMMARY = Family(
    "13f-summary", Route("/stable/institutional-ownership/symbol-positions-summary"), plan="Ultimate"
)
ETF_EXPOSURE = Family("etf-exposure", Route("/stable/etf/asset-exposure"), plan="Ultimate")
ETF_HOLDINGS = Family("etf-holdings", Route("/stable/etf/holdings"), plan="Ultimate")
PRICES_FULL = Family(
    "eod-full",
    Route("/stable/historical-price-eod/full"),
    Route("/api/v3/historical-price-full", symbol_in_path=True),
    plan="Free",
)
PRICES_ADJUSTED = Family("eod-dividend-adjusted", Route("/stable/historical-price-eod/dividend-adjusted"), plan="Free")
CONSTITUENTS = Family("sp500-constituents", Route("/stable/sp500-constituent"))
CONSTITUENT_CHANGES = Family("sp500-changes", Route("/stable/historical-sp500-constituent"))
PROFILE = Family("profile", Route("/stable/profile"), Route("/api/v3/profile", symbol_in_path=True), plan="Free")


# -- extract -------------------------------------------------------------------------------------
def as_rows(payload: Any) -> list[dict]:
    """The row list of a payload: a list, or v3's `{symbol, historical: [...]}`."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        if isinstance(payload.get("historical"), list):
            symbol = payload.get("symbol")
            return [{"symbol": symbol, **row} if isinstance(row, dict) else row for row in payload["historical"]]
        return [] if not payload else [payload]
    return []


def request(
    client: FmpClient, family: Family, params: dict[str, Any], symbol: str | None = None
) -> tuple[list[dict], Route]:
    """One call of `family`: the legacy route when asked for and still allowed, else stable.
    A 'Legacy Endpoint' refusal switches the client to stable and retries there."""
    if client.use_legacy and family.legacy is not None:
        path, query = family.legacy.request(params)
        try:
            return as_rows(client.get_json(path, query, symbol)), family.legacy
        except FmpLegacyEndpointError as error:
            client.refuse_legacy(error)
    path, query = family.stable.request(params)
    return as_rows(client.get_json(path, query, symbol)), family.stable


def newest_date(rows: Sequence[dict], keys: Sequence[str]) -> date | None:
    stamps = []
    for row in rows:
        for key in keys:
            value = row.get(key) if isinstance(row, dict) else None
            if isinstance(value, str) and len(value) >= 10:
                try:
                    stamps.append(date.fromisoformat(value[:10]))
                except ValueError:
                    pass
                break
    return max(stamps) if stamps else None


def all_pages(
    client: FmpClient,
    family: Family,
    params: dict[str, Any],
    symbol: str | None = None,
    stop_before: date | None = None,
    date_keys: Sequence[str] = (),
) -> tuple[list[dict], int]:
    """Every page of a paged listing (0-based), newest first; returns (rows, calls)."""
    rows: list[dict] = []
    for page in range(MAX_PAGES):
        batch, route = request(client, family, {**params, "page": page}, symbol)
        rows.extend(batch)
        if route.page_size is None or len(batch) < route.page_size:
            return rows, page + 1
        newest = newest_date(batch, date_keys) if stop_before else None
        if newest is not None and newest < stop_before:
            return rows, page + 1
    logger.warning("%s for %s: stopped after %d pages", family.data_type, symbol, MAX_PAGES)
    return rows, MAX_PAGES


def price_chunks(start: date, end: date) -> list[tuple[date, date]]:
    """[start, end) as inclusive (from, to) spans short enough to stay under the row cap."""
    spans, lo = [], pd.Timestamp(start)
    stop = pd.Timestamp(end) - pd.Timedelta(days=1)
    while lo <= stop:
        hi = min(lo + pd.Timedelta(days=PRICE_CHUNK_DAYS - 1), stop)
        spans.append((lo.date(), hi.date()))
        lo = hi + pd.Timedelta(days=1)
    return spans


def price_rows(client: FmpClient, family: Family, symbol: str, start: date, end: date) -> tuple[list[dict], int]:
    """Daily bars of [start, end) in chunks; a chunk that hits the row cap is split again."""
    rows: list[dict] = []
    calls = 0
    pending = price_chunks(start, end)
    while pending:
        lo, hi = pending.pop(0)
        batch, _ = request(client, family, {"symbol": symbol, "from": f"{lo:%Y-%m-%d}", "to": f"{hi:%Y-%m-%d}"}, symbol)
        calls += 1
        if len(batch) >= PRICE_ROW_CAP and hi > lo:
            middle = lo + (hi - lo) / 2
            pending[:0] = [(lo, middle), (middle + pd.Timedelta(days=1).to_pytimedelta(), hi)]
            continue
        rows.extend(batch)
    return rows, calls


# -- transform -----------------------------------------------------------------------------------
@dataclass
class Parsed:
    """A normalized frame, the rows that failed row validation (with reasons) and counts of
    rows set aside on purpose (e.g. option positions in a shares table)."""

    frame: pd.DataFrame
    rejected: list[dict] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)


def validate_rows(
    model: type[BaseModel], rows: Iterable[Any], parse: Callable[[Any], BaseModel] | None = None
) -> tuple[list[BaseModel], list[dict]]:
    """Validate raw rows one by one; failures come back as {'raw': row, 'reason': ...}."""
    parse = parse or model.model_validate
    good, bad = [], []
    for row in rows:
        try:
            if not isinstance(row, dict):
                raise TypeError(f"row is a {type(row).__name__}, not an object")
            good.append(parse(row))
        except (ValidationError, TypeError, ValueError) as exc:
            bad.append({"raw": row, "reason": f"{model.__name__}: {_short_reason(exc)}"})
    return good, bad


def _short_reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3])
    return str(exc)[:200]


def _digest(*parts: object) -> str:
    text = "|".join("" if p is None or (isinstance(p, float) and np.isnan(p)) else str(p) for p in parts)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


_ACCESSION = re.compile(r"(\d{10}-\d{2}-\d{6})")


def _frame(models: Sequence[BaseModel]) -> pd.DataFrame:
    return pd.DataFrame([m.model_dump() for m in models])


def _known_at_from_dates(days: pd.Series) -> pd.Series:
    return end_of_day(pd.to_datetime(days))


def insider_trades(rows: Iterable[Any], symbol: str) -> Parsed:
    """Form 4 lines -> InsiderTradesSchema columns. record_id = accession (from the filing URL)
    + a digest of the line's fields present in both APIs: FMP has no line number and its order
    is unstable, and the same line must get the same id from the legacy and the stable API."""
    models, rejected = validate_rows(InsiderTradeRow, rows, InsiderTradeRow.parse)
    parsed = Parsed(pd.DataFrame(), rejected)
    models = _matching_symbol(models, symbol, parsed)
    if not models:
        return parsed
    f = _frame(models)
    accession = f["url"].str.extract(_ACCESSION, expand=False)
    digest = [
        _digest(
            r.reporting_cik,
            r.transaction_date,
            r.transaction_type,
            r.securities_transacted,
            r.price,
            r.securities_owned,
            r.security_name,
            r.form_type,
            r.acquisition_or_disposition,
        )
        for r in f.itertuples(index=False)
    ]
    filing = pd.to_datetime(f["filing_date"])
    parsed.frame = pd.DataFrame(
        {
            "record_id": accession.fillna("no-accession") + "#" + pd.Series(digest, index=f.index),
            "symbol": f["symbol"],
            "event_date": pd.to_datetime(f["transaction_date"]),
            "known_at": filing.where(f["filing_has_time"], end_of_day(filing)),
            "reporting_cik": f["reporting_cik"],
            "reporting_name": f["reporting_name"],
            "type_of_owner": f["type_of_owner"],
            "role": f["type_of_owner"].map(insider_role),
            "transaction_code": f["transaction_type"].map(form4_code),
            "acquisition_or_disposition": f["acquisition_or_disposition"].str.upper(),
            "shares": f["securities_transacted"].astype(float),
            "price": f["price"].astype(float),
            "shares_owned_after": f["securities_owned"].astype(float),
            "form_type": f["form_type"],
            "amends_record_id": None,  # FMP does not say which line a 4/A restates
        }
    )
    return parsed


def holder_positions(rows: Iterable[Any], symbol: str) -> Parsed:
    """13F holder analytics -> InstitutionalHoldingsSchema. Put/call rows are option notional,
    not shares held: set aside and counted. Sub-account rows of one filer are summed. FMP gives
    no accession: the filing is identified by filer CIK and quarter end."""
    models, rejected = validate_rows(HolderPositionRow, rows)
    parsed = Parsed(pd.DataFrame(), rejected)
    models = _matching_symbol(models, symbol, parsed)
    shares_rows = [m for m in models if (m.put_call_share or "share").lower() in ("share", "shares", "sh")]
    parsed.counts["option_positions_set_aside"] += len(models) - len(shares_rows)
    if not shares_rows:
        return parsed
    f = _frame(shares_rows)
    f["date"] = pd.to_datetime(f["date"])
    f["filing_date"] = pd.to_datetime(f["filing_date"])
    keys = ["filer_cik", "date", "symbol"]
    grouped = f
    if f.duplicated(keys).any():  # sub-account rows of one filer: one position
        group = f.groupby(keys, dropna=False)
        grouped = group.agg(
            investor_name=("investor_name", "first"),
            security_cusip=("security_cusip", "first"),
            filing_date=("filing_date", "max"),
        )
        grouped["shares_number"] = group["shares_number"].sum(min_count=1)
        grouped["market_value"] = group["market_value"].sum(min_count=1)
        grouped = grouped.reset_index()
    parsed.counts["sub_account_rows_summed"] += len(f) - len(grouped)
    accession = grouped["filer_cik"] + "-" + grouped["date"].dt.strftime("%Y%m%d")
    parsed.frame = pd.DataFrame(
        {
            "record_id": accession + ":" + grouped["symbol"],
            "accession": accession,
            "filer_cik": grouped["filer_cik"],
            "filer_name": grouped["investor_name"],
            "symbol": grouped["symbol"],
            "cusip": grouped["security_cusip"],
            "event_date": grouped["date"],
            "known_at": end_of_day(grouped["filing_date"]),
            "form_type": "13F-HR",
            "shares": grouped["shares_number"].astype(float),
            "value_usd": grouped["market_value"].astype(float),
        }
    )
    return parsed


def positions_summary(rows: Iterable[Any]) -> Parsed:
    """13F per-symbol quarter aggregates (universe-level context; not a raw table). Usable no
    earlier than quarter end + 45 days, and FMP recomputes them as late filers arrive."""
    models, rejected = validate_rows(PositionsSummaryRow, rows)
    frame = _frame(models)
    if len(frame):
        frame["date"] = pd.to_datetime(frame["date"])
        frame["available_from"] = end_of_day(frame["date"] + pd.Timedelta(days=45))
    return Parsed(frame, rejected)


EQUITY_ASSET_TYPES = ("stock", "stock option", "common stock")


def congress_trades(rows: Iterable[Any], chamber: str, symbol: str) -> Parsed:
    """Senate/House PTR lines -> CongressTradesSchema. member_id is the Bioguide ID (`senateID`);
    rows without one get `NAME:<LAST>,<FIRST>` (or `NAME:<OFFICE>` for legacy House rows, which
    only name the representative), never mistaken for a Bioguide ID. Bonds, funds
    and other non-equity assets filed under the ticker are set aside and counted."""
    models, rejected = validate_rows(CongressTradeRow, rows)
    parsed = Parsed(pd.DataFrame(), rejected)
    models = _matching_symbol(models, symbol, parsed)
    equity = [m for m in models if m.asset_type is None or m.asset_type.strip().lower() in EQUITY_ASSET_TYPES]
    parsed.counts["non_equity_rows_set_aside"] += len(models) - len(equity)
    if not equity:
        return parsed
    f = _frame(equity)
    name_key = ("NAME:" + f["last_name"].str.upper() + "," + f["first_name"].fillna("").str.upper()).fillna(
        "NAME:" + f["office"].str.upper()
    )
    member_id = f["member_id"].fillna(name_key)
    names = (f["first_name"].fillna("") + " " + f["last_name"].fillna("")).str.strip()
    bands = [amount_band(a) for a in f["amount"]]
    digest = [
        _digest(
            chamber,
            m,
            r.transaction_date,
            r.disclosure_date,
            r.type,
            r.amount,
            r.owner,
            r.asset_description,
            r.link,
            r.symbol,
        )
        for m, r in zip(member_id, f.itertuples(index=False))
    ]
    parsed.frame = pd.DataFrame(
        {
            "record_id": [f"{chamber}-{d}" for d in digest],
            "member_id": member_id,
            "member_name": names.where(names != "", f["office"]),
            "chamber": chamber,
            "symbol": f["symbol"],
            "event_date": pd.to_datetime(f["transaction_date"]),
            "known_at": _known_at_from_dates(f["disclosure_date"]),
            "transaction_type": f["type"].map(congress_transaction),
            "amount_low": [b[0] for b in bands],
            "amount_high": [b[1] for b in bands],
            "owner": f["owner"].map(congress_owner),
        }
    )
    return parsed


def etf_exposure(rows: Iterable[Any], symbol: str, fetched_at: datetime) -> Parsed:
    """ETFs holding `symbol` -> EtfHoldingsSchema. FMP serves only its latest snapshot and the
    exposure rows carry no date: the snapshot is dated and known at the moment we fetched it
    (New York time), never earlier."""
    models, rejected = validate_rows(EtfPositionRow, rows)
    parsed = Parsed(pd.DataFrame(), rejected)
    held = [m for m in models if (m.asset or "").upper() == symbol]
    parsed.counts["rows_not_matching_filter"] += len(models) - len(held)
    if not held:
        return parsed
    f = _frame(held)
    known_at = pd.Timestamp(fetched_at)
    parsed.frame = pd.DataFrame(
        {
            "etf_symbol": f["etf_symbol"],
            "symbol": symbol,
            "event_date": known_at.normalize(),
            "known_at": known_at,
            "shares": f["shares_number"].astype(float),
            "market_value": f["market_value"].astype(float),
            "weight_pct": f["weight_percentage"].astype(float),
        }
    )
    return parsed


def etf_holdings(rows: Iterable[Any]) -> Parsed:
    """One ETF's holdings (its latest snapshot) with cash and bond rows (blank `asset`) set
    aside; `updated_at` is FMP's UTC cache stamp."""
    models, rejected = validate_rows(EtfPositionRow, rows)
    stocks = [m for m in models if m.asset]
    parsed = Parsed(_frame(stocks), rejected)
    parsed.counts["rows_without_ticker_set_aside"] += len(models) - len(stocks)
    return parsed


def prices(full_rows: Iterable[Any], adjusted_rows: Iterable[Any], symbol: str) -> Parsed:
    """EOD bars -> PricesSchema: OHLC and volume from `full` (split-adjusted), `adj_close` from
    `dividend-adjusted` (or v3's `adjClose` in the same row). `close` is therefore split-adjusted
    rather than as traded; shares outstanding are not in these endpoints (null)."""
    full, rejected_full = validate_rows(PriceBarRow, full_rows)
    adjusted, rejected_adj = validate_rows(PriceBarRow, adjusted_rows)
    parsed = Parsed(pd.DataFrame(), rejected_full + rejected_adj)
    if not full:
        return parsed
    bars = _frame(full).drop_duplicates("date", keep="last")
    if adjusted:
        adj = _frame(adjusted).drop_duplicates("date", keep="last")[["date", "adj_close"]]
        bars = bars.drop(columns=["adj_close"]).merge(adj, on="date", how="left")
    parsed.frame = pd.DataFrame(
        {
            "symbol": symbol,
            "date": pd.to_datetime(bars["date"]),
            "open": bars["open"].astype(float),
            "high": bars["high"].astype(float),
            "low": bars["low"].astype(float),
            "close": bars["close"].astype(float),
            "adj_close": bars["adj_close"].astype(float),
            "volume": bars["volume"].astype(float),
            "shares_outstanding": np.nan,
        }
    ).sort_values("date", ignore_index=True)
    return parsed


def constituents(rows: Iterable[Any]) -> tuple[list[ConstituentRow], list[dict]]:
    return validate_rows(ConstituentRow, rows)


def constituent_changes(rows: Iterable[Any]) -> tuple[list[ConstituentChangeRow], list[dict]]:
    return validate_rows(ConstituentChangeRow, rows)


def profile(rows: Iterable[Any]) -> ProfileRow | None:
    models, _ = validate_rows(ProfileRow, rows)
    return models[0] if models else None


def _matching_symbol(models: list, symbol: str, parsed: Parsed) -> list:
    """FMP ignores unknown parameters and returns the unfiltered feed: keep the asked symbol."""
    kept = [m for m in models if m.symbol == symbol]
    parsed.counts["rows_not_matching_filter"] += len(models) - len(kept)
    return kept
