"""`PublicRecordsSource`: local files of public records behind the source interface.

The records folder is read by convention (docs/real-data.md):

    congress/senate/*.csv|json      Senate Stock Watcher exports
    congress/house/*.csv|json       House Stock Watcher exports
    insider/openinsider*/*.csv      OpenInsider purchase screens
    insider/form4*/*.tar.xz         SEC Form 4 transactions as JSON (or a folder of them)
    13f/*/*holdings*.tar.xz         13F-HR filings per manager, with cusip_map.csv and
                                    stocks_us.csv (CUSIP -> ticker, names, sectors) beside it
    sec/insider/*_form345.zip       the SEC's Insider Transactions Data Sets (sec/records.py)
    sec/13f/*_form13f.zip           the SEC's Form 13F Data Sets, with sec/13f/cusip_map.csv;
                                    for the filing dates they cover they replace the
                                    third-party insider and 13F files
    etf/*/fund-holdings*.csv        daily ETF holdings
    prices/**/<TICKER>[_*].csv[.xz] Yahoo-style daily prices; prices/index/ holds the ETFs
                                    (SPY is the market index)
    normalized/<table>.csv|parquet  tables already in the project's schema (any vendor)
    ticker_changes.csv              optional: more renamed tickers (old,new)

A file that cannot be read (malformed CSV, bytes that are not UTF-8, a truncated .xz, tar or
ZIP, a missing column) is set aside whole and the rest is read: each fetch lists the files it
set aside (`FetchResult.quarantined_files`, the raw asset's `quarantined_files` metadata), the
universe those of the price files, names and ticker changes (`quarantined_files()`), and a
warning names each file once.

Every table is put on one symbol per company (renamed tickers) and on the price files' split
basis (share counts of insider lines, 13F positions and ETF holdings are restated when a split
happened between the record and the price download; see data.normalize.basis_factor). Each
fetch reads only what its window needs; the universe is every ticker with a price file (see the
survivorship note in docs/real-data.md), in a fixed pseudo-random order so that the first N
are a sample and the rest a held-out set.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from smart_money.data.normalize import basis_factor
from smart_money.data.quality import QUARANTINE_REASON
from smart_money.data.schemas import TABLES, UNIVERSE, empty_frame
from smart_money.data.source import FetchResult, Gap, ListedUniverseSource, QuarantinedFile
from smart_money.sources.public_records import (
    congress,
    etf,
    form4,
    normalized,
    openinsider,
    prices,
    thirteenf,
    tickers,
)
from smart_money.sources.public_records.common import (
    FILE_ERRORS,
    Parsed,
    file_problem,
    normalize_tickers,
    read_or_set_aside,
)
from smart_money.sources.public_records.sec.records import SecDataSets

MARKET_INDEX = "SPY"
INDEX_FOLDER = "index"
PRICE_READERS = 4  # price files are xz: decompression runs outside the GIL
DELISTED_AFTER_DAYS = 30
RESTATED = (
    "insider_trades",
    "institutional_holdings",
    "etf_holdings",
)  # tables with share counts  # a price file ending this long before the newest one is a delisted name


class RecordsFolderError(FileNotFoundError):
    """The records folder is missing or holds nothing this source can read."""


@dataclass
class RecordFiles:
    """The files of a records folder, by format."""

    root: Path
    senate: list[Path] = field(default_factory=list)
    house: list[Path] = field(default_factory=list)
    openinsider: list[Path] = field(default_factory=list)
    form4: list[Path] = field(default_factory=list)
    thirteenf: list[Path] = field(default_factory=list)
    cusip_maps: list[Path] = field(default_factory=list)
    etf: list[Path] = field(default_factory=list)
    price_candidates: list[Path] = field(default_factory=list)
    ticker_changes: list[Path] = field(default_factory=list)
    sec_insider: list[Path] = field(default_factory=list)
    sec_13f: list[Path] = field(default_factory=list)

    @classmethod
    def discover(cls, root: Path) -> RecordFiles:
        root = Path(root)
        if not root.is_dir():
            raise RecordsFolderError(f"SMART_MONEY_PUBLIC_RECORDS_DIR={root}: no such folder")

        def files(*patterns: str) -> list[Path]:
            return sorted(
                {p for pattern in patterns for p in root.glob(pattern) if p.is_file() and not p.name.startswith(".")}
            )

        maps = (
            files("13f/*/cusip_map.csv", "13f/*/cusip*.csv")
            + files("sec/13f/cusip*.csv")
            + files("13f/*/stocks_us.csv")
        )
        found = cls(
            root=root,
            senate=files("congress/senate/*.csv", "congress/senate/*.csv.xz", "congress/senate/*.json"),
            house=files("congress/house/*.csv", "congress/house/*.csv.xz", "congress/house/*.json"),
            openinsider=files("insider/openinsider*/*.csv"),
            form4=files("insider/form4*/*.tar.xz") + sorted(p for p in root.glob("insider/form4*/data") if p.is_dir()),
            thirteenf=files("13f/*/*holdings*.tar.xz"),
            cusip_maps=list(dict.fromkeys(maps)),
            etf=files("etf/*/fund-holdings*.csv"),
            price_candidates=files("prices/**/*.csv", "prices/**/*.csv.xz"),
            ticker_changes=files("ticker_changes.csv"),
            sec_insider=files("sec/insider/*.zip"),
            sec_13f=files("sec/13f/*.zip"),
        )
        if not found.price_candidates and not normalized.files_for(root / "normalized", "prices"):
            raise RecordsFolderError(
                f"{root}: no price files (prices/**/<TICKER>.csv[.xz] or normalized/prices.csv|parquet); every "
                "sample needs prices"
            )
        return found

    def counts(self) -> dict[str, int]:
        return {
            name: len(getattr(self, name))
            for name in (
                "senate",
                "house",
                "openinsider",
                "form4",
                "thirteenf",
                "cusip_maps",
                "etf",
                "price_candidates",
                "sec_insider",
                "sec_13f",
            )
        }


@dataclass(frozen=True)
class PriceFile:
    symbol: str
    path: Path
    is_index: bool


class PublicRecordsSource(ListedUniverseSource):
    """Public records from local files (see the module docstring for the folder layout)."""

    name = "public_records"

    def __init__(self, root: Path, log: logging.Logger | None = None):
        self.files = RecordFiles.discover(Path(root))
        self.root = self.files.root
        self.log = log or logging.getLogger("smart_money.public_records")
        self._closes: dict[str, pd.Series] = {}
        self._spans: dict[str, tuple[pd.Timestamp, pd.Timestamp]] = {}
        self._universe: pd.DataFrame | None = None
        self._set_aside: dict[str, QuarantinedFile] = {}
        self._set_aside_lock = threading.Lock()
        self._normalized_tables: dict[str, Parsed] = {}
        self.sec = SecDataSets(self.files.sec_insider, self.files.sec_13f, lambda: self.cusip_to_ticker)

    def describe(self) -> dict[str, str]:
        return {
            "source": self.name,
            "records": str(self.root),
            "files": ", ".join(f"{k} {v}" for k, v in self.files.counts().items()),
        }

    def market_index(self) -> str:
        return MARKET_INDEX

    def summarize_rows(
        self,
        table: str,
        rows: pd.DataFrame,
        quarantined: pd.DataFrame,
        stats: Mapping[str, float] | None = None,
    ) -> dict[str, float]:
        """What the SEC's data sets contributed (SecDataSets.summary); nothing without SEC files."""
        return self.sec.summary(table, rows, quarantined, stats)

    # -- files set aside -------------------------------------------------------------------------
    def _note(self, problems: Iterable[QuarantinedFile]) -> list[QuarantinedFile]:
        """`problems` with file names relative to the folder, remembered (a warning the first
        time a file is set aside)."""
        noted = []
        prefix = f"{self.root}{os.sep}"
        for problem in problems:
            shown = problem.file.removeprefix(prefix)
            named = QuarantinedFile(shown, problem.table, problem.reason)
            with self._set_aside_lock:
                first = shown not in self._set_aside
                self._set_aside[shown] = named
            if first:
                self.log.warning("public records: %s set aside (%s): %s", shown, problem.table, problem.reason)
            noted.append(named)
        return noted

    def quarantined_files(self) -> list[QuarantinedFile]:
        with self._set_aside_lock:
            return sorted(self._set_aside.values(), key=lambda f: f.file)

    def _price_file_problems(self) -> list[QuarantinedFile]:
        return [f for f in self.quarantined_files() if f.table == "prices"]

    @cached_property
    def cusip_to_ticker(self) -> dict[str, str]:
        """CUSIP -> ticker from the folder's maps (a map that cannot be read is set aside)."""
        bad: list[QuarantinedFile] = []
        mapping = thirteenf.read_cusip_map(self.files.cusip_maps, bad)
        self._note(bad)
        return mapping

    # -- prices and symbols ------------------------------------------------------------------
    @cached_property
    def price_files(self) -> dict[str, PriceFile]:
        """Raw ticker -> its Yahoo-style file (the longest file when several share a ticker)."""
        chosen: dict[str, PriceFile] = {}
        bad: list[QuarantinedFile] = []
        for path in self.files.price_candidates:
            if not read_or_set_aside(path, "prices", prices.is_yahoo_style, bad):
                continue
            symbol = normalize_tickers(pd.Series([prices.symbol_of(path)])).iloc[0]
            current = chosen.get(symbol)
            if current is None or path.stat().st_size > current.path.stat().st_size:
                chosen[symbol] = PriceFile(symbol, path, INDEX_FOLDER in path.relative_to(self.root).parts)
        self._note(bad)
        return chosen

    @cached_property
    def aliases(self) -> dict[str, str]:
        bad: list[QuarantinedFile] = []
        changes = tickers.read_changes(self.files.ticker_changes, bad)
        self._note(bad)
        priced = set(self.price_files) | set(self._normalized("prices").get("symbol", pd.Series(dtype=str)).dropna())
        return tickers.aliases(changes, priced)

    def canonical(self, symbols: pd.Series) -> pd.Series:
        return tickers.canonical(symbols, self.aliases)

    def _normalized_parsed(self, table: str) -> Parsed:
        """The normalized layout's `table` (read once per source), its bad files noted."""
        if table not in self._normalized_tables:
            parsed = normalized.read(self.root / "normalized", table)
            self._note(parsed.bad_files)
            self._normalized_tables[table] = parsed
        return self._normalized_tables[table]

    def _normalized(self, table: str) -> pd.DataFrame:
        return self._normalized_parsed(table).frame

    def _canonical_files(self) -> dict[str, PriceFile]:
        """Canonical symbol -> price file (renamed tickers' old files left out when the new
        ticker has its own)."""
        out: dict[str, PriceFile] = {}
        for raw, file in self.price_files.items():
            symbol = self.aliases.get(raw, raw)
            if symbol not in out or symbol == raw:
                out[symbol] = file
        return out

    def _read_prices(self, files: list[PriceFile]) -> tuple[list[pd.DataFrame], Counter, list[QuarantinedFile]]:
        """The files' price tables (a file that cannot be read is set aside: an empty table)."""
        counts: Counter = Counter()
        bad: list[QuarantinedFile] = []

        def one(file: PriceFile) -> pd.DataFrame:
            try:
                frame, file_counts = prices.read(file.path, self.aliases.get(file.symbol, file.symbol))
            except FILE_ERRORS as error:
                bad.append(file_problem(file.path, "prices", error))
                return pd.DataFrame()
            counts.update(file_counts)
            return frame

        with ThreadPoolExecutor(max_workers=PRICE_READERS) as pool:
            frames = list(pool.map(one, files))
        bad = self._note(bad)
        for frame in frames:
            if len(frame):
                symbol = frame["symbol"].iloc[0]
                self._spans[symbol] = (frame["date"].min(), frame["date"].max())
                self._closes[symbol] = frame.set_index("date")["close"].astype("float32")
        return frames, counts, bad

    def _ensure_closes(self, symbols: set[str]) -> None:
        """Closes of `symbols` from their price files, else from the normalized layout's prices."""
        files = self._canonical_files()
        missing = [files[s] for s in sorted(symbols) if s in files and s not in self._closes]
        if missing:
            self._read_prices(missing)
        user = self._normalized("prices")
        wanted = symbols - set(self._closes) - set(files)
        if wanted and len(user):
            user = user.assign(symbol=self.canonical(user["symbol"]))
            for symbol, rows in user[user["symbol"].isin(wanted)].groupby("symbol"):
                self._closes[symbol] = rows.set_index("date")["close"].sort_index().astype("float32")

    def close_on(self, symbols: pd.Series, days: pd.Series) -> np.ndarray:
        """The close (price-file basis) on the last session on or before each day; NaN when the
        symbol has no price file or no price by then."""
        self._ensure_closes(set(symbols.dropna()))
        out = np.full(len(symbols), np.nan)
        frame = pd.DataFrame({"symbol": symbols.to_numpy(), "day": pd.to_datetime(days).to_numpy()})
        for symbol, rows in frame.groupby("symbol").groups.items():
            series = self._closes.get(symbol)
            if series is None or series.empty:
                continue
            pos = series.index.searchsorted(frame.loc[rows, "day"].to_numpy(), side="right") - 1
            values = np.where(pos >= 0, series.to_numpy()[np.clip(pos, 0, None)], np.nan)
            out[np.asarray(rows)] = values
        return out

    # -- universe --------------------------------------------------------------------------------
    def _scan_spans(self, files: dict[str, PriceFile]) -> None:
        """Each file's listing span; a file that cannot be read is set aside (no span: the
        ticker stays out of the universe)."""
        todo = [(symbol, file) for symbol, file in files.items() if symbol not in self._spans]
        bad: list[QuarantinedFile] = []
        with ThreadPoolExecutor(max_workers=PRICE_READERS) as pool:
            spans = list(pool.map(lambda item: read_or_set_aside(item[1].path, "prices", prices.date_span, bad), todo))
        self._note(bad)
        for (symbol, _), span in zip(todo, spans):
            if span is not None:
                self._spans[symbol] = span

    def _build_universe(self) -> pd.DataFrame:
        """Every ticker with prices (after renames), with its listing span as membership; the
        index ETFs as `etf`. Names and sectors from stocks_us.csv where it lists them."""
        files = self._canonical_files()
        self._scan_spans(files)
        rows = [
            {
                "symbol": s,
                "asset_type": "etf" if f.is_index else "stock",
                "member_from": self._spans[s][0],
                "last": self._spans[s][1],
                "folder": str(f.path.parent),
            }
            for s, f in files.items()
            if s in self._spans
        ]
        frame = pd.DataFrame(rows, columns=["symbol", "asset_type", "member_from", "last", "folder"])
        user_prices = self._normalized("prices")
        if len(user_prices):
            spans = user_prices.groupby("symbol")["date"].agg(["min", "max"]).reset_index()
            extra = spans[~spans["symbol"].isin(frame["symbol"])]
            frame = pd.concat(
                [
                    *([frame] if len(frame) else []),
                    pd.DataFrame(
                        {
                            "symbol": extra["symbol"],
                            "asset_type": "stock",
                            "member_from": extra["min"],
                            "last": extra["max"],
                            "folder": "normalized",
                        }
                    ),
                ],
                ignore_index=True,
            )
        frame["member_from"], frame["last"] = pd.to_datetime(frame["member_from"]), pd.to_datetime(frame["last"])
        # a series ending well before the newest one of its collection (one download) is a
        # name that stopped trading: its membership ends there
        newest = frame.groupby("folder")["last"].transform("max")
        frame["member_to"] = frame["last"].where(frame["last"] < newest - pd.Timedelta(days=DELISTED_AFTER_DAYS))
        names = self._names()
        frame["name"] = frame["symbol"].map(names["name"])
        frame["sector"] = frame["symbol"].map(names["sector"])
        frame["cik"] = None
        frame["shares_outstanding"] = np.nan  # no public file here gives it point in time
        user = self._normalized("universe")
        if len(user):
            user = user.assign(symbol=self.canonical(user["symbol"]))
            frame = pd.concat([user, frame[~frame["symbol"].isin(user["symbol"])]], ignore_index=True)
        frame["_order"] = [0 if a == "etf" else 1 for a in frame["asset_type"]]
        frame["_hash"] = [hashlib.sha1(str(s).encode()).hexdigest() for s in frame["symbol"]]
        frame = frame.sort_values(["_order", "_hash"], ignore_index=True)
        return frame[UNIVERSE.columns]

    def _names(self) -> pd.DataFrame:
        """Ticker -> name, sector from the listings beside the 13F files (stocks_us.csv)."""
        tables = []
        bad: list[QuarantinedFile] = []
        for path in self.files.cusip_maps:
            table = read_or_set_aside(path, "universe", lambda p: pd.read_csv(p, dtype=str, keep_default_na=False), bad)
            if table is not None and {"ticker", "name"} <= set(table.columns):
                tables.append(table.assign(ticker=self.canonical(normalize_tickers(table["ticker"]))))
        self._note(bad)
        if not tables:
            return pd.DataFrame(columns=["name", "sector"])
        listing = pd.concat(tables, ignore_index=True).dropna(subset=["ticker"]).drop_duplicates("ticker")
        listing = listing.set_index("ticker")
        if "sector" not in listing:
            listing["sector"] = None
        return listing[["name", "sector"]].replace({"": None})

    # -- event tables --------------------------------------------------------------------------
    def _parse(self, table: str, start: pd.Timestamp, end: pd.Timestamp, symbols: set[str] | None = None) -> Parsed:
        """Every row of `table` the files hold around the window (readers of the tar files skip
        what the window cannot need; the SEC files' rows may be limited to `symbols`, as stored
        in the files), plus the normalized layout's rows."""
        bad: list[QuarantinedFile] = []
        if table == "congress_trades":
            parsed = congress.read({"senate": self.files.senate, "house": self.files.house})
        elif table == "insider_trades":
            parts = [openinsider.read(self.files.openinsider)] if self.files.openinsider else []
            parts += [read_or_set_aside(p, table, lambda q: form4.read(q, start, end), bad) for p in self.files.form4]
            parts = [p for p in parts if p is not None]
            if self.sec.files["insider"]:
                sec = self.sec.insider_trades(start, end, symbols)  # first: a file set aside covers nothing
                parts = [self.sec.replace_covered("insider", Parsed.concat(parts)), sec]
            parsed = Parsed.concat(parts)
            parsed.frame = self._drop_cross_source_duplicates(parsed.frame, parsed.counts)
        elif table == "institutional_holdings":
            mapping = self.cusip_to_ticker
            parts = [
                part
                for p in self.files.thirteenf
                if (part := read_or_set_aside(p, table, lambda q: thirteenf.read(q, mapping, start, end), bad))
                is not None
            ]
            if self.sec.files["13f"]:
                sec = self.sec.institutional_holdings(start, end, symbols)
                parts = [self.sec.replace_covered("13f", Parsed.concat(parts)), sec]
            parsed = Parsed.concat(parts)
        elif table == "etf_holdings":
            parsed = etf.read(self.files.etf)
        elif table == "prices":
            raise ValueError("prices are read per symbol, not parsed as a whole")
        else:
            raise KeyError(f"unknown table {table!r}; expected one of {sorted(TABLES)}")
        user = self._normalized_parsed(table)
        if len(user.frame):
            parsed.frame = pd.concat([f for f in (parsed.frame, user.frame) if len(f)], ignore_index=True)
            parsed.counts["rows_from_normalized_layout"] += len(user.frame)
        if len(user.rejected):
            parsed.rejected = pd.concat([parsed.rejected, user.rejected], ignore_index=True)
        parsed.bad_files += bad + user.bad_files
        return parsed

    @staticmethod
    def _drop_cross_source_duplicates(frame: pd.DataFrame, counts: Counter) -> pd.DataFrame:
        """A trade in two insider files (a screen and the Form 4 set) is kept once, preferring
        a real filing date (OpenInsider) over a derived deadline (the Form 4 set)."""
        if frame.empty:
            return frame
        derived = frame["record_id"].astype(str).str.startswith("f4-")
        key = ["symbol", "event_date", "transaction_code", "shares", "price"]
        screened = pd.MultiIndex.from_frame(frame.loc[~derived, key])
        repeated = derived & pd.MultiIndex.from_frame(frame[key]).isin(screened)
        counts["duplicates_across_insider_files"] += int(repeated.sum())
        return frame[~repeated].reset_index(drop=True)

    def _restate_shares(self, table: str, frame: pd.DataFrame, counts: Counter) -> pd.DataFrame:
        """Share counts (and insider prices) onto the price files' basis: the ratio of the
        record's own price (insider price, 13F or ETF value per share) to the file's close that
        day tells the split between them (1 without one). Values in USD do not change."""
        if frame.empty or table not in RESTATED:
            return frame
        if table == "insider_trades":
            reported = frame["price"]
        elif table == "institutional_holdings":
            reported = frame["value_usd"] / frame["shares"]
        else:
            reported = frame["market_value"] / frame["shares"]
        close = self.close_on(frame["symbol"], frame["event_date"])
        factor = basis_factor(reported.to_numpy(dtype=float) / close)
        restate = np.isfinite(factor) & (factor != 1.0)
        counts["shares_restated_to_price_basis"] += int(restate.sum())
        counts["price_basis_unknown"] += int((~np.isfinite(factor)).sum())
        frame = frame.copy()
        k = np.where(restate, factor, 1.0)
        frame["shares"] = frame["shares"] * k
        if table == "insider_trades":
            frame["price"] = frame["price"] / k
            frame["shares_owned_after"] = frame["shares_owned_after"] * k
        return frame

    def fetch(self, table: str, symbols: Sequence[str], start: pd.Timestamp, end: pd.Timestamp) -> FetchResult:
        if table not in TABLES:
            raise KeyError(f"unknown table {table!r}; expected one of {sorted(TABLES)}")
        start, end = pd.Timestamp(start), pd.Timestamp(end)
        wanted = set(self.canonical(pd.Series(list(symbols), dtype=object)))
        if table == "prices":
            return self._fetch_prices(wanted, start, end)
        spec = TABLES[table]
        as_filed = wanted | {
            old for old, new in self.aliases.items() if new in wanted
        }  # tickers as the files write them
        parsed = self._parse(table, start, end, as_filed)
        frame = parsed.frame if len(parsed.frame) else empty_frame(spec)
        frame = frame.assign(symbol=self.canonical(frame["symbol"]))
        column = frame[spec.partition_column]
        frame = frame[frame["symbol"].isin(wanted) & (column >= start) & (column < end)].reset_index(drop=True)
        frame = self._restate_shares(table, frame, parsed.counts)
        rejected = parsed.rejected
        if len(rejected):
            rejected = rejected.assign(symbol=self.canonical(normalize_tickers(rejected["symbol"])))
            rejected = rejected[rejected["symbol"].isin(wanted)].reset_index(drop=True)
        stats = {
            "rows": float(len(frame)),
            "symbols_with_rows": float(frame["symbol"].nunique()),
            "rows_rejected_by_reader": float(len(rejected)),
            **{k: float(v) for k, v in parsed.counts.items() if v},
        }
        stats.update(self.sec.window_stats(table, frame))
        set_aside = self._note(parsed.bad_files)
        if set_aside:
            stats["files_set_aside"] = float(len(set_aside))
        self.log.info(
            "public records %s: %d rows for %d symbols in [%s, %s)",
            table,
            len(frame),
            frame["symbol"].nunique(),
            f"{start:%Y-%m-%d}",
            f"{end:%Y-%m-%d}",
        )
        return FetchResult(
            table=table,
            frame=frame,
            gaps=[],
            stats=stats,
            rejected=rejected if len(rejected) else None,
            quarantined_files=set_aside,
        )

    def coverage(self, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        """Per event table and year of `known_at` in [start, end): rows and tickers in the
        records, and how many of them have a price file (the rest cannot be used: survivorship)."""
        priced = set(self._canonical_files()) | set(
            self._normalized("prices").get("symbol", pd.Series(dtype=str)).dropna()
        )
        rows = []
        for table in ("insider_trades", "institutional_holdings", "congress_trades", "etf_holdings"):
            frame = self._parse(table, start, end).frame
            if frame.empty:
                continue
            frame = frame.assign(symbol=self.canonical(frame["symbol"]))
            frame = frame[(frame["known_at"] >= start) & (frame["known_at"] < end)]
            for year, part in frame.groupby(frame["known_at"].dt.year):
                has_price = part["symbol"].isin(priced)
                rows.append(
                    {
                        "table": table,
                        "year": str(year),
                        "rows": int(len(part)),
                        "tickers": int(part["symbol"].nunique()),
                        "tickers_with_prices": int(part.loc[has_price, "symbol"].nunique()),
                        "rows_with_prices": int(has_price.sum()),
                    }
                )
        return pd.DataFrame(
            rows, columns=["table", "year", "rows", "tickers", "tickers_with_prices", "rows_with_prices"]
        )

    def universe_summary(self, start: pd.Timestamp, end: pd.Timestamp, run_size: int | None = None) -> pd.DataFrame:
        """Per price collection (folder under prices/, or the normalized layout): the stocks
        it gives the universe, how many a run of the first `run_size` uses, how many stopped
        trading before the collection's newest date (delisted), how many are listed only after
        `start` or stop before `end`, and how many renamed tickers are stored under them; plus
        the price files left out (not Yahoo-style, e.g. without adjusted closes)."""
        universe = self.universe()
        stocks = universe[universe["asset_type"] == "stock"].reset_index(drop=True)
        files = self._canonical_files()

        def collection(symbol: str) -> str:
            file = files.get(symbol)
            return "normalized" if file is None else "/".join(file.path.relative_to(self.root).parts[:2])

        stocks["collection"] = stocks["symbol"].map(collection)
        stocks["in_run"] = stocks.index < (run_size if run_size is not None else len(stocks))
        last = {s: self._spans[s][1] for s in stocks["symbol"] if s in self._spans}
        stored_renames = Counter(self.aliases.values())
        rows = []
        for name, part in stocks.groupby("collection"):
            ends = part["symbol"].map(last)
            rows.append(
                {
                    "price collection": name,
                    "stocks / files": len(part),
                    "in the run's universe": int(part["in_run"].sum()),
                    "delisted (series ends early)": int(part["member_to"].notna().sum()),
                    f"listed after {start:%Y-%m-%d}": int((part["member_from"] > start).sum()),
                    f"ending before {end:%Y-%m-%d}": int((ends < end).sum()),
                    "renamed tickers stored here": int(sum(stored_renames[s] for s in part["symbol"])),
                }
            )
        canonical, readable = {f.path for f in files.values()}, {f.path for f in self.price_files.values()}
        unused = Counter(
            (
                "/".join(p.relative_to(self.root).parts[:2]),
                "old symbol or shorter copy of a ticker with its own file"
                if p in readable
                else "not Yahoo-style (no adjusted close)",
            )
            for p in self.files.price_candidates
            if p not in canonical
        )
        for (name, reason), count in sorted(unused.items()):
            rows.append({"price collection": f"{name}: files not used ({reason})", "stocks / files": count})
        return (
            pd.DataFrame(rows).fillna(0).astype({c: int for c in rows[0] if c != "price collection"})
            if rows
            else pd.DataFrame()
        )

    def _fetch_prices(self, wanted: set[str], start: pd.Timestamp, end: pd.Timestamp) -> FetchResult:
        files = self._canonical_files()
        frames, counts, unreadable = self._read_prices([files[s] for s in sorted(wanted) if s in files])
        user = self._normalized("prices")
        if len(user):
            user = user.assign(symbol=self.canonical(user["symbol"]))
            frames.append(user[user["symbol"].isin(wanted)])
        gaps = [
            Gap(s, "prices", "no price file for this ticker in the records folder")
            for s in sorted(wanted)
            if s not in files and not (len(user) and (user["symbol"] == s).any())
        ]
        shown = {str(f.path).removeprefix(f"{self.root}{os.sep}"): s for s, f in files.items()}
        gaps += [Gap(shown[f.file], "prices", f"its price file {f.file} is unreadable (set aside)") for f in unreadable]
        frame = (
            pd.concat([f for f in frames if len(f)], ignore_index=True)
            if any(len(f) for f in frames)
            else empty_frame(TABLES["prices"])
        )
        frame = frame[(frame["date"] >= start) & (frame["date"] < end)].reset_index(drop=True)
        invalid = frame["close"].isna() | frame["adj_close"].isna()
        rejected = None
        if invalid.any():
            rejected = (
                frame[invalid].astype("string").assign(**{QUARANTINE_REASON: "prices: close or adjusted close missing"})
            )
            frame = frame[~invalid].reset_index(drop=True)
        user_rejected = self._normalized_parsed("prices").rejected
        if len(user_rejected):
            rejected = pd.concat([r for r in (rejected, user_rejected) if r is not None], ignore_index=True)
        # every price file set aside so far: at this read, and while listing the files or
        # scanning their dates for the universe
        set_aside = self._price_file_problems()
        stats = {
            "rows": float(len(frame)),
            "symbols_with_rows": float(frame["symbol"].nunique()),
            **{k: float(v) for k, v in counts.items() if v},
        }
        if set_aside:
            stats["files_set_aside"] = float(len(set_aside))
        return FetchResult(
            table="prices", frame=frame, gaps=gaps, stats=stats, rejected=rejected, quarantined_files=set_aside
        )
