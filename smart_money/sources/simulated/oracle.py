"""Exact label probabilities of the simulated market.

`oracle_truth`  = P(label = 1 | m_k, v_k, s, z_k): the latent state of the sample's period.
`oracle_public` = P(label = 1 | everything public at the sample date's close), computed exactly
under the generator's own model:

- market regime m_k: forward filter (HMM) on the market and sector ETF returns;
- news z_k: Bayes on the counts of insider purchases/sales and congressional buys/sales dated in
  the window before the sample and already public at its close (thinned Poisson likelihoods with
  the known filing-lag distributions);
- volatility regime v and 13F season state s: forward filter on each stock's residual returns
  (factor returns are public), with past news integrated out using its own public evidence, and
  the hedge funds' 13F actions filed by the cutoff as the season's evidence.

Only sample-date cutoffs are used: a filing counts if its `known_at` is on or before the
sample date's 16:00 close, the same rule the feature pipeline applies.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import logsumexp, ndtr
from scipy.stats import binom

from smart_money.data import calendar as cal
from smart_money.sources.simulated.events import (
    BUY,
    CONGRESS_BUY,
    CONGRESS_SALE,
    FILING_HOURS,
    SALE,
    CongressBook,
    InsiderBook,
    congress_lag_pmf,
    congress_rates,
    form4_lag_pmf,
    insider_rates,
)
from smart_money.sources.simulated.institutions import (
    ENTER,
    STAY_OUT,
    UNCHANGED,
    ThirteenFBook,
    size_preference,
)
from smart_money.sources.simulated.params import stationary
from smart_money.sources.simulated.world import SESSIONS_PER_MONTH, SESSIONS_PER_YEAR, World

LABEL_THRESHOLD = float(np.log(1.05))
MIRROR_THRESHOLD = float(np.log(0.95))
Z_VALUES = np.array([-1, 0, 1])
S_VALUES = np.array([-1, 0, 1])
MAX_JUMPS = 4


def _log_normal_pdf(x: np.ndarray, mean: np.ndarray | float, var: np.ndarray | float) -> np.ndarray:
    return -0.5 * (np.log(2 * np.pi * var) + (x - mean) ** 2 / var)


class Oracle:
    def __init__(self, world: World, insiders: InsiderBook, congress: CongressBook, thirteen_f: ThirteenFBook):
        self.world = world
        self.insiders = insiders
        self.congress = congress
        self.thirteen_f = thirteen_f
        p = world.params
        self.p = p
        self.mults = np.asarray(p.vol_multipliers)
        self.market_vols = np.asarray(p.market_vols)
        self.t_vol = p.vol_transition
        self.t_market = p.market_transition
        self.season_prior = np.asarray(p.season_probabilities)
        self.news_prior = p.news_probabilities
        self.cutoffs = pd.DatetimeIndex([cal.sample_cutoff(t) for t in world.sample_dates])
        self._market_predictive = self._market_filter()
        self._counts = self._event_counts()
        self._exposures = self._exposure_table()
        self._log_hf_full = {}
        self._residual_terms = self._residual_likelihoods()
        self._alpha = self._forward_filter()

    # -- market regime ---------------------------------------------------------------------------
    def _market_filter(self) -> np.ndarray:
        """P(m_k | public market data at t_k), shape (K, M)."""
        w, p = self.world, self.p
        K = w.n_periods
        sig = self.market_vols / np.sqrt(SESSIONS_PER_YEAR)
        pred = np.zeros((K, len(sig)))
        log_alpha = np.log(stationary(self.t_market))
        pred[0] = np.exp(log_alpha)
        for j in range(K - 1):
            sl = w.period_sessions(j)
            mkt = w.market_return[sl]
            sec = w.sector_return[:, sl]
            ll = np.array(
                [
                    _log_normal_pdf(mkt, p.market_drift / SESSIONS_PER_YEAR, s**2).sum()
                    + _log_normal_pdf(sec, 0.0, (p.sector_vol_ratio * s) ** 2).sum()
                    for s in sig
                ]
            )
            if j > 0:
                log_alpha = logsumexp(log_alpha[:, None] + np.log(self.t_market), axis=0)
            log_alpha = log_alpha + ll
            log_alpha -= logsumexp(log_alpha)
            pred[j + 1] = np.exp(logsumexp(log_alpha[:, None] + np.log(self.t_market), axis=0))
        return pred

    # -- news evidence -----------------------------------------------------------------------------
    def _event_counts(self) -> dict[str, np.ndarray]:
        """Counts per (symbol, window) of informative events public at the window's own cutoff
        ('own'), at the next sample's cutoff ('next') and ever ('full')."""
        w = self.world
        n, K = w.n, w.n_periods
        out = {}
        for name, events, kind in (
            ("insider_buys", self.insiders.events, BUY),
            ("insider_sales", self.insiders.events, SALE),
            ("congress_buys", self.congress.events, CONGRESS_BUY),
            ("congress_sales", self.congress.events, CONGRESS_SALE),
        ):
            ev = events[events["kind"] == kind]
            window = ev["window"].to_numpy()
            known = ev["known_at"].to_numpy()
            sym = ev["symbol_index"].to_numpy()
            for label, shift in (("own", 0), ("next", 1), ("next2", 2)):
                cut_idx = np.minimum(window + shift, len(self.cutoffs) - 1)
                public = known <= self.cutoffs[cut_idx].to_numpy()
                counts = np.zeros((n, K + 1))
                np.add.at(counts, (sym[public], window[public]), 1.0)
                out[f"{name}_{label}"] = counts
            full = np.zeros((n, K + 1))
            np.add.at(full, (sym, window), 1.0)
            checkable = len(self.cutoffs) - 3  # windows whose second-next cutoff exists
            if not np.array_equal(out[f"{name}_next2"][:, :checkable], full[:, :checkable]):
                raise AssertionError(f"{name}: some events are still unpublished two samples later")
            out[f"{name}_full"] = full
        return out

    def _exposure_table(self) -> dict[str, np.ndarray]:
        """Share of a window's events public at its own / the next cutoff, per window k."""
        w = self.world
        K = w.n_periods
        f4 = form4_lag_pmf(w)
        cg = congress_lag_pmf(w)
        minute_lo, minute_hi = int(FILING_HOURS[0] * 60), int(FILING_HOURS[1] * 60)
        same_day_share = (16 * 60 - minute_lo + 1) / (minute_hi - minute_lo)
        out = {key: np.ones(K + 1) for key in ("form4_own", "form4_next", "congress_own", "congress_next")}
        for k in range(1, K + 1):
            trade = w.period_sessions(k - 1)
            days = np.arange(trade.start, trade.stop)
            trade_dates = w.sessions[days]
            for label, shift in (("own", 0), ("next", 1)):
                if k + shift > K:
                    continue
                cut_session = w.period_start[k + shift]
                lags = np.arange(len(f4))
                filing = np.minimum(days[:, None] + lags[None, :], len(w.sessions) - 1)
                public = np.where(filing < cut_session, 1.0, np.where(filing == cut_session, same_day_share, 0.0))
                out[f"form4_{label}"][k] = float((public * f4[None, :]).sum(axis=1).mean())
                gap_days = (w.sample_dates[k + shift] - trade_dates).days.to_numpy()
                max_lag = gap_days - 1  # known_at = trade + lag days, end of day; must be < cutoff day
                cdf = np.cumsum(cg)
                out[f"congress_{label}"][k] = float(
                    np.where(max_lag >= 0, cdf[np.clip(max_lag, 0, len(cg) - 1)], 0.0).mean()
                )
        return out

    def news_log_posterior(self, k: int, stage: str) -> np.ndarray:
        """log P(z_k | evidence) for all symbols, shape (n, 3); stage: own | next | full."""
        w, p = self.world, self.p
        log_post = np.tile(np.log(self.news_prior), (w.n, 1))
        if k == 0:  # no trading window precedes the first sample
            return log_post
        exp_f4 = 1.0 if stage == "full" else self._exposures[f"form4_{stage}"][k]
        exp_cg = 1.0 if stage == "full" else self._exposures[f"congress_{stage}"][k]
        for zi, z in enumerate(Z_VALUES):
            zs = np.full(w.n, z)
            ins = insider_rates(p, zs, w.universe.files_form4)
            cong = congress_rates(p, zs)
            for rate, count, exposure in (
                (ins[:, 0], self._counts[f"insider_buys_{stage}"][:, k], exp_f4),
                (ins[:, 1], self._counts[f"insider_sales_{stage}"][:, k], exp_f4),
                (cong[:, 0], self._counts[f"congress_buys_{stage}"][:, k], exp_cg),
                (cong[:, 1], self._counts[f"congress_sales_{stage}"][:, k], exp_cg),
            ):
                lam = rate * exposure
                log_post[:, zi] += count * np.log(np.maximum(lam, 1e-300)) - lam
        return log_post - logsumexp(log_post, axis=1, keepdims=True)

    # -- 13F season evidence -------------------------------------------------------------------
    def log_hedge_fund_evidence(self, q: int, cutoff: pd.Timestamp | None) -> np.ndarray:
        """log P(hedge funds' quarter-q actions filed by `cutoff` | s), shape (n, 3)."""
        tf, w = self.thirteen_f, self.world
        n = w.n
        qi = q - int(tf.quarters[0])
        if qi <= 0 or qi >= len(tf.quarters):
            return np.zeros((n, 3))
        if cutoff is None and q in self._log_hf_full:
            return self._log_hf_full[q]
        H = tf.n_hedge_funds
        filed = np.ones(H, dtype=bool) if cutoff is None else tf.known_at[qi, :H] <= np.datetime64(cutoff)
        actions = tf.action[qi, :H][filed]  # (h, n)
        probs = self.p.hedge_fund_action_probabilities()
        size_pref = size_preference(self.world)
        out = np.zeros((n, 3))
        for si in range(3):
            held_p = np.log(probs["held"][si])  # inc, dec, exit, unchanged
            enter = probs["enter"][si] * size_pref
            ll = np.zeros(n)
            for a_code, value in ((0, held_p[0]), (1, held_p[1]), (2, held_p[2]), (UNCHANGED, held_p[3])):
                ll += (actions == a_code).sum(axis=0) * value
            ll += (actions == ENTER).sum(axis=0) * np.log(enter)
            ll += (actions == STAY_OUT).sum(axis=0) * np.log1p(-enter)
            out[:, si] = ll
        if cutoff is None:
            self._log_hf_full[q] = out
        return out

    # -- stock residual likelihoods ----------------------------------------------------------------
    def _residual_likelihoods(self) -> dict[str, np.ndarray]:
        """Per period j: log P(residuals of P_j | v, s) without news (L0), and the log-ratio
        terms that add news on one (uniformly drawn) label-window session for z = +1 / -1."""
        w, p = self.world, self.p
        n, K = w.n, w.n_periods
        V, S = len(self.mults), 3
        sigma2 = (w.universe.base_vol[:, None] * self.mults[None, :]) ** 2 / SESSIONS_PER_YEAR  # (n, V)
        drift = S_VALUES * p.season_drift_per_month / SESSIONS_PER_MONTH  # (S,)
        L0 = np.zeros((n, K, V, S))
        Lnews = np.zeros((2, n, K, V, S))
        var_a = sigma2[:, None, :, None]
        for j in range(K):
            sl = w.period_sessions(j)
            e = w.idio_return[:, sl][:, :, None, None]  # (n, d, 1, 1)
            mu = drift[None, None, None, :]
            base = np.logaddexp(
                np.log1p(-p.jump_probability) + _log_normal_pdf(e, mu, var_a),
                np.log(p.jump_probability) + _log_normal_pdf(e, mu, var_a + p.jump_vol**2),
            )  # (n, d, V, S)
            L0[:, j] = base.sum(axis=1)
            n_label = w.label_end[j] - w.period_start[j]
            e_lab = e[:, :n_label]
            base_lab = base[:, :n_label]
            for zi, z in enumerate((1, -1)):
                mean = mu + z * p.news_size
                var_n = var_a + p.news_size_vol**2
                news = np.logaddexp(
                    np.log1p(-p.jump_probability) + _log_normal_pdf(e_lab, mean, var_n),
                    np.log(p.jump_probability) + _log_normal_pdf(e_lab, mean, var_n + p.jump_vol**2),
                )
                Lnews[zi, :, j] = logsumexp(news - base_lab, axis=1) - np.log(n_label)
        return {"L0": L0, "Lup": Lnews[0], "Ldown": Lnews[1]}

    def _log_obs(self, j: int, log_news_post: np.ndarray) -> np.ndarray:
        """log g_j(v, s) for all symbols, given the public posterior of z_j."""
        t = self._residual_terms
        # z order in log_news_post: -1, 0, +1
        mix = np.stack(
            [
                log_news_post[:, 0, None, None] + t["Ldown"][:, j],
                np.broadcast_to(log_news_post[:, 1, None, None], t["L0"][:, j].shape),
                log_news_post[:, 2, None, None] + t["Lup"][:, j],
            ]
        )
        return t["L0"][:, j] + logsumexp(mix, axis=0)

    def _transition(self, log_alpha: np.ndarray, j_from: int) -> np.ndarray:
        """log alpha of period j_from -> prior of period j_from + 1 (before its observation)."""
        w = self.world
        q_from, q_to = int(w.season[j_from]), int(w.season[j_from + 1])
        a = log_alpha
        if q_to != q_from:
            a = a + self.log_hedge_fund_evidence(q_from, None)[:, None, :]
            a = logsumexp(a, axis=2)[:, :, None] + np.log(self.season_prior)[None, None, :]
        # volatility regime transition
        return logsumexp(a[:, :, None, :] + np.log(self.t_vol)[None, :, :, None], axis=1)

    def _initial(self) -> np.ndarray:
        n = self.world.n
        log_v = np.log(stationary(self.t_vol))
        return np.broadcast_to(
            log_v[None, :, None] + np.log(self.season_prior)[None, None, :], (n, len(log_v), 3)
        ).copy()

    def _forward_filter(self) -> np.ndarray:
        """log alpha~_j(v, s) after period j's observation, using every term's full evidence and
        leaving out the hedge-fund evidence of the period's own season (added at its end)."""
        w = self.world
        K = w.n_periods
        alpha = np.zeros((K,) + self._initial().shape)
        a = self._initial()
        for j in range(K):
            if j > 0:
                a = self._transition(a, j - 1)
            a = a + self._log_obs(j, self.news_log_posterior(j, "full"))
            a = a - logsumexp(a, axis=(1, 2), keepdims=True)
            alpha[j] = a
        return alpha

    # -- label probabilities ---------------------------------------------------------------------
    def _label_probability(
        self, k: int, sym: np.ndarray, m_w: np.ndarray, vs_w: np.ndarray, z_w: np.ndarray, mirror: bool = False
    ) -> np.ndarray:
        """Sum over states of weight x P(label | m, v, s, z) for symbols `sym`.

        m_w: (M,) or (len(sym), M); vs_w: (len(sym), V, S); z_w: (len(sym), 3)."""
        w, p = self.world, self.p
        u = w.universe
        n_lab = int(w.label_end[k] - w.period_start[k])
        beta, gamma, base = u.beta[sym], u.gamma[sym], u.base_vol[sym]
        sig_m2 = self.market_vols**2 / SESSIONS_PER_YEAR  # (M,)
        idio2 = (base[:, None] * self.mults[None, :]) ** 2 / SESSIONS_PER_YEAR  # (n, V)
        mean = (
            n_lab * (beta * p.market_drift / SESSIONS_PER_YEAR)[:, None, None, None]
            + n_lab * (S_VALUES * p.season_drift_per_month / SESSIONS_PER_MONTH)[None, None, :, None]
            + (Z_VALUES * p.news_size)[None, None, None, :]
        )  # (n, 1, S, Z)
        jumps = np.arange(MAX_JUMPS + 1)
        jump_w = binom.pmf(jumps, n_lab, p.jump_probability)
        jump_w = jump_w / jump_w.sum()
        m_w = np.broadcast_to(m_w, (len(sym), len(self.market_vols)))
        total = np.zeros(len(sym))
        for mi, s2 in enumerate(sig_m2):
            var = (
                n_lab * ((beta**2 + (gamma * p.sector_vol_ratio) ** 2) * s2)[:, None, None, None]
                + n_lab * idio2[:, :, None, None]
                + (Z_VALUES != 0)[None, None, None, :] * p.news_size_vol**2
            )  # (n, V, 1, Z)
            prob = np.zeros(np.broadcast_shapes(mean.shape, var.shape))
            for c, wc in zip(jumps, jump_w):
                sd = np.sqrt(var + c * p.jump_vol**2)
                if mirror:
                    prob += wc * ndtr((MIRROR_THRESHOLD - mean) / sd)
                else:
                    prob += wc * ndtr((mean - LABEL_THRESHOLD) / sd)
            weight = m_w[:, mi, None, None, None] * vs_w[:, :, :, None] * z_w[:, None, None, :]
            total += (weight * prob).sum(axis=(1, 2, 3))
        return total

    def public_state(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Public posteriors at sample k's cutoff: P(m_k), P(v_k, s), P(z_k) for all symbols."""
        w = self.world
        if k == 0:
            a = self._initial()
        else:
            prev = self._alpha[k - 2] if k >= 2 else None
            a = self._initial() if prev is None else self._transition(prev, k - 2)
            a = a + self._log_obs(k - 1, self.news_log_posterior(k - 1, "next"))
            a = a - logsumexp(a, axis=(1, 2), keepdims=True)
            a = self._transition(a, k - 1)
        a = a + self.log_hedge_fund_evidence(int(w.season[k]), self.cutoffs[k])[:, None, :]
        vs = np.exp(a - logsumexp(a, axis=(1, 2), keepdims=True))
        z = np.exp(self.news_log_posterior(k, "own"))
        return self._market_predictive[k], vs, z

    def probabilities(self, k: int, sym: np.ndarray, mirror: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(oracle_truth, oracle_public) for sample k and symbol indices `sym`."""
        w = self.world
        m_pub, vs_pub, z_pub = self.public_state(k)
        public = self._label_probability(k, sym, m_pub, vs_pub[sym], z_pub[sym], mirror)
        M, V = len(self.market_vols), len(self.mults)
        m_true = np.eye(M)[w.market_regime[k]]
        vs_true = np.zeros((len(sym), V, 3))
        s_true = w.season_state[sym, w.season_index[int(w.season[k])]] + 1
        vs_true[np.arange(len(sym)), w.vol_regime[sym, k], s_true] = 1.0
        z_true = np.eye(3)[w.news[sym, k] + 1]
        truth = self._label_probability(k, sym, m_true, vs_true, z_true, mirror)
        return truth, public
