"""FMP source: calls, request rate and cold vs warm wall time of an N-month x M-symbol backfill.

The fake FMP server (smart_money_tests/fake_fmp.py) runs in its own process on 127.0.0.1 and
enforces the same rate limit as the client's limiter. Time is compressed: the limit is the
Starter plan's 300 requests, counted per `--period` seconds instead of 60, so a backfill that
takes minutes against FMP takes seconds here; the rate is reported as a fraction of the limit.
The whole monthly job runs twice in one home: cold (empty cache) and warm (all from cache).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import tempfile
import time
import warnings
from datetime import date
from pathlib import Path

warnings.filterwarnings("ignore")

KEY = "bench-fmp-key-0000"


def serve(queue, n_symbols: int, horizon: str, since: str, limit: int, period: float) -> None:
    import pandas as pd

    from smart_money.sources.simulated import SimulatedSource
    from smart_money_tests.support.fake_fmp import FakeFmpServer

    market = SimulatedSource(n_symbols=n_symbols, seed=7, horizon=pd.Timestamp(horizon))
    with FakeFmpServer(market, api_key=KEY, rate_limit=limit, rate_period_s=period, since=since) as fake:
        queue.put(fake.url)
        while True:
            time.sleep(3600)


def server_stats(url: str) -> dict:
    import httpx

    return httpx.get(f"{url}/__stats", headers={"apikey": KEY}, timeout=30).json()


def timed_source_calls() -> list[float]:
    """Accumulate the seconds spent inside FmpSource.fetch and .universe (the rest of a run is
    Dagster, validation and storage, the same for every source)."""
    from smart_money.sources.fmp import FmpSource

    total = [0.0]
    for name in ("fetch", "universe"):
        original = getattr(FmpSource, name)

        def timed(self, *args, _original=original, **kwargs):
            t0 = time.perf_counter()
            try:
                return _original(self, *args, **kwargs)
            finally:
                total[0] += time.perf_counter() - t0

        setattr(FmpSource, name, timed)
    return total


def peak_window(arrivals: list[float], period: float) -> int:
    """Most requests that arrived within any `period` seconds (by arrival time)."""
    best, lo = 0, 0
    for hi, t in enumerate(arrivals):
        while t - arrivals[lo] >= period:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--period", type=float, default=5.0)
    args = parser.parse_args()

    import dagster as dg
    import pandas as pd

    from smart_money.data import calendar as cal
    from smart_money.data.raw_pull import LOOKBACK_MONTHS
    from smart_money.definitions import CODE_LOCATION
    from smart_money.orchestration.runner import run_monthly_graph
    from smart_money.settings import Settings

    start = date(2022, 1, 1)
    end = cal.add_months(pd.Timestamp(start), args.months - 1).date()
    horizon = cal.add_months(pd.Timestamp(end), 3)
    since = cal.add_months(pd.Timestamp(start), -LOOKBACK_MONTHS - 6)
    queue = mp.get_context("spawn").Queue()
    server = mp.get_context("spawn").Process(
        target=serve,
        args=(queue, args.symbols + 20, f"{horizon:%Y-%m-%d}", f"{since:%Y-%m-%d}", args.limit, args.period),
        daemon=True,
    )
    server.start()
    try:
        url = queue.get(timeout=600)
        home = Path(os.environ.get("SMART_MONEY_HOME") or tempfile.mkdtemp(prefix="bench-fmp-"))
        os.environ.update(
            FMP_API_KEY=KEY,
            FMP_BASE_URL=url,
            FMP_RATE_LIMIT_PER_MIN=str(args.limit),
            FMP_RATE_LIMIT_PERIOD_S=str(args.period),
            FMP_CACHE_DIR=str(home / "fmp-cache"),
        )
        settings = Settings(source="fmp", start=start, end=end, symbols=args.symbols, home=home)
        source_seconds = timed_source_calls()

        t0 = time.perf_counter()
        cold = run_monthly_graph(CODE_LOCATION, settings, instance=dg.DagsterInstance.ephemeral())
        cold_s = time.perf_counter() - t0
        assert cold.success, cold.error
        cold_source_s, source_seconds[0] = source_seconds[0], 0.0
        after_cold = server_stats(url)
        t0 = time.perf_counter()
        warm = run_monthly_graph(CODE_LOCATION, settings, instance=dg.DagsterInstance.ephemeral())
        warm_s = time.perf_counter() - t0
        assert warm.success, warm.error
        warm_source_s = source_seconds[0]
        after_warm = server_stats(url)
    finally:
        server.terminate()

    per_table = {}
    for outcome in cold.assets:
        meta = outcome.metadata
        if "source_units" in meta:
            units, calls = int(meta["source_units"]), int(meta["source_http_calls"])
            per_table[outcome.asset] = {
                "units": units,
                "http_calls": calls,
                "calls_per_unit": round(calls / units, 3) if units else 0.0,
            }
    calls = after_cold["requests"]
    arrivals = [t for t, _ in after_cold["arrivals"]]
    holders = [t for t, path in after_cold["arrivals"] if path.endswith("/extract-analytics/holder")]
    rate_limit = args.limit / args.period

    def rate(stamps: list[float]) -> float | None:
        """Steady request rate as a fraction of the limit: a sliding window lets the first
        `limit` requests go at once, so the rest are counted over the span."""
        span = stamps[-1] - stamps[0] if len(stamps) > args.limit else 0.0
        return round((len(stamps) - args.limit) / span / rate_limit, 3) if span else None

    universe_calls = calls - sum(t["http_calls"] for t in per_table.values())
    print(
        json.dumps(
            {
                "months": args.months,
                "symbols": args.symbols,
                "http_calls_cold": calls,
                "http_calls_warm": after_warm["requests"] - calls,
                "calls_formula": "2 + (S+E) profiles + S*p_insider + 2*S*p_congress + S*Q*p_13f + 2*(S+E)*chunks; "
                "S symbols, E index ETFs, Q quarters reaching the window, p pages per unit",
                "calls_universe": universe_calls,
                "calls_per_table": per_table,
                "configured_limit": f"{args.limit} per {args.period:g}s (time-compressed {60 / args.period:g}x)",
                "rate_429_received": after_cold["statuses"].get("429", 0),
                "rate_fraction_of_limit_whole_run": rate(arrivals),
                "rate_fraction_of_limit_13f_pull": rate(holders),
                "peak_window_fraction_of_limit": round(peak_window(arrivals, args.period) / args.limit, 3),
                "max_in_flight": after_cold["max_in_flight"],
                "cold_wall_s": round(cold_s, 2),
                "warm_wall_s": round(warm_s, 2),
                "cold_in_fmp_source_s": round(cold_source_s, 2),
                "warm_in_fmp_source_s": round(warm_source_s, 2),
                "cold_at_real_plan_limit_min": round(calls / args.limit, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
