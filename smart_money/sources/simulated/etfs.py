"""ETFs of the simulated market: passive funds whose holdings follow their index and flows.

Weekly holdings snapshots (the last session of each week), published the next morning. Nothing
here depends on private information: ETF ownership is a size and flow effect, not a direction.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from smart_money.sources.simulated.params import EQUAL_WEIGHT_ETF, MARKET_ETF, SMALL_CAP_ETF
from smart_money.sources.simulated.world import World, rng_for

STREAM_ETF = 31


@dataclass(frozen=True)
class Etf:
    symbol: str
    style: str  # market | sector | equal | small
    sector: int = -1
    start_fraction: float = 0.0  # cap-weighted: share of each member's shares; equal: AUM / total cap


class EtfBook:
    def __init__(self, world: World):
        self.world = world
        p = world.params
        self.etfs: list[Etf] = [
            Etf(MARKET_ETF, "market", start_fraction=0.05),
            Etf(EQUAL_WEIGHT_ETF, "equal", start_fraction=0.001),
            Etf(SMALL_CAP_ETF, "small", start_fraction=0.03),
            *(Etf(code, "sector", sector=j, start_fraction=0.012) for j, (_, code) in enumerate(p.sectors)),
        ]
        sessions = world.sessions
        week = sessions.to_period("W")
        last_of_week = np.r_[week[1:] != week[:-1], True]
        self.snapshot_sessions = np.flatnonzero(last_of_week)[:-1]  # the last week may be partial
        self.known_sessions = self.snapshot_sessions + 1
        # log ownership fraction per ETF and snapshot: a slow random walk (creations/redemptions)
        steps = np.stack(
            [
                rng_for(world.seed, STREAM_ETF, int(w)).normal(0.0004, 0.012, len(self.etfs))
                for w in range(len(self.snapshot_sessions))
            ]
        )
        start = np.log([e.start_fraction for e in self.etfs])
        self.log_fraction = start[None, :] + np.cumsum(steps, axis=0)

    @cached_property
    def small_cap_members(self) -> np.ndarray:
        """(snapshots, n) membership of the small-cap ETF: bottom 40 % by cap at each quarter's
        first snapshot (rebalanced quarterly, using only prices known then)."""
        w = self.world
        cap = w.close[:, self.snapshot_sessions] * w.shares_outstanding[:, self.snapshot_sessions]
        quarters = w.sessions[self.snapshot_sessions].to_period("Q")
        members = np.zeros(cap.shape[::-1], dtype=bool)
        current = None
        for j in range(len(self.snapshot_sessions)):
            if current is None or quarters[j] != quarters[j - 1]:
                current = cap[:, j] <= np.quantile(cap[:, j], 0.4)
            members[j] = current
        return members

    def records(self, start: pd.Timestamp, end: pd.Timestamp, symbols: np.ndarray) -> pd.DataFrame:
        """Holdings rows of every snapshot published in [start, end) for the given stocks
        (vectorised per ETF over snapshots; weights use each ETF's full membership)."""
        w = self.world
        valid = self.known_sessions < len(w.sessions)
        known = w.sessions[np.minimum(self.known_sessions, len(w.sessions) - 1)] + pd.Timedelta(hours=8)
        snaps = np.flatnonzero((known >= start) & (known < end) & valid)
        if not len(snaps):
            return pd.DataFrame()
        days = self.snapshot_sessions[snaps]
        shares_out = w.shares_outstanding[:, days].T  # (snapshots, n)
        close = w.close[:, days].T
        keep = np.zeros(w.n, dtype=bool)
        keep[np.asarray(symbols, dtype=int)] = True
        frames = []
        for e_idx, etf in enumerate(self.etfs):
            frac = np.exp(self.log_fraction[snaps, e_idx])[:, None]
            if etf.style == "sector":
                members = np.broadcast_to(w.universe.sector == etf.sector, shares_out.shape)
            elif etf.style == "small":
                members = self.small_cap_members[snaps]
            else:
                members = np.ones(shares_out.shape, dtype=bool)
            if etf.style == "equal":
                aum = frac[:, 0] * (close * shares_out).sum(axis=1)
                shares = (aum / members.sum(axis=1))[:, None] / close
            else:
                shares = frac * shares_out
            shares = np.round(np.where(members, shares, 0.0))
            value = shares * close
            weight = 100.0 * value / value.sum(axis=1, keepdims=True)
            j, i = np.nonzero(members & keep[None, :])
            if not len(j):
                continue
            row_u = (i * 0.618034 + snaps[j] * 0.377) % 1.0
            frames.append(
                pd.DataFrame(
                    dict(
                        etf_symbol=etf.symbol,
                        symbol=w.universe.tickers[i],
                        event_date=w.sessions[days[j]],
                        known_at=known[snaps[j]],
                        shares=shares[j, i],
                        market_value=np.where(row_u < 0.01, np.nan, value[j, i]),
                        weight_pct=weight[j, i],
                    )
                )
            )
        if not frames:
            return pd.DataFrame()
        return pd.concat(frames, ignore_index=True).sort_values(
            ["known_at", "etf_symbol"], kind="stable", ignore_index=True
        )

    def price_paths(self) -> dict[str, np.ndarray]:
        """Daily closes of every ETF (the market and sector ETFs track their factor exactly)."""
        w = self.world
        simple = np.expm1(w.log_return)
        simple[:, 0] = 0.0
        equal = np.log1p(simple.mean(axis=0))
        small_daily = np.zeros(len(w.sessions))
        members = self.small_cap_members
        week_of_session = np.clip(np.searchsorted(self.snapshot_sessions, np.arange(len(w.sessions))) - 1, 0, None)
        for j in np.unique(week_of_session):
            cols = np.flatnonzero(week_of_session == j)
            small_daily[cols] = np.log1p(simple[members[j]][:, cols].mean(axis=0))
        small_daily[0] = 0.0
        paths = {
            MARKET_ETF: w.market_index,
            EQUAL_WEIGHT_ETF: 100.0 * np.exp(np.cumsum(equal)),
            SMALL_CAP_ETF: 100.0 * np.exp(np.cumsum(small_daily)),
        }
        for j, (_, code) in enumerate(w.params.sectors):
            paths[code] = w.sector_index[j]
        return paths
