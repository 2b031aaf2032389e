"""Parameters of the simulated market.

Defaults follow the effect sizes in the literature (shared notes, modeling.md §1):

- insider open-market purchases: about +0.5 to +1 % per month abnormal on average, clustered
  purchases about +2 % (Jeng, Metrick & Zeckhauser 2003; Cohen, Malloy & Pomorski 2012;
  Alldredge & Blank 2019); sales, awards, exercises and gifts carry nothing;
- congressional trades: no reliable edge after the STOCK Act (Belmont et al. 2022), so only a
  faint one here, and disclosed with a median lag of about 3-4 weeks;
- hedge-fund 13F changes: top-minus-bottom about 6 %/year (Bae, Baik & Kim), published up to
  45 days after the quarter end;
- ETFs: passive and index-driven, no direction.

`strength` multiplies what informed actors do (their extra trading intensity and the tilt of
hedge funds' 13F changes): 0 removes every smart-money signal, values above 1 make the signals
easier to see in demos. The news itself and all price dynamics do not depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SECTORS: tuple[tuple[str, str], ...] = (
    ("Information Technology", "XTEC"),
    ("Health Care", "XHLT"),
    ("Financials", "XFIN"),
    ("Consumer Discretionary", "XDSC"),
    ("Communication Services", "XCOM"),
    ("Industrials", "XIND"),
    ("Consumer Staples", "XSTP"),
    ("Energy", "XENE"),
    ("Utilities", "XUTL"),
    ("Real Estate", "XREA"),
    ("Materials", "XMAT"),
)
MARKET_ETF = "SMKT"
EQUAL_WEIGHT_ETF = "SEQL"
SMALL_CAP_ETF = "SSML"


@dataclass(frozen=True)
class SimulationParams:
    strength: float = 1.0

    # --- market and sectors (annualised) -----------------------------------------------------
    market_drift: float = 0.07
    market_vols: tuple[float, ...] = (0.11, 0.17, 0.30)  # calm, normal, stressed regimes
    market_regime_stay: float = 0.90  # per monthly period
    sector_vol_ratio: float = 0.45  # sector factor vol as a share of the market's

    # --- idiosyncratic volatility: per-symbol base level x a Markov regime multiplier --------
    idio_vol_median: float = 0.27
    idio_vol_dispersion: float = 0.30  # sd of log base vol across symbols
    idio_vol_size_slope: float = -0.08  # log vol per unit of log market cap (small caps wilder)
    vol_multipliers: tuple[float, ...] = (0.65, 0.90, 1.25, 1.80)
    vol_regime_stay: float = 0.80
    jump_probability: float = 0.008  # per session
    jump_vol: float = 0.06

    # --- private news: a jump inside the label window of a sample period ---------------------
    news_up_probability: float = 0.02
    news_down_probability: float = 0.02
    news_size: float = 0.06  # log return of the news day, before noise
    news_size_vol: float = 0.02

    # --- insiders (Form 4), per symbol and monthly window before the sample date -------------
    insider_noise_buys: float = 0.10  # purchase events with no information
    insider_informed_buys: float = 0.40  # extra purchase events when good news is coming
    insider_routine_sales: float = 0.45  # 10b5-1 and diversification sales
    insider_informed_sales: float = 0.10  # extra sales before bad news (weak, as in the data)
    insider_roster: tuple[int, int] = (6, 14)
    foreign_issuer_share: float = 0.03  # no Form 4 filings at all (Section 16 exemption)
    low_institutional_share: float = 0.04  # names institutions mostly avoid
    # Form 4 filing lag in business days after the trade: 0, 1, 2, then late (3..35)
    form4_lag_probabilities: tuple[float, ...] = (0.22, 0.45, 0.26, 0.07)
    form4_late_max_days: int = 35

    # --- members of Congress (PTRs) ----------------------------------------------------------
    congress_members: int = 80
    congress_noise_buys: float = 0.06
    congress_noise_sales: float = 0.06
    congress_informed_trades: float = 0.03  # extra buys before good / sales before bad news
    congress_lag_median_days: float = 24.0
    congress_lag_sigma: float = 0.55
    congress_lag_max_days: int = 55

    # --- institutions (13F) ------------------------------------------------------------------
    n_institutions: int = 120
    n_hedge_funds: int = 20  # the first institutions; their changes carry the slow signal
    season_probabilities: tuple[float, float, float] = (0.15, 0.70, 0.15)  # s = -1, 0, +1
    season_drift_per_month: float = 0.010  # abnormal log drift for s = +1 (negative for -1)
    hedge_fund_tilt: float = 0.55  # how strongly hedge-fund actions follow s (x strength)
    thirteen_f_late_probability: float = 0.05
    thirteen_f_amend_probability: float = 0.02

    # --- ETFs --------------------------------------------------------------------------------
    etf_snapshot_weekday: int = 4  # Friday holdings, published the next morning

    # --- dirt -------------------------------------------------------------------------------
    duplicate_rate: float = 0.015
    missing_price_rate: float = 0.03
    amendment_rate: float = 0.02
    invalid_row_rate: float = 0.003

    sectors: tuple[tuple[str, str], ...] = field(default=SECTORS)

    @property
    def news_probabilities(self) -> np.ndarray:
        """P(z = -1, 0, +1)."""
        up, down = self.news_up_probability, self.news_down_probability
        return np.array([down, 1.0 - up - down, up])

    @property
    def market_transition(self) -> np.ndarray:
        return _sticky(len(self.market_vols), self.market_regime_stay, (0.40, 0.45, 0.15))

    @property
    def vol_transition(self) -> np.ndarray:
        return _sticky(len(self.vol_multipliers), self.vol_regime_stay, (0.25, 0.37, 0.27, 0.11))

    def hedge_fund_action_probabilities(self) -> dict[str, np.ndarray]:
        """P(action | s) for s = -1, 0, +1, for a fund that held / did not hold the stock."""
        t = float(np.clip(self.hedge_fund_tilt * self.strength, 0.0, 0.95))
        held = np.array(
            [
                # increase, decrease, exit, unchanged
                [0.20 * (1 - t), 0.20 * (1 + t), 0.10 * (1 + 1.5 * t), 0.0],
                [0.20, 0.20, 0.10, 0.0],
                [0.20 * (1 + t), 0.20 * (1 - t), 0.10 * (1 - 0.8 * t), 0.0],
            ]
        )
        held[:, 3] = 1.0 - held[:, :3].sum(axis=1)
        not_held_enter = np.array([0.02 * (1 - 0.8 * t), 0.02, 0.02 * (1 + 2.0 * t)])
        return {"held": held, "enter": not_held_enter}


def _sticky(n: int, stay: float, stationary: tuple[float, ...]) -> np.ndarray:
    """Transition matrix that stays with prob `stay`, else jumps to a draw from `stationary`
    (which is then its stationary distribution)."""
    pi = np.asarray(stationary, dtype=float)[:n]
    pi = pi / pi.sum()
    return stay * np.eye(n) + (1.0 - stay) * np.tile(pi, (n, 1))


def stationary(transition: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eig(transition.T)
    vec = np.real(vectors[:, np.argmin(np.abs(values - 1.0))])
    return vec / vec.sum()
