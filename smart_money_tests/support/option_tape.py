"""Small hand-built tapes for the options-engine tests."""

from __future__ import annotations

import pandas as pd

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
        "print_id": pid, "ts": at + pd.Timedelta(milliseconds=ms), "underlying": underlying, "expiry": expiry, "strike": strike,
        "right": right, "price": price, "size": size, "venue": venue, "condition": condition, "ref_print_id": ref,
    }  # fmt: skip


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
