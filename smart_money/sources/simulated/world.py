"""The latent world behind the simulated market: universe, regimes, news and daily returns.

Time is cut into monthly *periods*: period k runs over the sessions in (t_k, t_{k+1}], where
t_k is month k's sample date. Everything random is drawn from a generator keyed by
(seed, stream, period or quarter, symbol chunk), so any month can be produced on its own and
comes out identical whatever order months are asked for and however far the world extends.

Per symbol i and period k the latent state is
- v[i, k]: idiosyncratic volatility regime (Markov across periods),
- z[i, k]: private news in the label window of sample k (-1, 0, +1; independent),
- s[i, q]: slow state of the 13F season q the period belongs to (-1, 0, +1),
and the market has a volatility regime m[k]. Daily log returns are
    r = beta * M + gamma * S_sector + e,   e = drift(s) + sigma_i * mult(v) * eps + jumps + news.
The factors M and S are public (the market and sector ETF prices track them exactly), so the
posterior of the latent state given public data is computable exactly (see oracle.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from smart_money.data import calendar as cal
from smart_money.sources.simulated.params import SimulationParams, stationary

ORIGIN_MONTH = pd.Timestamp("2010-01-01")
CHUNK = 250  # symbols per random stream chunk; fixed forever (changing it changes the world)
SESSIONS_PER_YEAR = 252.0
SESSIONS_PER_MONTH = 21.0

# Random stream identifiers (never renumber: they define the world).
STREAM_UNIVERSE, STREAM_MARKET, STREAM_VOL, STREAM_NEWS, STREAM_SEASON = 1, 2, 3, 4, 5
STREAM_SPLIT = 6


def rng_for(seed: int, stream: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, stream, *keys]))


def quarter_index(day: pd.Timestamp) -> int:
    return day.year * 4 + (day.month - 1) // 3


def quarter_end(q: int) -> pd.Timestamp:
    year, quarter = divmod(q, 4)
    return pd.Timestamp(year, quarter * 3 + 3, 1) + pd.offsets.MonthEnd(0)


def thirteen_f_deadline(q: int) -> pd.Timestamp:
    return quarter_end(q) + pd.Timedelta(days=45)


def season_of(sample: pd.Timestamp) -> int:
    """The 13F quarter whose filing deadline is the latest on or before `sample`."""
    q = quarter_index(sample) - 1
    while thirteen_f_deadline(q) > sample:
        q -= 1
    return q


_TICKER_SPACE = 26**3
_TICKER_MULTIPLIER = 7919  # coprime with 26**3: i -> ticker is a bijection


def ticker_for(index: int, seed: int) -> str:
    code = (index * _TICKER_MULTIPLIER + seed * 104_729) % _TICKER_SPACE
    letters = []
    for _ in range(3):
        code, rem = divmod(code, 26)
        letters.append(chr(ord("A") + rem))
    return "".join(reversed(letters))


@dataclass
class Universe:
    """Static, per-symbol parameters."""

    tickers: np.ndarray  # (n,)
    sector: np.ndarray  # (n,) index into params.sectors
    beta: np.ndarray
    gamma: np.ndarray
    base_vol: np.ndarray  # annualised idiosyncratic vol before the regime multiplier
    log_price0: np.ndarray
    shares0: np.ndarray  # shares outstanding at the origin
    turnover: np.ndarray  # median daily turnover (share of shares outstanding)
    roster_size: np.ndarray  # insiders per company
    files_form4: np.ndarray  # False for foreign private issuers: exempt from Section 16, no Form 4s
    institutional_appeal: np.ndarray  # multiplies institutions' propensity to hold the stock

    @property
    def n(self) -> int:
        return len(self.tickers)


def make_universe(n: int, seed: int, params: SimulationParams) -> Universe:
    parts = []
    for chunk in range((n + CHUNK - 1) // CHUNK):
        rng = rng_for(seed, STREAM_UNIVERSE, chunk)
        size = CHUNK
        log_cap = rng.normal(np.log(8e9), 1.3, size)  # median $8bn, wide like a broad index
        log_price0 = rng.normal(np.log(60.0), 0.7, size)
        parts.append(
            dict(
                sector=rng.integers(0, len(params.sectors), size),
                beta=np.clip(rng.normal(1.0, 0.3, size), 0.3, 2.0),
                gamma=np.clip(rng.normal(0.8, 0.25, size), 0.0, 1.6),
                base_vol=np.exp(
                    np.log(params.idio_vol_median)
                    + params.idio_vol_size_slope * (log_cap - np.log(8e9))
                    + rng.normal(0.0, params.idio_vol_dispersion, size)
                ),
                log_price0=log_price0,
                shares0=np.round(np.exp(log_cap - log_price0), -3),
                turnover=np.exp(rng.normal(np.log(0.007), 0.4, size)),
                roster_size=rng.integers(params.insider_roster[0], params.insider_roster[1] + 1, size),
                files_form4=rng.random(size) >= params.foreign_issuer_share,
                institutional_appeal=np.where(rng.random(size) < params.low_institutional_share, 0.01, 1.0),
            )
        )
    arrays = {key: np.concatenate([p[key] for p in parts])[:n] for key in parts[0]}
    tickers = np.array([ticker_for(i, seed) for i in range(n)])
    return Universe(tickers=tickers, **arrays)


class World:
    """Latent states and daily returns of the simulated market up to a horizon."""

    def __init__(self, n_symbols: int, seed: int, params: SimulationParams, horizon: pd.Timestamp):
        self.seed = seed
        self.params = params
        self.universe = make_universe(n_symbols, seed, params)
        # Periods 0..K-1 cover every session up to the horizon.
        months = cal.months_between(ORIGIN_MONTH, cal.add_months(horizon, 1))
        self.sample_dates = pd.DatetimeIndex([cal.sample_date(m) for m in months])
        self.sessions = cal.sessions_between(self.sample_dates[0], self.sample_dates[-1])
        self.period_start = self.sessions.searchsorted(self.sample_dates)  # index of t_k
        self.n_periods = len(self.sample_dates) - 1
        self.label_end = np.array([self.sessions.searchsorted(cal.label_end_date(t)) for t in self.sample_dates[:-1]])
        self.season = np.array([season_of(t) for t in self.sample_dates[:-1]])
        self._generate()

    # -- helpers ----------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return self.universe.n

    def period_sessions(self, k: int) -> slice:
        """Session indices of period k: (t_k, t_{k+1}]."""
        return slice(self.period_start[k] + 1, self.period_start[k + 1] + 1)

    def label_sessions(self, k: int) -> slice:
        """Session indices of sample k's label window: (t_k, label_end_k]."""
        return slice(self.period_start[k] + 1, self.label_end[k] + 1)

    def period_of_sample(self, sample: pd.Timestamp) -> int:
        k = int(self.sample_dates.searchsorted(sample))
        if k >= self.n_periods or self.sample_dates[k] != sample:
            raise KeyError(f"{sample:%Y-%m-%d} is not a sample date inside the simulated horizon")
        return k

    def _chunks(self) -> range:
        return range((self.n + CHUNK - 1) // CHUNK)

    def _chunk_slice(self, chunk: int) -> slice:
        return slice(chunk * CHUNK, min((chunk + 1) * CHUNK, self.n))

    # -- generation -------------------------------------------------------------------------
    def _generate(self) -> None:
        p, u = self.params, self.universe
        n, n_sessions, K = self.n, len(self.sessions), self.n_periods
        n_sectors = len(p.sectors)
        market_vols = np.asarray(p.market_vols)
        mults = np.asarray(p.vol_multipliers)
        t_market, t_vol = p.market_transition, p.vol_transition
        pi_market, pi_vol = stationary(t_market), stationary(t_vol)

        self.market_regime = np.zeros(K, dtype=np.int8)
        self.market_return = np.zeros(n_sessions)
        self.sector_return = np.zeros((n_sectors, n_sessions))
        self.vol_regime = np.zeros((n, K), dtype=np.int8)
        self.news = np.zeros((n, K), dtype=np.int8)
        self.news_session = np.full((n, K), -1, dtype=np.int64)
        self.news_jump = np.zeros((n, K))  # the news day's log return (z * size), kept for truth.py
        self.idio_return = np.zeros((n, n_sessions))
        # Season states for every quarter whose 13F filings the horizon can contain.
        seasons = list(range(quarter_index(self.sample_dates[0]) - 2, quarter_index(self.sample_dates[-1]) + 2))
        self.season_index = {q: j for j, q in enumerate(seasons)}
        self.season_state = np.zeros((n, len(seasons)), dtype=np.int8)
        for q, j in self.season_index.items():
            for chunk in self._chunks():
                rng = rng_for(self.seed, STREAM_SEASON, q, chunk)
                draw = rng.choice(3, size=CHUNK, p=np.asarray(p.season_probabilities)) - 1
                cs = self._chunk_slice(chunk)
                self.season_state[cs, j] = draw[: cs.stop - cs.start]

        news_p = p.news_probabilities
        for k in range(K):
            sl = self.period_sessions(k)
            n_days = sl.stop - sl.start
            rng = rng_for(self.seed, STREAM_MARKET, k)
            u_m = rng.random()
            if k == 0:
                m = int(np.searchsorted(np.cumsum(pi_market), u_m))
            else:
                m = int(np.searchsorted(np.cumsum(t_market[self.market_regime[k - 1]]), u_m))
            m = min(m, len(market_vols) - 1)
            self.market_regime[k] = m
            sigma_m = market_vols[m] / np.sqrt(SESSIONS_PER_YEAR)
            self.market_return[sl] = p.market_drift / SESSIONS_PER_YEAR + sigma_m * rng.standard_normal(n_days)
            self.sector_return[:, sl] = p.sector_vol_ratio * sigma_m * rng.standard_normal((n_sectors, n_days))

            label = self.label_sessions(k)
            n_label = label.stop - label.start
            for chunk in self._chunks():
                cs = self._chunk_slice(chunk)
                m_sym = cs.stop - cs.start
                rng_v = rng_for(self.seed, STREAM_VOL, k, chunk)
                u_v = rng_v.random(CHUNK)[:m_sym]
                eps = rng_v.standard_normal((CHUNK, n_days))[:m_sym]
                jump_hit = rng_v.random((CHUNK, n_days))[:m_sym] < p.jump_probability
                jump_size = rng_v.normal(0.0, p.jump_vol, (CHUNK, n_days))[:m_sym]
                if k == 0:
                    cdf = np.tile(np.cumsum(pi_vol), (m_sym, 1))
                else:
                    cdf = np.cumsum(t_vol[self.vol_regime[cs, k - 1]], axis=1)
                v = np.minimum((u_v[:, None] > cdf).sum(axis=1), len(mults) - 1)
                self.vol_regime[cs, k] = v

                rng_z = rng_for(self.seed, STREAM_NEWS, k, chunk)
                z = (rng_z.choice(3, size=CHUNK, p=news_p) - 1)[:m_sym]
                day = rng_z.integers(0, n_label, CHUNK)[:m_sym]
                size = rng_z.normal(p.news_size, p.news_size_vol, CHUNK)[:m_sym]
                self.news[cs, k] = z

                sigma = (u.base_vol[cs] * mults[v] / np.sqrt(SESSIONS_PER_YEAR))[:, None]
                drift = (
                    self.season_state[cs, self.season_index[self.season[k]]]
                    * p.season_drift_per_month
                    / SESSIONS_PER_MONTH
                )[:, None]
                e = drift + sigma * eps + jump_hit * jump_size
                rows = np.flatnonzero(z != 0)
                e[rows, day[rows]] += z[rows] * size[rows]
                self.news_session[cs, k] = np.where(z != 0, label.start + day, -1)
                self.news_jump[cs, k] = z * size
                self.idio_return[cs, sl] = e

        factor = u.beta[:, None] * self.market_return[None, :] + u.gamma[:, None] * self.sector_return[u.sector]
        self.log_return = factor + self.idio_return
        self.log_return[:, 0] = 0.0  # t_0 is the first close
        self._make_splits()

    def _make_splits(self) -> None:
        """Endogenous splits: after a period that ends with a raw price above $350, a split
        (2, 3 or 4 for 1) may take effect on the next period's first session."""
        log_adj = self.universe.log_price0[:, None] + np.cumsum(self.log_return, axis=1)
        split_factor = np.ones((self.n, len(self.sessions)))
        cumulative = np.ones(self.n)
        for k in range(self.n_periods - 1):
            end = self.period_start[k + 1]
            raw_close = np.exp(log_adj[:, end]) / cumulative
            rng = rng_for(self.seed, STREAM_SPLIT, k)
            u_split = rng.random(max(self.n, 1))[: self.n]
            ratio = rng.choice([2.0, 3.0, 4.0], size=max(self.n, 1))[: self.n]
            do = (raw_close > 350.0) & (u_split < 0.5)
            cumulative = np.where(do, cumulative * ratio, cumulative)
            split_factor[:, end + 1 :] = cumulative[:, None]
        self.log_adj_close = log_adj
        self.split_factor = split_factor  # cumulative shares multiplier since the origin

    # -- derived public series --------------------------------------------------------------
    @cached_property
    def adj_close(self) -> np.ndarray:
        return np.exp(self.log_adj_close)

    @cached_property
    def close(self) -> np.ndarray:
        return self.adj_close / self.split_factor

    @cached_property
    def shares_outstanding(self) -> np.ndarray:
        return self.universe.shares0[:, None] * self.split_factor

    @cached_property
    def market_index(self) -> np.ndarray:
        return 100.0 * np.exp(np.cumsum(np.r_[0.0, self.market_return[1:]]))

    @cached_property
    def sector_index(self) -> np.ndarray:
        returns = self.market_return[None, :] + self.sector_return
        returns[:, 0] = 0.0
        return 50.0 * np.exp(np.cumsum(returns, axis=1))

    def session_index(self, day: pd.Timestamp) -> int:
        pos = int(self.sessions.searchsorted(day))
        if pos >= len(self.sessions) or self.sessions[pos] != day:
            raise KeyError(f"{day} is not a session of the simulated world")
        return pos
