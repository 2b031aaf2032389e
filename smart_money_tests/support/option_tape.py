"""Small hand-built tapes for the options-engine tests."""

from __future__ import annotations

import pandas as pd

from smart_money.options.engine.pricing import bs_price

T0 = pd.Timestamp("2024-06-12 15:00:00", tz="UTC")


def print_row(
    pid: str,
    ms: float,
    strike: float = 100.0,
    right: str = "C",
    size: int = 10,
    price: float = 2.0,
    condition: str = "I",
    underlying: str = "AAA",
    venue: str = "X",
    expiry: str = "2024-07-19",
    at: pd.Timestamp = T0,
    ref: str | None = None,
) -> dict:
    return {
        "print_id": pid,
        "ts": at + pd.Timedelta(milliseconds=ms),
        "underlying": underlying,
        "expiry": expiry,
        "strike": strike,
        "right": right,
        "price": price,
        "size": size,
        "venue": venue,
        "condition": condition,
        "ref_print_id": ref,
    }


def quote_rows(
    strike: float = 100.0,
    right: str = "C",
    bid: float = 1.9,
    ask: float = 2.1,
    start_ms: int = -5000,
    end_ms: int = 2000,
    step_ms: int = 200,
    underlying: str = "AAA",
    expiry: str = "2024-07-19",
    at: pd.Timestamp = T0,
) -> list[dict]:
    return [
        {
            "ts": at + pd.Timedelta(milliseconds=ms),
            "underlying": underlying,
            "expiry": expiry,
            "strike": strike,
            "right": right,
            "bid": bid,
            "ask": ask,
        }
        for ms in range(start_ms, end_ms, step_ms)
    ]


def spot_rows(
    mid: float = 100.0,
    start_ms: int = -40000,
    end_ms: int = 2000,
    step_ms: int = 100,
    underlying: str = "AAA",
    at: pd.Timestamp = T0,
    drift_bps_per_s: float = 0.0,
) -> list[dict]:
    rows = []
    for ms in range(start_ms, end_ms, step_ms):
        m = mid * (1 + drift_bps_per_s / 1e4 * ms / 1000)
        rows.append(
            {"ts": at + pd.Timedelta(milliseconds=ms), "underlying": underlying, "bid": m - 0.01, "ask": m + 0.01}
        )
    return rows


def spot_path(
    points: list[tuple[float, float]],
    step_ms: int = 500,
    underlying: str = "AAA",
    at: pd.Timestamp = T0,
    half_spread: float = 0.01,
) -> list[dict]:
    """Underlying quotes every `step_ms` along a piecewise-linear mid path through
    `points` = [(ms from `at`, mid), ...] (sorted by time; flat outside them)."""
    times = [t for t, _ in points]
    mids = [m for _, m in points]
    rows = []
    for ms in range(int(times[0]), int(times[-1]), step_ms):
        k = max(i for i, t in enumerate(times) if t <= ms)
        if k + 1 < len(times):
            share = (ms - times[k]) / (times[k + 1] - times[k])
            mid = mids[k] + share * (mids[k + 1] - mids[k])
        else:
            mid = mids[k]
        rows.append(
            {
                "ts": at + pd.Timedelta(milliseconds=ms),
                "underlying": underlying,
                "bid": round(mid - half_spread, 4),
                "ask": round(mid + half_spread, 4),
            }
        )
    return rows


def fair_quote_rows(
    strike: float,
    right: str,
    spot: float,
    expiry: str,
    vol: float = 0.3,
    spread_share: float = 0.04,
    at: pd.Timestamp = T0,
    underlying: str = "AAA",
    start_ms: int = -5000,
    end_ms: int = 2000,
    step_ms: int = 200,
) -> list[dict]:
    """NBBO around the Black-Scholes value of the contract at `spot` (so the implied volatility
    and delta read from the quotes are sensible)."""
    close = pd.Timestamp(expiry).tz_localize("America/New_York") + pd.Timedelta(hours=16)
    years = max((close - at).total_seconds(), 60.0) / (365 * 86400)
    value = float(bs_price(spot, strike, years, vol, right == "C", 0.04))
    half = max(0.01, 0.5 * spread_share * value)
    bid, ask = round(value - half, 2), round(value + half, 2)
    return quote_rows(strike, right, bid, ask, start_ms, end_ms, step_ms, underlying, expiry, at)
