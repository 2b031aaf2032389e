"""Black-Scholes price, greeks and an implied-volatility solver (compiled; dividends as a
continuous yield q)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from scipy.special import ndtr

_SQRT_2PI = math.sqrt(2.0 * math.pi)
_SQRT1_2 = math.sqrt(0.5)
MIN_VOL, MAX_VOL = 0.01, 5.0


def _d1(spot, strike, t, vol, r, q):
    return (np.log(spot / strike) + (r - q + 0.5 * vol * vol) * t) / (vol * np.sqrt(t))


def bs_price(spot, strike, t, vol, is_call, r=0.0, q=0.0):
    d1 = _d1(spot, strike, t, vol, r, q)
    d2 = d1 - vol * np.sqrt(t)
    disc_s, disc_k = spot * np.exp(-q * t), strike * np.exp(-r * t)
    call = disc_s * ndtr(d1) - disc_k * ndtr(d2)
    put = disc_k * ndtr(-d2) - disc_s * ndtr(-d1)
    return np.where(is_call, call, put)


def bs_delta(spot, strike, t, vol, is_call, r=0.0, q=0.0):
    d1 = _d1(spot, strike, t, vol, r, q)
    growth = np.exp(-q * t)
    return np.where(is_call, growth * ndtr(d1), growth * (ndtr(d1) - 1.0))


def bs_vega(spot, strike, t, vol, r=0.0, q=0.0):
    """Vega per 1.00 of volatility."""
    d1 = _d1(spot, strike, t, vol, r, q)
    return spot * np.exp(-q * t) * np.exp(-0.5 * d1 * d1) / _SQRT_2PI * np.sqrt(t)


@njit(cache=True, nogil=True)
def _ndtr(x):  # pragma: no cover - compiled
    return 0.5 * math.erfc(-x * _SQRT1_2)


@njit(cache=True, nogil=True)
def _solve(price, spot, strike, t, is_call, r, q, iterations):  # pragma: no cover - compiled
    out = np.full(len(price), np.nan)
    for i in range(len(price)):
        P, S, K, T, C = price[i], spot[i], strike[i], t[i], is_call[i]
        if not (np.isfinite(P) and np.isfinite(S) and S > 0 and T > 0):
            continue
        disc_s, disc_k = S * math.exp(-q * T), K * math.exp(-r * T)
        lower_bound = max(disc_s - disc_k, 0.0) if C else max(disc_k - disc_s, 0.0)
        upper_bound = disc_s if C else disc_k
        if not (P > lower_bound + 1e-9 and P < upper_bound):
            continue
        tolerance = max(1e-4, 1e-3 * P)
        lo, hi = MIN_VOL, MAX_VOL
        vol = min(max(math.sqrt(2.0 * math.pi / T) * P / S, 0.05), 2.0)
        sqrt_t, log_moneyness = math.sqrt(T), math.log(S / K)
        for _ in range(iterations + 1):
            d1 = (log_moneyness + (r - q + 0.5 * vol * vol) * T) / (vol * sqrt_t)
            d2 = d1 - vol * sqrt_t
            model = disc_s * _ndtr(d1) - disc_k * _ndtr(d2) if C else disc_k * _ndtr(-d2) - disc_s * _ndtr(-d1)
            diff = model - P
            if abs(diff) <= tolerance:
                out[i] = vol
                break
            if diff > 0:
                hi = vol
            else:
                lo = vol
            vega = disc_s * math.exp(-0.5 * d1 * d1) / _SQRT_2PI * sqrt_t
            newton = vol - diff / vega if vega > 1e-12 else np.inf
            vol = newton if lo < newton < hi else 0.5 * (lo + hi)
    return out


def implied_vol(price, spot, strike, t, is_call, r=0.0, q=0.0, iterations: int = 12) -> np.ndarray:
    """Safeguarded Newton (falls back to bisection steps inside a shrinking bracket), one
    compiled loop per option; NaN where the price is outside no-arbitrage bounds, any input
    is missing or it has not converged to max(1e-4, 0.1% of the price) in `iterations` steps."""
    price, spot, strike, t, is_call = np.broadcast_arrays(
        *(np.asarray(x, dtype=float) for x in (price, spot, strike, t)), np.asarray(is_call, dtype=bool)
    )
    columns = [np.ascontiguousarray(x).ravel() for x in (price, spot, strike, t, is_call)]
    return _solve(*columns, float(r), float(q), int(iterations)).reshape(price.shape)
