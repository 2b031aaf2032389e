"""A fake FMP server on 127.0.0.1 for tests and benchmarks (never used by production code).

It serves the stable (and the legacy v3/v4) paths the FMP source calls, with rows shaped like
the recorded responses in shared/fixtures/fmp/, generated from a simulated market so that a
backfill through it yields realistic tables. It misbehaves on purpose when asked: a sliding-window
rate limit answered with 429 + Retry-After, 5xx, answers slower than the client's timeout,
truncated JSON, 200 bodies carrying `{"Error Message": ...}`, 402 for chosen symbols or
endpoints, 401 for a wrong key, 403 "Legacy Endpoint" on v3/v4, and 400 plain text when a
required parameter is missing.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd

from smart_money.settings.fmp import FmpSettings
from smart_money.sources.fmp import DiskCache, FmpClient, FmpSource
from smart_money.sources.simulated import SimulatedSource
from smart_money.sources.simulated.params import MARKET_ETF

PATHS_NEEDING_SYMBOL = {
    "/stable/insider-trading/search",
    "/stable/senate-trades",
    "/stable/house-trades",
    "/stable/institutional-ownership/extract-analytics/holder",
    "/stable/institutional-ownership/symbol-positions-summary",
    "/stable/historical-price-eod/full",
    "/stable/historical-price-eod/dividend-adjusted",
    "/stable/profile",
    "/stable/etf/asset-exposure",
    "/stable/etf/holdings",
}
ULTIMATE_PATHS = ("/stable/institutional-ownership/", "/stable/etf/")
CODE_NAMES = {
    "P": "P-Purchase",
    "S": "S-Sale",
    "A": "A-Award",
    "D": "D-Return",
    "F": "F-InKind",
    "M": "M-Exempt",
    "G": "G-Gift",
    "C": "C-Conversion",
    "X": "X-InTheMoney",
    "J": "J-Other",
    "W": "W-Will",
    "I": "I-Discretionary",
}
CONGRESS_TYPES = {
    "purchase": "Purchase",
    "sale": "Sale",
    "sale_partial": "Sale (Partial)",
    "sale_full": "Sale (Full)",
    "exchange": "Exchange",
}
PRICE_ROW_CAP = 5_000
INVALID_KEY_BODY = {
    "Error Message": "Invalid API KEY. Feel free to create a Free API Key or visit "
    "https://site.financialmodelingprep.com/faqs?search=why-is-my-api-key-invalid for more information."
}
LIMIT_BODY = {
    "Error Message": "Limit Reach . Please upgrade your plan or visit our documentation for more details at "
    "https://site.financialmodelingprep.com/"
}
LEGACY_BODY = {
    "Error Message": "Legacy Endpoint : Due to Legacy endpoints being no longer supported - This endpoint is only "
    "available for legacy users who have valid subscriptions prior August 31, 2025."
}


@dataclass
class Faults:
    """What the server breaks, per request, with a seeded random draw (all transient)."""

    server_error_rate: float = 0.0
    timeout_rate: float = 0.0
    truncated_rate: float = 0.0
    error_body_rate: float = 0.0
    slow_answer_s: float = 1.0  # how long a 'timeout' answer takes (set above the client timeout)
    gated_symbols: frozenset[str] = frozenset()  # 402 per symbol on Ultimate endpoints
    gated_paths: frozenset[str] = frozenset()  # 402 for every symbol ('Exclusive Endpoint')
    legacy_blocked: bool = True
    broken_symbols: frozenset[str] = frozenset()  # always 503 (a backfill that cannot finish)
    retry_after_s: int | None = None  # the Retry-After of every 429 (default: until the window has room)
    seed: int = 0


@dataclass
class ServerStats:
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    paths: Counter = field(default_factory=Counter)
    injected: Counter = field(default_factory=Counter)
    request_lines: list[str] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    arrivals: list[tuple[float, str]] = field(default_factory=list)  # (time.monotonic(), path) per request


def _day(value: object) -> str:
    return f"{pd.Timestamp(value):%Y-%m-%d}"


def _num(value: object) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


class FakeMarketData:
    """FMP-shaped rows from a simulated market, built lazily per table and cached."""

    def __init__(self, market: SimulatedSource, removed: int = 2, since: str = "2021-01-01"):
        self.market = market
        world = market.world
        self.first, self.last = max(world.sessions[0], pd.Timestamp(since)), world.sessions[-1]
        universe = market.universe()
        self.stocks = universe[universe["asset_type"] == "stock"].set_index("symbol")
        self.etf_alias = {"SPY": MARKET_ETF}  # what FMP calls the simulated market ETF
        self.etfs = set(universe.loc[universe["asset_type"] == "etf", "symbol"]) | set(self.etf_alias)
        ordered = sorted(self.stocks.index)
        self.change_date = (self.first + (self.last - self.first) * 0.55).normalize()
        # a few index changes: the last tickers leave the index, as many join it on the same day
        self.removed = ordered[-removed:] if removed else []
        self.added = ordered[-2 * removed : -removed] if removed else []
        self._lock = threading.Lock()
        self._tables: dict[str, dict[str, list[dict]]] = {}

    def _table(self, name: str) -> dict[str, list[dict]]:
        with self._lock:
            if name not in self._tables:
                self._tables[name] = getattr(self, f"_build_{name}")()
            return self._tables[name]

    def warm(self) -> None:
        """Build every table up front so the first requests are not slow."""
        for name in ("insider", "holders", "congress"):
            self._table(name)

    def rows(self, table: str, symbol: str) -> list[dict]:
        return self._table(table).get(symbol, [])

    def _all(self, table: str) -> pd.DataFrame:
        end = self.last + pd.Timedelta(days=1)
        return self.market.fetch(table, list(self.stocks.index), self.first, end).frame

    def _build_insider(self) -> dict[str, list[dict]]:
        frame = self._all("insider_trades").sort_values(["known_at", "record_id"], ascending=[False, True])
        out: dict[str, list[dict]] = {}
        for r in frame.itertuples(index=False):
            head, window, seq = r.record_id.split("#")[0].replace("A", "").split("-")
            accession = f"{head}-{int(window) // 100:02d}-{int(window) % 100:02d}{int(seq):04d}"
            cik = self.stocks.at[r.symbol, "cik"]
            out.setdefault(r.symbol, []).append(
                {
                    "symbol": r.symbol,
                    "filingDate": _day(r.known_at),
                    "transactionDate": _day(r.event_date),
                    "reportingCik": r.reporting_cik,
                    "companyCik": cik,
                    "transactionType": CODE_NAMES.get(r.transaction_code, r.transaction_code),
                    "securitiesOwned": _num(r.shares_owned_after),
                    "reportingName": r.reporting_name,
                    "typeOfOwner": r.type_of_owner,
                    "acquisitionOrDisposition": r.acquisition_or_disposition,
                    "directOrIndirect": "D",
                    "formType": r.form_type,
                    "securitiesTransacted": _num(r.shares),
                    "price": _num(r.price),
                    "securityName": "Common Stock",
                    "url": f"https://www.sec.gov/Archives/edgar/data/{int(cik)}/{accession.replace('-', '')}/"
                    f"{accession}-index.htm",
                }
            )
        return out

    def _build_holders(self) -> dict[str, list[dict]]:
        frame = self._all("institutional_holdings")
        frame = frame[frame["form_type"] == "13F-HR"].drop_duplicates(["filer_cik", "event_date", "symbol"])
        out: dict[str, list[dict]] = {}
        for i, r in enumerate(
            frame.sort_values(["event_date", "symbol", "shares"], ascending=[True, True, False]).itertuples(index=False)
        ):
            row = {
                "date": _day(r.event_date),
                "cik": r.filer_cik,
                "filingDate": _day(r.known_at),
                "investorName": r.filer_name,
                "symbol": r.symbol,
                "securityName": self.stocks.at[r.symbol, "name"].upper(),
                "typeOfSecurity": "COM",
                "securityCusip": r.cusip or "",
                "sharesType": "SH",
                "putCallShare": "Share",
                "investmentDiscretion": "SOLE",
                "sharesNumber": int(r.shares),
                "marketValue": _num(r.value_usd),
                "isNew": False,
                "isSoldOut": False,
            }
            rows = out.setdefault(f"{r.symbol}:{row['date']}", [])  # one listing per symbol and quarter
            rows.append(row)
            if i % 40 == 0:  # some filers also report call options on the stock
                rows.append({**row, "putCallShare": "Call", "sharesNumber": int(r.shares // 10)})
        return out

    def _build_congress(self) -> dict[str, list[dict]]:
        frame = self._all("congress_trades").sort_values(["known_at", "record_id"], ascending=[False, True])
        out: dict[str, list[dict]] = {}
        for r in frame.itertuples(index=False):
            first, last = r.member_name.split(" ", 1)
            high = r.amount_high
            amount = (
                f"Over ${r.amount_low - 1:,.0f}"
                if high is None or np.isnan(high)
                else f"${r.amount_low:,.0f} - ${high:,.0f}"
            )
            out.setdefault(f"{r.chamber}:{r.symbol}", []).append(
                {
                    "symbol": r.symbol,
                    "senateID": r.member_id,
                    "disclosureDate": _day(r.known_at),
                    "transactionDate": _day(r.event_date),
                    "firstName": first,
                    "lastName": last,
                    "office": r.member_name,
                    "district": "PA" if r.chamber == "senate" else "FL23",
                    "owner": (r.owner or "").title(),
                    "assetDescription": self.stocks.at[r.symbol, "name"],
                    "assetType": "Stock",
                    "type": CONGRESS_TYPES[r.transaction_type],
                    "amount": amount,
                    "capitalGainsOver200USD": "False",
                    "comment": "",
                    "link": f"https://efdsearch.senate.gov/search/view/ptr/{r.record_id.lower()}/",
                }
            )
        return out

    def prices(self, symbol: str, lo: str | None, hi: str | None) -> list[dict]:
        sim = self.etf_alias.get(symbol, symbol)
        if sim not in self.stocks.index and sim not in self.etfs:
            return []
        start = max(pd.Timestamp(lo) if lo else self.first, self.first)
        end = min(pd.Timestamp(hi) if hi else self.last, self.last) + pd.Timedelta(days=1)
        if start >= end:
            return []
        frame = self.market.fetch("prices", [sim], start, end).frame.sort_values("date", ascending=False)
        rows = [
            {
                "symbol": symbol,
                "date": _day(r.date),
                "open": _num(r.open),
                "high": _num(r.high),
                "low": _num(r.low),
                "close": _num(r.close),
                "adjClose": _num(r.adj_close),
                "volume": _num(r.volume),
            }
            for r in frame.itertuples(index=False)
        ]
        return rows[:PRICE_ROW_CAP]  # like FMP: the oldest rows beyond the cap are dropped silently

    def profile(self, symbol: str) -> list[dict]:
        if symbol in self.etfs:
            return [
                {
                    "symbol": symbol,
                    "companyName": f"{symbol} ETF Trust",
                    "price": 100.0,
                    "marketCap": None,
                    "sector": "",
                    "cik": None,
                    "isEtf": True,
                    "isFund": False,
                }
            ]
        if symbol not in self.stocks.index:
            return []
        info = self.stocks.loc[symbol]
        close = float(self.prices(symbol, _day(self.last - pd.Timedelta(days=10)), _day(self.last))[0]["close"])
        return [
            {
                "symbol": symbol,
                "companyName": info["name"],
                "price": close,
                "marketCap": close * float(info["shares_outstanding"]),
                "sector": info["sector"],
                "industry": "",
                "cik": info["cik"],
                "isEtf": False,
                "isFund": False,
                "ipoDate": "2009-06-01",
            }
        ]

    def constituents(self) -> list[dict]:
        return [
            {
                "symbol": s,
                "name": self.stocks.at[s, "name"],
                "sector": self.stocks.at[s, "sector"],
                "subSector": "",
                "headQuarter": "",
                "dateFirstAdded": _day(self.change_date) if s in self.added else "",
                "cik": self.stocks.at[s, "cik"],
                "founded": "",
            }
            for s in sorted(self.stocks.index)
            if s not in self.removed
        ]

    def constituent_changes(self) -> list[dict]:
        day = _day(self.change_date)
        return [
            {
                "dateAdded": self.change_date.strftime("%B %d, %Y"),
                "addedSecurity": self.stocks.at[a, "name"],
                "removedTicker": r,
                "removedSecurity": self.stocks.at[r, "name"],
                "date": day,
                "symbol": a,
                "reason": "Market capitalization change.",
            }
            for a, r in zip(self.added, self.removed)
        ]

    def positions_summary(self, symbol: str, quarter: pd.Period) -> list[dict]:
        if symbol not in self.stocks.index:
            return []
        return _summary(
            self.rows("holders", f"{symbol}:{quarter.end_time:%Y-%m-%d}"),
            symbol,
            quarter,
            float(self.stocks.at[symbol, "shares_outstanding"]),
        )

    def etf_holdings(self, etf: str) -> list[dict]:
        sim = self.etf_alias.get(etf, etf)
        if sim not in self.etfs:
            return []
        frame = self.market.fetch(
            "etf_holdings", list(self.stocks.index), self.last - pd.Timedelta(days=14), self.last + pd.Timedelta(days=1)
        ).frame
        frame = frame[frame["etf_symbol"] == sim]
        latest = frame[frame["event_date"] == frame["event_date"].max()]
        stamp = f"{latest['known_at'].max():%Y-%m-%d %H:%M:%S}" if len(latest) else ""
        rows = [
            {
                "symbol": etf,
                "asset": r.symbol,
                "name": self.stocks.at[r.symbol, "name"].upper(),
                "isin": "",
                "securityCusip": "",
                "sharesNumber": _num(r.shares),
                "weightPercentage": _num(r.weight_pct),
                "marketValue": _num(r.market_value),
                "updatedAt": stamp,
            }
            for r in latest.itertuples(index=False)
        ]
        return rows + [
            {
                "symbol": etf,
                "asset": " ",
                "name": "US DOLLAR",
                "isin": "",
                "securityCusip": "",
                "sharesNumber": 1e6,
                "weightPercentage": 0.01,
                "marketValue": 1e6,
                "updatedAt": stamp,
            }
        ]

    def etf_exposure(self, symbol: str) -> list[dict]:
        frame = self.market.fetch(
            "etf_holdings", [symbol], self.last - pd.Timedelta(days=14), self.last + pd.Timedelta(days=1)
        ).frame
        if frame.empty:
            return []
        latest = frame[frame["event_date"] == frame["event_date"].max()]
        alias = {v: k for k, v in self.etf_alias.items()}
        return [
            {
                "symbol": alias.get(r.etf_symbol, r.etf_symbol),
                "asset": symbol,
                "sharesNumber": _num(r.shares),
                "weightPercentage": _num(r.weight_pct),
                "marketValue": _num(r.market_value),
            }
            for r in latest.itertuples(index=False)
        ]


_SHARED_DATA: dict[tuple[int, int, str], FakeMarketData] = {}


def market_data(market: SimulatedSource, removed: int = 2, since: str = "2021-01-01") -> FakeMarketData:
    """One FakeMarketData per market (building the tables takes seconds; servers share them)."""
    key = (id(market), removed, since)
    if key not in _SHARED_DATA:
        _SHARED_DATA[key] = FakeMarketData(market, removed, since)
    return _SHARED_DATA[key]


def _summary(rows: list[dict], symbol: str, quarter: pd.Period, shares_outstanding: float) -> list[dict]:
    held = [r for r in rows if r["putCallShare"] == "Share"]
    if not held:
        return []
    shares = float(sum(r["sharesNumber"] for r in held))
    return [
        {
            "symbol": symbol,
            "cik": "",
            "date": f"{quarter.end_time:%Y-%m-%d}",
            "investorsHolding": len(held),
            "numberOf13Fshares": shares,
            "totalInvested": float(sum(r["marketValue"] or 0.0 for r in held)),
            "ownershipPercent": round(100.0 * shares / shares_outstanding, 4),
            "newPositions": 0,
            "increasedPositions": 0,
            "reducedPositions": 0,
            "closedPositions": 0,
            "putCallRatio": 0.0,
        }
    ]


class FakeFmpServer:
    """`with FakeFmpServer(market, api_key=...) as fake:` then point FMP_BASE_URL at `fake.url`."""

    def __init__(
        self,
        market: SimulatedSource,
        api_key: str,
        rate_limit: int | None = None,
        rate_period_s: float = 60.0,
        faults: Faults | None = None,
        removed_members: int = 2,
        since: str = "2021-01-01",
    ):
        self.data = market_data(market, removed_members, since)
        self.api_key = api_key
        self.rate_limit = rate_limit
        self.rate_period_s = rate_period_s
        self.faults = faults or Faults()
        self.stats = ServerStats()
        self._arrivals: deque[float] = deque()
        self._lock = threading.Lock()
        self._random = random.Random(self.faults.seed)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-fmp", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeFmpServer:
        self.data.warm()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset_stats(self) -> None:
        with self._lock:
            self.stats = ServerStats()

    # -- decisions, under the lock ---------------------------------------------------------------
    def _admit(self) -> float | None:
        """None if the request fits the rate limit, else the seconds until it would."""
        if self.rate_limit is None:
            return None
        now = time.monotonic()
        while self._arrivals and now - self._arrivals[0] >= self.rate_period_s:
            self._arrivals.popleft()
        if len(self._arrivals) >= self.rate_limit:
            return self.rate_period_s - (now - self._arrivals[0])
        self._arrivals.append(now)
        return None

    def _fault(self) -> str | None:
        f = self.faults
        draw = self._random.random()
        for name, rate in (
            ("server_error", f.server_error_rate),
            ("timeout", f.timeout_rate),
            ("truncated", f.truncated_rate),
            ("error_body", f.error_body_rate),
        ):
            if draw < rate:
                return name
            draw -= rate
        return None

    # -- answers ---------------------------------------------------------------------------------
    def answer(self, path: str, query: dict[str, str], key: str | None) -> tuple[int, object, dict[str, str]]:
        """(status, body, headers) for one request; a str body is sent as plain text."""
        if key != self.api_key:
            return 401, INVALID_KEY_BODY, {}
        with self._lock:
            wait = self._admit()
            fault = None if wait is not None else self._fault()
        if wait is not None:
            asked = self.faults.retry_after_s if self.faults.retry_after_s is not None else max(1, math.ceil(wait))
            return 429, LIMIT_BODY, {"Retry-After": str(asked)}
        if path.startswith(("/api/v3/", "/api/v4/")) and self.faults.legacy_blocked:
            return 403, LEGACY_BODY, {}
        symbol = (query.get("symbol") or "").upper()
        if path in PATHS_NEEDING_SYMBOL and not symbol:
            return 400, "Query Error: Invalid or missing query parameter - symbol", {}
        if path.startswith(ULTIMATE_PATHS) and (path in self.faults.gated_paths):
            return (
                402,
                {
                    "Error Message": "Exclusive Endpoint : This endpoint is not available under your current "
                    "subscription please visit our subscription page to upgrade your plan at "
                    "https://site.financialmodelingprep.com/"
                },
                {},
            )
        if path.startswith(ULTIMATE_PATHS) and symbol in self.faults.gated_symbols:
            return (
                402,
                {
                    "Error Message": "Premium Query Parameter: 'Special Endpoint : This value set for 'symbol' is "
                    "not available under your current subscription please visit our subscription page to upgrade "
                    "your plan at https://site.financialmodelingprep.com/"
                },
                {},
            )
        if symbol in self.faults.broken_symbols:
            return 0, "server_error", {}
        if fault is not None:
            return 0, fault, {}
        try:
            body = self.route(path, query, symbol)
        except KeyError:
            return 404, {"Error Message": f"Unknown endpoint {path}"}, {}
        return 200, body, {}

    def route(self, path: str, query: dict[str, str], symbol: str) -> object:
        d = self.data
        page, limit = int(query.get("page", 0) or 0), int(query.get("limit", 100) or 100)

        def paged(rows: list[dict], size: int) -> list[dict]:
            return rows[page * size : (page + 1) * size]

        if path == "/stable/insider-trading/search":
            return paged(d.rows("insider", symbol), min(limit, 1000))
        if path == "/api/v4/insider-trading":
            legacy = [
                {
                    **{k: v for k, v in r.items() if k not in ("acquisitionOrDisposition", "url", "directOrIndirect")},
                    "acquistionOrDisposition": r["acquisitionOrDisposition"],
                    "link": r["url"],
                    "filingDate": r["filingDate"] + " 17:02:11",
                }
                for r in d.rows("insider", symbol)
            ]
            return paged(legacy, 100)
        if path in ("/stable/senate-trades", "/stable/house-trades"):
            chamber = "senate" if "senate" in path else "house"
            return paged(d.rows("congress", f"{chamber}:{symbol}"), 100)
        if path == "/stable/institutional-ownership/extract-analytics/holder":
            quarter = pd.Period(year=int(query["year"]), quarter=int(query["quarter"]), freq="Q")
            return paged(d.rows("holders", f"{symbol}:{quarter.end_time:%Y-%m-%d}"), min(limit, 100))
        if path in ("/stable/historical-price-eod/full", "/stable/historical-price-eod/dividend-adjusted"):
            rows = d.prices(symbol, query.get("from"), query.get("to"))
            if path.endswith("full"):
                return [
                    {k: v for k, v in r.items() if k != "adjClose"}
                    | {
                        "vwap": None
                        if r["open"] is None
                        else round((r["open"] + r["high"] + r["low"] + r["close"]) / 4, 4)
                    }
                    for r in rows
                ]
            return [
                {
                    "symbol": r["symbol"],
                    "date": r["date"],
                    "adjOpen": r["open"],
                    "adjHigh": r["high"],
                    "adjLow": r["low"],
                    "adjClose": r["adjClose"],
                    "volume": r["volume"],
                }
                for r in rows
            ]
        if path.startswith("/api/v3/historical-price-full/"):
            sym = path.rsplit("/", 1)[1].upper()
            return {
                "symbol": sym,
                "historical": [
                    {k: v for k, v in r.items() if k != "symbol"}
                    for r in d.prices(sym, query.get("from"), query.get("to"))
                ],
            }
        if path == "/stable/profile":
            return d.profile(symbol)
        if path == "/stable/sp500-constituent":
            return d.constituents()
        if path == "/stable/historical-sp500-constituent":
            return d.constituent_changes()
        if path == "/stable/etf/asset-exposure":
            return d.etf_exposure(symbol)
        if path == "/stable/etf/holdings":
            return d.etf_holdings(symbol)
        if path == "/stable/institutional-ownership/symbol-positions-summary":
            quarter = pd.Period(year=int(query["year"]), quarter=int(query["quarter"]), freq="Q")
            return d.positions_summary(symbol, quarter)
        raise KeyError(path)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                if parts.path == "/__stats":  # for benchmarks running the server in another process
                    with server._lock:
                        stats = server.stats
                        self._send(
                            200,
                            {
                                "requests": stats.requests,
                                "statuses": stats.statuses,
                                "injected": stats.injected,
                                "max_in_flight": stats.max_in_flight,
                                "arrivals": stats.arrivals,
                            },
                            {},
                        )
                    return
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                key = self.headers.get("apikey") or query.pop("apikey", None)
                with server._lock:
                    server.stats.in_flight += 1
                    server.stats.max_in_flight = max(server.stats.max_in_flight, server.stats.in_flight)
                try:
                    status, body, headers = server.answer(parts.path, query, key)
                finally:
                    with server._lock:
                        server.stats.in_flight -= 1
                with server._lock:
                    server.stats.arrivals.append((time.monotonic(), parts.path))
                    server.stats.requests += 1
                    server.stats.paths[parts.path] += 1
                    server.stats.request_lines.append(self.requestline)
                    if status == 0:
                        server.stats.injected[body] += 1  # type: ignore[index]
                    else:
                        server.stats.statuses[status] += 1
                try:
                    if status == 0:
                        self._fault(str(body))
                    else:
                        self._send(status, body, headers)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _send(self, status: int, body: object, headers: dict[str, str], truncate: bool = False) -> None:
                payload = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                if truncate:
                    payload = payload[: max(len(payload) // 2, 1)]
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=UTF-8")  # FMP says JSON even for text
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def _fault(self, kind: str) -> None:
                if kind == "server_error":
                    self._send(503, {"Error Message": "Service Unavailable"}, {})
                elif kind == "timeout":
                    time.sleep(server.faults.slow_answer_s)
                    self._send(504, {"Error Message": "Gateway Timeout"}, {})
                elif kind == "truncated":
                    self._send(200, [{"symbol": "X", "date": "2020-01-01"}] * 50, {}, truncate=True)
                else:
                    self._send(200, LIMIT_BODY, {})

        return Handler


def fmp_source_for(
    fake: FakeFmpServer, cache_dir, api_key: str | None = None, selection: int | tuple[str, ...] = 20, **config: object
):
    """An FmpSource on `fake` with test-friendly timings (short timeout and backoff); `config`
    overrides FmpSettings fields (rate_limit, rate_period_s, api, ...)."""

    settings = {
        "rate_limit": 1000,
        "rate_period_s": 1.0,
        "timeout_s": 1.0,
        "backoff_initial_s": 0.01,
        "backoff_max_s": 0.2,
        "max_retries": 6,
        **config,
    }
    limiter_file = settings.pop("rate_limit_file", None)
    client = FmpClient(
        FmpSettings(base_url=fake.url, **settings),  # type: ignore[arg-type]
        api_key or fake.api_key,
        rate_limit_file=limiter_file,  # type: ignore[arg-type]
    )
    return FmpSource(client, DiskCache(cache_dir), selection=selection, history_start=date(2022, 1, 1))
