"""What the simulated market injects behind its informed actors' trades, from its latent state:
the yardstick the signal study must recover (research/study.py; tests).

Informed insiders and members of Congress trade on the private news z (a jump inside the next
label window), hedge funds' 13F changes follow the slow 13F-season state s (an abnormal drift
over the following season). `informed_log_returns` is exactly that part of each stock's daily
log return: the season drift plus the news jump, nothing else (factor moves, noise and the
uninformative jumps are left out). `injected_abnormal_returns` turns it into each event's
injected buy-and-hold abnormal return over h sessions after entry (the first close strictly
after its public time, found here on the world's own calendar), net of the equal-weight
universe's injected return over the same sessions: the expectation of the study's equal-weight
BHAR given the latent state. With strength 0 the trades are independent of z and s, so the
injected returns of every family average to ~0.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

from smart_money.sources.simulated.world import SESSIONS_PER_MONTH, World

CLOSE = pd.Timedelta(hours=16)


def informed_log_returns(world: World) -> np.ndarray:
    """(symbols x sessions) season drift + news jumps of every stock and session."""
    out = np.zeros((world.n, len(world.sessions)))
    drift_per_session = world.params.season_drift_per_month / SESSIONS_PER_MONTH
    for k in range(world.n_periods):
        sl = world.period_sessions(k)
        state = world.season_state[:, world.season_index[world.season[k]]]
        out[:, sl] += (state * drift_per_session)[:, None]
    rows, periods = np.nonzero(world.news_session >= 0)
    np.add.at(out, (rows, world.news_session[rows, periods]), world.news_jump[rows, periods])
    return out


@lru_cache(maxsize=2)
def _cumulative(world: World) -> np.ndarray:
    informed = informed_log_returns(world)
    return np.cumsum(informed, axis=1)


def injected_abnormal_returns(
    world: World, symbols: Sequence[str], known_at: Sequence[pd.Timestamp], horizons: Sequence[int]
) -> pd.DataFrame:
    """Per event (symbol, public time): `injected_<h>` = the informed part of its buy-and-hold
    return over h sessions after entry minus the equal-weight universe's; NaN when the window
    leaves the world or the symbol is unknown."""
    cum = _cumulative(world)
    lookup = {t: i for i, t in enumerate(world.universe.tickers)}
    cols = np.array([lookup.get(s, -1) for s in symbols], dtype=np.int64)
    close_times = world.sessions + CLOSE
    entry = close_times.searchsorted(pd.DatetimeIndex(known_at), side="right")
    out = {}
    n_sessions = cum.shape[1]
    for h in horizons:
        end = entry + h
        ok = (cols >= 0) & (end < n_sessions)
        e, f = np.clip(entry, 0, n_sessions - 1), np.clip(end, 0, n_sessions - 1)
        stock = np.expm1(cum[np.clip(cols, 0, None), f] - cum[np.clip(cols, 0, None), e])
        universe = np.expm1(cum[:, f] - cum[:, e]).mean(axis=0)
        out[f"injected_{h}"] = np.where(ok, stock - universe, np.nan)
    return pd.DataFrame(out)
