"""Black-Scholes price, greeks and a vectorized implied-volatility solver (dividends as a
continuous yield q)."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

_SQRT_2PI = np.sqrt(2.0 * np.pi)
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


def implied_vol(price, spot, strike, t, is_call, r=0.0, q=0.0, iterations: int = 12) -> np.ndarray:
    """Safeguarded Newton (falls back to bisection steps inside a shrinking bracket); NaN
    where the price is outside no-arbitrage bounds or any input is missing."""
    price, spot, strike, t = (np.asarray(x, dtype=float) for x in (price, spot, strike, t))
    is_call = np.asarray(is_call, dtype=bool)
    lower_bound = np.where(
        is_call,
        np.maximum(spot * np.exp(-q * t) - strike * np.exp(-r * t), 0.0),
        np.maximum(strike * np.exp(-r * t) - spot * np.exp(-q * t), 0.0),
    )
    upper_bound = np.where(is_call, spot * np.exp(-q * t), strike * np.exp(-r * t))
    valid = (
        np.isfinite(price) & np.isfinite(spot) & (spot > 0) & (t > 0) & (price > lower_bound + 1e-9) & (price < upper_bound)
    )
    # iterate only on the rows that have not converged yet
    out = np.full(price.shape, np.nan)
    rows = np.flatnonzero(valid)
    S, K, T, P, C = spot[rows], np.broadcast_to(strike, price.shape)[rows], t[rows], price[rows], is_call[rows]
    tolerance = np.maximum(1e-4, 1e-3 * P)
    lo, hi = np.full(len(rows), MIN_VOL), np.full(len(rows), MAX_VOL)
    vol = np.clip(np.sqrt(2.0 * np.pi / T) * P / S, 0.05, 2.0)
    for _ in range(iterations + 1):
        diff = bs_price(S, K, T, vol, C, r, q) - P
        done = np.abs(diff) <= tolerance
        out[rows[done]] = vol[done]
        if done.all():
            break
        more = ~done
        rows, S, K, T, P, C, tolerance, lo, hi, vol, diff = (x[more] for x in (rows, S, K, T, P, C, tolerance, lo, hi, vol, diff))
        hi = np.where(diff > 0, vol, hi)
        lo = np.where(diff <= 0, vol, lo)
        vega = bs_vega(S, K, T, vol, r, q)
        newton = vol - np.where(vega > 1e-12, diff / np.maximum(vega, 1e-12), np.inf)
        vol = np.where((newton > lo) & (newton < hi), newton, 0.5 * (lo + hi))
    return out
