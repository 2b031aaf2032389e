"""13F filers of the simulated market: quarterly positions, filing dates, amendments.

Hedge funds (the first `n_hedge_funds` filers) change positions in a stock following the slow
state s[i, q] of the season their filing opens; every other filer trades without information.
Positions are ownership fractions of shares outstanding, so splits do not look like trades.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from smart_money.sources.simulated.world import (
    CHUNK,
    World,
    quarter_end,
    quarter_index,
    rng_for,
)

STREAM_13F = 21
# action codes
INCREASE, DECREASE, EXIT, UNCHANGED, ENTER, STAY_OUT = 0, 1, 2, 3, 4, 5
HEDGE_FUND_NAMES = (
    "Arbor Ridge Capital", "Blue Heron Partners", "Cobalt Point Advisors", "Drummond Hill LP",
    "Elm Street Opportunity", "Falcon Crest Management", "Granite Peak Capital", "Harbor Light Fund",
    "Ironwood Partners", "Juniper Bay Capital", "Kestrel Rock LP", "Lodestar Asset Mgmt",
    "Meridian Vale Capital", "North Fork Partners", "Osprey Lane Advisors", "Pinecrest Global",
    "Quarry Hill Capital", "Redwood Arch Partners", "Silver Lake Road Fund", "Tidewater Select",
)  # fmt: skip


def filer_cik(f: int) -> str:
    return str(1_400_000 + f * 7).zfill(10)


def size_preference(world: World) -> np.ndarray:
    """How much more likely institutions are to hold a stock, by its size at the origin."""
    log_cap = np.log(world.universe.shares0) + world.universe.log_price0
    return np.clip(0.6 + 0.25 * (log_cap - log_cap.mean()), 0.15, 1.0) * world.universe.institutional_appeal


class ThirteenFBook:
    """Quarterly holdings of every filer (ownership fractions) and their filing times."""

    def __init__(self, world: World):
        self.world = world
        p = world.params
        self.n_filers = p.n_institutions
        self.n_hedge_funds = min(p.n_hedge_funds, p.n_institutions)
        first = quarter_index(world.sample_dates[0]) - 1
        last = quarter_index(world.sessions[-1]) - 1  # last quarter whose end lies in the horizon
        self.quarters = np.arange(first, last + 1)
        self.kind = self._filer_kinds()
        self.ciks = np.array([filer_cik(f) for f in range(self.n_filers)])
        self.names = np.array([self._name(f) for f in range(self.n_filers)])
        self._simulate()

    # -- filers --------------------------------------------------------------------------------
    def _filer_kinds(self) -> np.ndarray:
        f = np.arange(self.n_filers)
        return np.select(
            [f < self.n_hedge_funds, f >= self.n_filers - 8, f < self.n_hedge_funds + 40],
            ["hedge_fund", "index", "large"],
            "active",
        )

    def _name(self, f: int) -> str:
        if f < self.n_hedge_funds:
            return HEDGE_FUND_NAMES[f % len(HEDGE_FUND_NAMES)]
        kind = self.kind[f]
        label = {"index": "Index Trust", "large": "Asset Management", "active": "Investment Counsel"}[kind]
        return f"Sim {label} {f:03d}"

    @property
    def hedge_fund_ciks(self) -> list[str]:
        return self.ciks[: self.n_hedge_funds].tolist()

    # -- dynamics ------------------------------------------------------------------------------
    def _simulate(self) -> None:
        w, p = self.world, self.world.params
        n, F, H = w.n, self.n_filers, self.n_hedge_funds
        Q = len(self.quarters)
        size_pref = size_preference(w)
        breadth = np.select(
            [self.kind == "index", self.kind == "large", self.kind == "hedge_fund"], [0.97, 0.60, 0.10], 0.15
        )
        mean_frac = np.select(
            [self.kind == "index", self.kind == "large", self.kind == "hedge_fund"], [0.02, 0.015, 0.006], 0.006
        )
        # Positions of other filers stop growing at 4x their typical stake; hedge funds' actions must
        # stay visible in their filings (they are the evidence the oracle reads), so no cap there.
        cap_frac = np.where(self.kind == "hedge_fund", np.inf, 4.0 * mean_frac)[:, None]
        probs = p.hedge_fund_action_probabilities()

        self.fraction = np.zeros((Q, F, n), dtype=np.float64)
        self.action = np.full((Q, F, n), STAY_OUT, dtype=np.int8)
        self.filing_day = np.zeros((Q, F), dtype="datetime64[ns]")
        self.amend_day = np.zeros((Q, F), dtype="datetime64[ns]")
        self.amend_scale = np.ones((Q, F))
        for qi, q in enumerate(self.quarters):
            for chunk in w._chunks():
                cs = w._chunk_slice(chunk)
                m = cs.stop - cs.start
                rng = rng_for(w.seed, STREAM_13F, int(q), chunk)
                u_act = rng.random((F, CHUNK))[:, :m]
                u_hold = rng.random((F, CHUNK))[:, :m]
                size = np.exp(rng.normal(0.0, 0.6, (F, CHUNK))[:, :m]) * mean_frac[:, None]
                step_up = rng.uniform(1.15, 1.8, (F, CHUNK))[:, :m]
                step_down = rng.uniform(0.35, 0.85, (F, CHUNK))[:, :m]
                if qi == 0:
                    held0 = u_hold < breadth[:, None] * size_pref[cs][None, :]
                    self.fraction[0, :, cs] = np.where(held0, np.minimum(size, cap_frac), 0.0)
                    self.action[0, :, cs] = np.where(held0, UNCHANGED, STAY_OUT)
                    continue
                prev = self.fraction[qi - 1, :, cs]
                held = prev > 0
                # held: P(increase, decrease, exit); not held: P(enter)
                p_held = np.tile(np.array([0.20, 0.20, 0.06]), (F, m, 1))
                p_enter = np.tile((breadth * 0.12)[:, None], (1, m))
                p_held[self.kind == "index"] = (0.10, 0.10, 0.0)
                p_enter[self.kind == "index"] = 0.6
                p_enter = p_enter * w.universe.institutional_appeal[cs][None, :]
                s = w.season_state[cs, w.season_index[int(q)]] + 1  # 0, 1, 2
                p_held[:H] = probs["held"][s][None, :, :3]
                p_enter[:H] = probs["enter"][s][None, :] * (breadth[:H, None] / 0.10) * size_pref[cs][None, :]
                cum = np.cumsum(p_held, axis=2)
                held_action = np.where(
                    u_act < cum[..., 0],
                    INCREASE,
                    np.where(u_act < cum[..., 1], DECREASE, np.where(u_act < cum[..., 2], EXIT, UNCHANGED)),
                )
                enter = u_act < p_enter
                action = np.where(held, held_action, np.where(enter, ENTER, STAY_OUT))
                new = np.select(
                    [action == INCREASE, action == DECREASE, action == EXIT, action == UNCHANGED, action == ENTER],
                    [np.minimum(prev * step_up, cap_frac), prev * step_down, 0.0, prev, np.minimum(size, cap_frac)],
                    0.0,
                )
                self.fraction[qi, :, cs] = new
                self.action[qi, :, cs] = action
            rng_f = rng_for(w.seed, STREAM_13F, int(q), 10_000)
            style = rng_f.choice(3, size=F, p=(0.30, 0.65, 0.05))
            lag = np.select(
                [style == 0, style == 1],
                [rng_f.integers(10, 36, F), rng_f.integers(36, 46, F)],
                rng_f.integers(46, 76, F),
            )
            self.filing_day[qi] = (quarter_end(int(q)) + pd.to_timedelta(lag, unit="D")).to_numpy()
            amend = rng_f.random(F) < p.thirteen_f_amend_probability
            self.amend_day[qi] = np.where(
                amend,
                self.filing_day[qi] + pd.to_timedelta(rng_f.integers(5, 41, F), unit="D").to_numpy(),
                np.datetime64("NaT"),
            )
            self.amend_scale[qi] = rng_f.uniform(0.97, 1.03, F)
        fd = pd.DatetimeIndex(self.filing_day.ravel())
        # filed on the next session when the day falls on a weekend or holiday; 17:30 ET
        sessions = w.sessions
        pos = np.clip(sessions.searchsorted(fd), 0, len(sessions) - 1)
        self.known_at = (sessions[pos] + pd.Timedelta(hours=17, minutes=30)).to_numpy().reshape(self.filing_day.shape)
        ad = pd.DatetimeIndex(self.amend_day.ravel())
        pos = np.clip(sessions.searchsorted(ad.fillna(pd.Timestamp("2000-01-01"))), 0, len(sessions) - 1)
        amend_known = (sessions[pos] + pd.Timedelta(hours=17, minutes=45)).to_numpy()
        self.amend_known_at = np.where(ad.isna(), np.datetime64("NaT"), amend_known).reshape(self.amend_day.shape)

    # -- published rows ------------------------------------------------------------------------
    def records(self, start: pd.Timestamp, end: pd.Timestamp, symbols: np.ndarray) -> pd.DataFrame:
        """13F-HR and 13F-HR/A rows whose filing time lies in [start, end) (vectorised over
        filings and positions)."""
        w = self.world
        frames = []
        symbols = np.asarray(symbols, dtype=int)
        for form, stamps in (("13F-HR", self.known_at), ("13F-HR/A", self.amend_known_at)):
            qi_idx, f_idx = np.nonzero((stamps >= np.datetime64(start)) & (stamps < np.datetime64(end)))
            if not len(qi_idx):
                continue
            frac = self.fraction[qi_idx, f_idx][:, symbols]  # (filings, symbols)
            filing, col = np.nonzero(frac > 0)
            if not len(filing):
                continue
            qi, f, sym = qi_idx[filing], f_idx[filing], symbols[col]
            q = self.quarters[qi]
            ends = {int(x): quarter_end(int(x)) for x in np.unique(q)}
            q_end = pd.DatetimeIndex([ends[int(x)] for x in q])
            d = w.sessions.searchsorted(q_end, side="right") - 1
            shares = np.round(frac[filing, col] * w.shares_outstanding[sym, d])
            value = shares * w.close[sym, d] * (self.amend_scale[qi, f] if form.endswith("/A") else 1.0)
            accession = np.char.add(np.char.add(self.ciks[f], "-"), q.astype(str))
            if form.endswith("/A"):
                accession = np.char.add(accession, "-A")
            row_u = (sym * 0.618034 + q * 0.371 + f * 0.113) % 1.0
            tickers = w.universe.tickers[sym]
            frame = pd.DataFrame(
                dict(
                    record_id=np.char.add(np.char.add(accession, ":"), tickers),
                    accession=accession,
                    filer_cik=self.ciks[f],
                    filer_name=self.names[f],
                    symbol=tickers,
                    cusip=np.where(row_u < 0.05, None, np.char.add("S", np.char.zfill(sym.astype(str), 8))),
                    event_date=q_end,
                    known_at=stamps[qi, f],
                    form_type=form,
                    shares=shares,
                    value_usd=value,
                )
            )
            duplicate = ((row_u * 7.0) % 1.0) < w.params.duplicate_rate * 0.5
            frames += [frame, frame[duplicate]]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def quarter_position(self, q: int) -> int:
        return int(q - self.quarters[0])
