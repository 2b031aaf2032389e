"""The simulated source: a deterministic synthetic market behind the common source interface."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import pandas as pd

from smart_money.data import calendar as cal
from smart_money.data.schemas import TABLES, UNIVERSE, empty_frame
from smart_money.data.source import FetchResult, Gap, OracleSource
from smart_money.sources.simulated.etfs import EtfBook
from smart_money.sources.simulated.events import CongressBook, InsiderBook
from smart_money.sources.simulated.institutions import ThirteenFBook, filer_cik
from smart_money.sources.simulated.oracle import Oracle
from smart_money.sources.simulated.params import MARKET_ETF, SimulationParams
from smart_money.sources.simulated.truth import injected_abnormal_returns
from smart_money.sources.simulated.world import ORIGIN_MONTH, World

INDUSTRY_WORDS = (
    "Systems Labs Holdings Therapeutics Bancorp Energy Foods Materials Networks Dynamics "
    "Logistics Brands Realty Semiconductor Software Pharma Utilities Media Devices Capital"
).split()
SUFFIXES = ("Inc", "Corp", "Co", "Group", "plc", "Ltd")
EARLIEST_START = cal.add_months(ORIGIN_MONTH, 14)


@dataclass
class _Bundle:
    """Everything generated for one (size, seed, params, horizon), built lazily and shared."""

    world: World

    @cached_property
    def insiders(self) -> InsiderBook:
        return InsiderBook(self.world)

    @cached_property
    def congress(self) -> CongressBook:
        return CongressBook(self.world)

    @cached_property
    def thirteen_f(self) -> ThirteenFBook:
        return ThirteenFBook(self.world)

    @cached_property
    def etfs(self) -> EtfBook:
        return EtfBook(self.world)

    @cached_property
    def etf_prices(self) -> dict[str, np.ndarray]:
        return self.etfs.price_paths()

    @cached_property
    def oracle(self) -> Oracle:
        return Oracle(self.world, self.insiders, self.congress, self.thirteen_f)


@lru_cache(maxsize=4)
def _bundle(n_symbols: int, seed: int, params: SimulationParams, horizon: pd.Timestamp) -> _Bundle:
    return _Bundle(World(n_symbols, seed, params, horizon))


def _hash_uniform(i: np.ndarray, d: np.ndarray, salt: float) -> np.ndarray:
    """Cheap deterministic pseudo-random numbers per (symbol, session) for cosmetic noise."""
    x = np.sin(i * 12.9898 + d * 78.233 + salt * 37.719) * 43758.5453
    return x - np.floor(x)


class SimulatedSource(OracleSource):
    """Deterministic synthetic market (see world.py). `horizon` is the last month it must cover;
    it only decides how far the world is generated, never what any month contains."""

    name = "simulated"

    def __init__(
        self,
        n_symbols: int = 500,
        seed: int = 7,
        params: SimulationParams | None = None,
        horizon: pd.Timestamp | None = None,
    ):
        self.n_symbols = n_symbols
        self.seed = seed
        self.params = params or SimulationParams()
        self.horizon = cal.month_start(horizon or pd.Timestamp.today())

    @property
    def bundle(self) -> _Bundle:
        return _bundle(self.n_symbols, self.seed, self.params, self.horizon)

    @property
    def world(self) -> World:
        return self.bundle.world

    def describe(self) -> dict[str, str]:
        return {
            "source": self.name,
            "symbols": str(self.n_symbols),
            "seed": str(self.seed),
            "strength": str(self.params.strength),
        }

    def default_hedge_funds(self) -> list[str]:
        """The 13F filers that act as hedge funds in this market."""
        n = min(self.params.n_hedge_funds, self.params.n_institutions)
        return [filer_cik(f) for f in range(n)]

    def market_index(self) -> str:
        return MARKET_ETF

    # -- universe --------------------------------------------------------------------------------
    def universe(self, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
        w = self.world
        p = self.params
        last = (
            len(w.sessions) - 1
            if as_of is None
            else int(w.sessions.searchsorted(pd.Timestamp(as_of), side="right")) - 1
        )
        idx = np.arange(w.n)
        names = [
            f"{t.title()} {INDUSTRY_WORDS[(i * 7 + self.seed) % len(INDUSTRY_WORDS)]} {SUFFIXES[i % len(SUFFIXES)]}"
            for i, t in enumerate(w.universe.tickers)
        ]
        stocks = pd.DataFrame(
            dict(
                symbol=w.universe.tickers,
                name=names,
                asset_type="stock",
                sector=[p.sectors[s][0] for s in w.universe.sector],
                cik=[str(2_000_000 + i).zfill(10) for i in idx],
                shares_outstanding=w.shares_outstanding[:, max(last, 0)],
                member_from=w.sessions[0],
                member_to=pd.NaT,
            )
        )
        etf_rows = [
            dict(
                symbol=e.symbol,
                name=f"Simulated {e.style.title()} ETF"
                if e.style != "sector"
                else f"Simulated {p.sectors[e.sector][0]} ETF",
                asset_type="etf",
                sector=p.sectors[e.sector][0] if e.style == "sector" else None,
                cik=None,
                shares_outstanding=np.nan,
                member_from=w.sessions[0],
                member_to=pd.NaT,
            )
            for e in self.bundle.etfs.etfs
        ]
        frame = pd.concat([stocks, pd.DataFrame(etf_rows)], ignore_index=True)
        return frame[UNIVERSE.columns]

    # -- tables ----------------------------------------------------------------------------------
    def _symbol_indices(self, symbols: Sequence[str], table: str) -> tuple[np.ndarray, list[Gap]]:
        lookup = {t: i for i, t in enumerate(self.world.universe.tickers)}
        known = [lookup[s] for s in symbols if s in lookup]
        etfs = {e.symbol for e in self.bundle.etfs.etfs}
        gaps = [Gap(s, table, "unknown symbol") for s in symbols if s not in lookup and s not in etfs]
        return np.array(sorted(known), dtype=int), gaps

    def fetch(self, table: str, symbols: Sequence[str], start: pd.Timestamp, end: pd.Timestamp) -> FetchResult:
        if table not in TABLES:
            raise KeyError(f"unknown table {table!r}; expected one of {sorted(TABLES)}")
        start, end = pd.Timestamp(start), pd.Timestamp(end)
        if start < cal.month_start(self.world.sessions[0]):
            raise ValueError(
                f"the simulated market starts in {self.world.sessions[0]:%Y-%m}; asked for {start:%Y-%m-%d}"
            )
        if end > self.world.sessions[-1] + pd.Timedelta(days=1):
            raise ValueError(
                f"the simulated world was generated up to {self.world.sessions[-1]:%Y-%m-%d}; "
                f"asked for rows up to {end:%Y-%m-%d} (raise the horizon)"
            )
        sym_idx, gaps = self._symbol_indices(symbols, table)
        spec = TABLES[table]
        if table == "prices":
            frame = self._prices(symbols, sym_idx, start, end)
        elif table == "insider_trades":
            frame = self._window(self.bundle.insiders.records, sym_idx, start, end)
        elif table == "congress_trades":
            frame = self._window(self.bundle.congress.records, sym_idx, start, end)
        elif table == "institutional_holdings":
            frame = self.bundle.thirteen_f.records(start, end, sym_idx)
        else:
            frame = self.bundle.etfs.records(start, end, sym_idx)
        if frame.empty:
            frame = empty_frame(spec)
        return FetchResult(
            table=table, frame=frame.reset_index(drop=True), gaps=gaps, stats={"rows": float(len(frame))}
        )

    def _window(
        self, records: pd.DataFrame, sym_idx: np.ndarray, start: pd.Timestamp, end: pd.Timestamp
    ) -> pd.DataFrame:
        tickers = set(self.world.universe.tickers[sym_idx])
        mask = (records["known_at"] >= start) & (records["known_at"] < end) & records["symbol"].isin(tickers)
        return records.loc[mask]

    def _prices(
        self, symbols: Sequence[str], sym_idx: np.ndarray, start: pd.Timestamp, end: pd.Timestamp
    ) -> pd.DataFrame:
        w = self.world
        lo, hi = w.sessions.searchsorted(start), w.sessions.searchsorted(end)
        days = np.arange(lo, hi)
        frames = []
        if len(sym_idx) and len(days):
            ii, dd = np.meshgrid(sym_idx, days, indexing="ij")
            close = w.close[ii, dd]
            prev = (
                w.close[ii, np.maximum(dd - 1, 0)] * w.split_factor[ii, np.maximum(dd - 1, 0)] / w.split_factor[ii, dd]
            )
            sigma = (w.universe.base_vol[ii] / np.sqrt(252.0)).clip(0.005)
            gap = (_hash_uniform(ii, dd, 1) - 0.5) * sigma * 0.8
            open_ = np.where(dd == 0, close, prev * np.exp(gap))
            high = np.maximum(open_, close) * np.exp(_hash_uniform(ii, dd, 2) * sigma * 0.6)
            low = np.minimum(open_, close) * np.exp(-_hash_uniform(ii, dd, 3) * sigma * 0.6)
            move = np.abs(w.log_return[ii, dd]) / sigma
            volume = np.round(
                w.shares_outstanding[ii, dd]
                * w.universe.turnover[ii]
                * np.exp(_hash_uniform(ii, dd, 4) - 0.5)
                * (1.0 + 0.5 * move)
            )
            volume = np.where(_hash_uniform(ii, dd, 5) < 0.003, np.nan, volume)
            frames.append(
                pd.DataFrame(
                    dict(
                        symbol=w.universe.tickers[ii.ravel()],
                        date=w.sessions[dd.ravel()],
                        open=open_.ravel(),
                        high=high.ravel(),
                        low=low.ravel(),
                        close=close.ravel(),
                        adj_close=w.adj_close[ii, dd].ravel(),
                        volume=volume.ravel(),
                        shares_outstanding=w.shares_outstanding[ii, dd].ravel(),
                    )
                )
            )
        etf_paths = self.bundle.etf_prices
        for symbol in symbols:
            if symbol in etf_paths and len(days):
                path = etf_paths[symbol][days]
                frames.append(
                    pd.DataFrame(
                        dict(
                            symbol=symbol,
                            date=w.sessions[days],
                            open=path,
                            high=path,
                            low=path,
                            close=path,
                            adj_close=path,
                            volume=np.round(5e6 * np.exp(_hash_uniform(np.full(len(days), 9_999), days, 6))),
                            shares_outstanding=np.nan,
                        )
                    )
                )
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    # -- oracle ----------------------------------------------------------------------------------
    def independent_twin(self, index: int, n_symbols: int, horizon: pd.Timestamp) -> SimulatedSource:
        """The `index`-th independent universe: same parameters, seed `seed * 1000 + 101 + index`."""
        return SimulatedSource(n_symbols, self.seed * 1000 + 101 + index, self.params, horizon=horizon)

    def seed_label(self) -> int:
        return self.seed

    def generator_key(self) -> str:
        """The world is a pure function of these (params is a frozen dataclass: its repr lists
        every field, so a changed default changes the key)."""
        return f"{self.name}|n={self.n_symbols}|seed={self.seed}|horizon={self.horizon:%Y-%m}|{self.params!r}"

    def close(self) -> None:
        """Drop every generated world (they are rebuilt on demand, identically)."""
        _bundle.cache_clear()

    def injected_abnormal_returns(self, events: pd.DataFrame, horizons: Sequence[int]) -> pd.DataFrame:
        """For events (symbol, known_at): the abnormal return the market injected behind them over
        each horizon, from its latent state (see truth.py); columns `injected_<h>`, events' index."""
        frame = injected_abnormal_returns(self.world, events["symbol"].tolist(), events["known_at"], horizons)
        return frame.set_index(events.index)

    def oracle(self, samples: pd.DataFrame, mirror: bool = False) -> pd.DataFrame:
        """`oracle_truth` and `oracle_public` for rows (symbol, sample_date); `mirror=True` gives
        the probabilities of the mirror label (falls by more than 5 %)."""
        w = self.world
        lookup = {t: i for i, t in enumerate(w.universe.tickers)}
        out = pd.DataFrame(index=samples.index, data={"oracle_truth": np.nan, "oracle_public": np.nan})
        for sample, group in samples.groupby("sample_date"):
            k = w.period_of_sample(pd.Timestamp(sample))
            sym = group["symbol"].map(lookup)
            ok = sym.notna()
            if not ok.any():
                continue
            truth, public = self.bundle.oracle.probabilities(k, sym[ok].astype(int).to_numpy(), mirror=mirror)
            out.loc[group.index[ok.to_numpy()], "oracle_truth"] = truth
            out.loc[group.index[ok.to_numpy()], "oracle_public"] = public
        return out
