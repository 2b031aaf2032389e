"""Black-Scholes price, greeks and an implied-volatility solver (vectorised numpy; dividends as
a continuous yield q)."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr

_SQRT_2PI = math.sqrt(2.0 * math.pi)
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


def _solve(price, spot, strike, t, is_call, r, q, iterations):
    """Vectorised safeguarded Newton: every option iterates until it converges (then it keeps
    the volatility it converged at) or `iterations` + 1 steps have run."""
    out = np.full(len(price), np.nan)
    with np.errstate(all="ignore"):
        ok = np.isfinite(price) & np.isfinite(spot) & (spot > 0) & (t > 0)
        disc_s, disc_k = spot * np.exp(-q * t), strike * np.exp(-r * t)
        lower = np.where(is_call, np.maximum(disc_s - disc_k, 0.0), np.maximum(disc_k - disc_s, 0.0))
        upper = np.where(is_call, disc_s, disc_k)
        ok &= (price > lower + 1e-9) & (price < upper)
    idx = np.flatnonzero(ok)
    if not len(idx):
        return out
    P, S, T, C = price[idx], spot[idx], t[idx], is_call[idx]
    ds, dk = disc_s[idx], disc_k[idx]
    tolerance = np.maximum(1e-4, 1e-3 * P)
    lo, hi = np.full(len(idx), MIN_VOL), np.full(len(idx), MAX_VOL)
    vol = np.minimum(np.maximum(np.sqrt(2.0 * np.pi / T) * P / S, 0.05), 2.0)
    sqrt_t, log_moneyness = np.sqrt(T), np.log(S / strike[idx])
    active = np.arange(len(idx))
    for _ in range(iterations + 1):
        v, st = vol[active], sqrt_t[active]
        d1 = (log_moneyness[active] + (r - q + 0.5 * v * v) * T[active]) / (v * st)
        d2 = d1 - v * st
        model = np.where(
            C[active], ds[active] * ndtr(d1) - dk[active] * ndtr(d2), dk[active] * ndtr(-d2) - ds[active] * ndtr(-d1)
        )
        diff = model - P[active]
        done = np.abs(diff) <= tolerance[active]
        out[idx[active[done]]] = v[done]
        hi[active] = np.where(diff > 0, v, hi[active])
        lo[active] = np.where(diff > 0, lo[active], v)
        vega = ds[active] * np.exp(-0.5 * d1 * d1) / _SQRT_2PI * st
        with np.errstate(all="ignore"):
            newton = np.where(vega > 1e-12, v - diff / vega, np.inf)
        inside = (lo[active] < newton) & (newton < hi[active])
        vol[active] = np.where(inside, newton, 0.5 * (lo[active] + hi[active]))
        active = active[~done]
        if not len(active):
            break
    return out


def implied_vol(price, spot, strike, t, is_call, r=0.0, q=0.0, iterations: int = 12) -> np.ndarray:
    """Safeguarded Newton (falls back to bisection steps inside a shrinking bracket), all
    options at once; NaN where the price is outside no-arbitrage bounds, any input
    is missing or it has not converged to max(1e-4, 0.1% of the price) in `iterations` steps."""
    price, spot, strike, t, is_call = np.broadcast_arrays(
        *(np.asarray(x, dtype=float) for x in (price, spot, strike, t)), np.asarray(is_call, dtype=bool)
    )
    columns = [np.ascontiguousarray(x).ravel() for x in (price, spot, strike, t, is_call)]
    return _solve(*columns, float(r), float(q), int(iterations)).reshape(price.shape)
