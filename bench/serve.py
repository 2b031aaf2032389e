"""Serving: throughput and latency of the prediction endpoint next to a bare endpoint of the same
server, cached vs uncached predictions, the stock analysis with and without its smart-money
section, the first prediction of a new date side by side (read from the materialized `features`
asset; computed in the feature worker for a month it has not prepared yet, from the materialized
raw partitions; another date of a month the worker prepared before, asked right after (it keeps
the month prepared); once the worker is done working ahead through that month's sessions, dates
it computed ahead; and a month without raw partitions, pulled from the source), and the server's
memory. The home holds what `smart-money run` would have written for 2022-07..2024-06: the raw
assets' partitions (and the universe) and the `features` partitions of MATERIALIZED_MONTHS. The
server starts its feature worker at start-up; the client waits until it is idle before the
first new date (`feature_worker_ready_s`).

The server is `smart-money serve`'s app under uvicorn in its own process on 127.0.0.1 (one
worker, 500 simulated symbols, a model trained here on a 100-symbol panel); this process is
the load client (asyncio + httpx, keep-alive, a few requests in flight). Every phase is bounded
in requests and seconds. Both processes share a 2-core machine, so the client's own cost is in
every number: the bare endpoint measured in the same run is the reference.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")

DAYS = ("2024-04-15", "2024-05-15", "2024-06-14")  # served closes inside the model's data window
# issue 18.3, side by side: first requests of sample dates whose `features` asset partition is
# materialized (read in the server) and of other dates (computed in a worker, as every new date
# was before)
MATERIALIZED_MONTHS = ("2024-01-01", "2024-06-01")  # first and last month written
MATERIALIZED_DAYS = ("2024-01-12", "2024-02-15", "2024-03-15", *DAYS)  # their sample dates
COMPUTED_DAYS = ("2024-04-12", "2024-05-14", "2024-06-12")  # not sample dates: computed, each a new month
# a month after the run's last (no raw partitions): pulled from the source (and, as the run's
# first pull, the simulated market generated)
PULLED_DAYS = ("2024-08-14",)
# other non-sample dates of the same months, asked right after their month's first: the worker
# computes them from the month it keeps pulled
SAME_MONTH_DAYS = {
    "2024-04-12": ("2024-04-11", "2024-04-10"),
    "2024-05-14": ("2024-05-13", "2024-05-10"),
    "2024-06-12": ("2024-06-11", "2024-06-10"),
}
# dates of the last of those months asked once the worker has finished working ahead (it computes
# a kept month's other sessions between requests): a client that comes back to the month later
AHEAD_DAYS = ("2024-06-03", "2024-06-20", "2024-06-27")
SERVED_SYMBOLS = 500
TRAIN_SYMBOLS = 100
ADMIN = "bench-admin-token"
PHASE_MAX_S = 90.0


def settings_for(home: Path, symbols: int):
    from smart_money_tests.support.serving import serve_settings

    return serve_settings(home, symbols)


def run_server(home: str, port: int) -> None:
    from smart_money.serve.app import create_app
    from smart_money.serve.server import run

    app = create_app(settings_for(Path(home), SERVED_SYMBOLS), admin_token=ADMIN)
    run(app, "127.0.0.1", port, log_level="warning", access_log=False)


def materialize_raw(settings) -> None:
    """The universe and the raw assets' partitions of the settings' months, as `smart-money run`
    writes them (the raw assets' computation, `write_raw_partitions`)."""
    from smart_money_tests.support.serving import write_raw_partitions

    write_raw_partitions(settings)


def materialize_features(settings) -> None:
    """Write the `features` asset's partitions of MATERIALIZED_MONTHS (the same computation as
    the asset, `dataset_from_source`) where its io manager keeps them, as `smart-money run` would."""
    import dagster as dg
    import pandas as pd

    from smart_money.data import storage
    from smart_money.dataset.pipeline import dataset_from_source
    from smart_money.orchestration.io_manager import PartitionedParquetIOManager
    from smart_money.sources import open_source

    first, last = (pd.Timestamp(m) for m in MATERIALIZED_MONTHS)
    features = dataset_from_source(open_source(settings), settings.symbols, first, last).features
    manager = PartitionedParquetIOManager(base_path=storage.join(settings.data_location, "assets"))
    for month, rows in features.groupby(features["sample_date"].dt.to_period("M").dt.to_timestamp()):
        storage.write_parquet(manager._path(dg.AssetKey("features"), f"{month:%Y-%m-%d}", "parquet"), rows)


async def load(client, requests: list[tuple[str, str, dict | None]], concurrency: int) -> dict:
    """Send the requests (method, path, json) with `concurrency` in flight; latencies in ms."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue: asyncio.Queue = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    deadline = time.monotonic() + PHASE_MAX_S

    async def worker() -> None:
        while not queue.empty() and time.monotonic() < deadline:
            method, path, body = queue.get_nowait()
            t0 = time.perf_counter()
            response = await client.request(method, path, json=body)
            latencies.append((time.perf_counter() - t0) * 1e3)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - started
    arr = np.array(latencies)
    return {
        "requests": len(arr),
        "per_second": round(len(arr) / wall, 1),
        "p50_ms": round(float(np.percentile(arr, 50)), 2),
        "p95_ms": round(float(np.percentile(arr, 95)), 2),
        "p99_ms": round(float(np.percentile(arr, 99)), 2),
        "statuses": statuses,
    }


def rss_mb(pid: int) -> float:
    import psutil

    return round(psutil.Process(pid).memory_info().rss / 2**20, 1)


async def cold(client, server_pid: int, body: dict, path: str = "/api/ml/smart-money-flow") -> tuple[float, float]:
    """Seconds for the first request of a date (its features are computed in a worker process)
    and the worker's peak resident memory, sampled every 0.1 s."""
    import psutil

    peak = 0.0
    t0 = time.perf_counter()
    task = asyncio.create_task(client.post(path, json=body))
    while not task.done():
        for child in psutil.Process(server_pid).children(recursive=True):
            try:
                peak = max(peak, child.memory_info().rss / 2**20)
            except psutil.Error:
                pass
        await asyncio.sleep(0.1)
    assert task.result().status_code == 200, task.result().text
    return round(time.perf_counter() - t0, 2), round(peak, 1)


async def worker_idle(server_pid: int, limit_s: float = 120.0) -> float:
    """Seconds until the server's feature worker stops using CPU (done working ahead), bounded."""
    import psutil

    def cpu() -> float:
        total = 0.0
        for child in psutil.Process(server_pid).children(recursive=True):
            try:  # the feature worker (the event reader starts later)
                total += sum(child.cpu_times()[:2])
            except psutil.Error:
                pass
        return total

    t0 = time.perf_counter()
    before = cpu()
    while time.perf_counter() - t0 < limit_s:
        await asyncio.sleep(1.0)
        now = cpu()
        if now - before < 0.02:
            break
        before = now
    return round(time.perf_counter() - t0, 1)


async def first(client, body: dict, path: str = "/api/ml/smart-money-flow") -> float:
    """Milliseconds for one request, timed directly (no worker to watch)."""
    t0 = time.perf_counter()
    response = await client.post(path, json=body)
    assert response.status_code == 200, response.text
    return (time.perf_counter() - t0) * 1e3


async def client_run(base: str, server_pid: int, symbols: list[str], concurrency: int) -> dict:
    import httpx
    import psutil

    out: dict = {"served_symbols": len(symbols), "concurrency": concurrency}
    async with httpx.AsyncClient(
        base_url=base, timeout=600, limits=httpx.Limits(max_keepalive_connections=concurrency)
    ) as client:
        out["feature_worker_ready_s"] = await worker_idle(server_pid)  # started with the server
        colds, same_month = [], []
        for day in COMPUTED_DAYS:
            colds.append(await cold(client, server_pid, {"symbol": symbols[0], "date": day}))
            for other in SAME_MONTH_DAYS[day]:
                same_month.append(await first(client, {"symbol": symbols[0], "date": other}))
        out["first_prediction_computed_s"] = [c[0] for c in colds]
        out["first_prediction_computed_same_month_ms"] = [round(ms, 1) for ms in same_month]
        out["feature_worker_peak_rss_mb"] = max(c[1] for c in colds)
        out["feature_worker_ahead_s"] = await worker_idle(server_pid)
        ahead = [await first(client, {"symbol": symbols[0], "date": day}) for day in AHEAD_DAYS]
        out["first_prediction_computed_ahead_ms"] = [round(ms, 1) for ms in ahead]
        pulled = [await cold(client, server_pid, {"symbol": symbols[0], "date": day}) for day in PULLED_DAYS]
        out["first_prediction_pulled_s"] = [c[0] for c in pulled]
        out["feature_worker_peak_rss_pulled_mb"] = max(c[1] for c in pulled)
        fast = [await first(client, {"symbol": symbols[0], "date": day}) for day in MATERIALIZED_DAYS]
        out["first_prediction_materialized_ms"] = [round(ms, 1) for ms in fast]
        for key, values in (
            ("computed", [c[0] * 1e3 for c in colds]),
            ("computed_same_month", same_month),
            ("computed_ahead", ahead),
            ("materialized", fast),
        ):
            out[f"first_prediction_{key}_p95_ms"] = round(float(np.percentile(values, 95)), 1)

        def predictions(day: str, repeat: int = 1, start: int = 0) -> list:
            return [("POST", "/api/ml/smart-money-flow", {"symbol": s, "date": day}) for s in symbols[start:]] * repeat

        bare = [("GET", "/healthz", None)] * 3000
        await load(client, bare[:300], concurrency)  # connections and code paths warm
        # latency: one request at a time
        out["latency_bare"] = await load(client, bare[:1000], 1)
        out["latency_uncached"] = await load(client, predictions(DAYS[0], start=1), 1)
        out["latency_cached"] = await load(client, predictions(DAYS[0], repeat=2), 1)
        # throughput: `concurrency` requests in flight
        out["throughput_bare"] = await load(client, bare, concurrency)
        out["throughput_uncached"] = await load(client, predictions(DAYS[1], start=1), concurrency)
        out["throughput_cached"] = await load(client, predictions(DAYS[1], repeat=4), concurrency)
        out["throughput_bare_again"] = await load(client, bare, concurrency)

        # the stock analysis without and with its smart-money section, one request at a time
        analysis = [
            ("POST", "/api/stock-analysis", {"symbols": [s], "include_smart_money": True, "date": DAYS[2]})
            for s in symbols
        ]
        out["analysis_toggle_off"] = await load(client, analysis, 1)
        toggled = await client.put(
            "/api/admin/ml-features/smart-money-flow",
            json={"enabled": True, "actor": "bench", "reason": "measure the section"},
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        assert toggled.status_code == 200
        out["analysis_with_section_uncached"] = await load(client, analysis, 1)
        out["analysis_with_section_cached"] = await load(client, analysis, 1)

        stats = (await client.get("/api/ml/stats")).json()
        out["server_side_latency_ms"] = {"computed": stats["computed"], "cached": stats["cached"]}
        bands = (
            await client.post("/api/ml/smart-money-flow/batch", json={"symbols": symbols, "date": DAYS[0]})
        ).json()["predictions"]
        out["confidence_bands_on_served_day"] = {
            band: sum(p["confidence"] == band for p in bands) for band in ("HIGH", "MEDIUM", "LOW")
        }
        out["server_rss_mb"] = rss_mb(server_pid)
        others = {p.pid for p in psutil.Process(server_pid).children(recursive=True)}  # the feature worker
        await client.get("/flow/smart-money")  # starts the event reader process
        readers = [p for p in psutil.Process(server_pid).children(recursive=True) if p.pid not in others]
        out["event_reader_rss_mb"] = round(sum(p.memory_info().rss for p in readers) / 2**20, 1)
    bare_rate = (out["throughput_bare"]["per_second"] + out["throughput_bare_again"]["per_second"]) / 2
    out["uncached_throughput_vs_bare"] = round(out["throughput_uncached"]["per_second"] / bare_rate, 3)
    out["cached_throughput_vs_bare"] = round(out["throughput_cached"]["per_second"] / bare_rate, 3)
    out["section_added_p50_ms"] = round(
        out["analysis_with_section_uncached"]["p50_ms"] - out["analysis_toggle_off"]["p50_ms"], 2
    )
    out["goals"] = {
        "p95_first_prediction_of_a_materialized_date_below_500ms": out["first_prediction_materialized_p95_ms"] < 500,
        "p95_first_prediction_of_a_new_month_below_500ms": out["first_prediction_computed_p95_ms"] < 500,
        "p95_first_prediction_of_a_date_in_a_pulled_month_below_500ms": out[
            "first_prediction_computed_same_month_p95_ms"
        ]
        < 500,
        "p95_uncached_below_10ms": out["latency_uncached"]["p95_ms"] < 10,
        "throughput_at_least_half_of_bare": out["uncached_throughput_vs_bare"] >= 0.5,
        "server_rss_below_300mb": out["server_rss_mb"] < 300,
    }
    return out


def stop(server: subprocess.Popen) -> None:
    """SIGTERM the server's process group (uvicorn shuts down, closing its workers), then
    SIGKILL whatever is left of it."""
    import signal

    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    finally:
        try:
            os.killpg(server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--home")
    parser.add_argument("--port", type=int)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    if args.server:
        run_server(args.home, args.port)
        return

    import httpx
    import pandas as pd

    from smart_money.serve.feature_provider import compute_day
    from smart_money_tests.support.serving import free_port, register_model

    home = Path(os.environ.get("SMART_MONEY_HOME") or "bench/out/serve-home").resolve()
    t0 = time.perf_counter()
    register_model(settings_for(home, TRAIN_SYMBOLS))
    train_s = time.perf_counter() - t0
    served = settings_for(home, SERVED_SYMBOLS)
    universe = compute_day(served, pd.Timestamp(DAYS[0])).frame
    t0 = time.perf_counter()
    materialize_raw(served)
    raw_s = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    materialize_features(served)
    out_materialize_s = round(time.perf_counter() - t0, 1)
    symbols = universe.query("prices_missing == 0").index.tolist()
    port = free_port()
    # its own process group, output to a file: its worker processes must neither outlive it nor
    # hold the runner's pipes open
    log = (home / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.serve", "--server", "--home", str(home), "--port", str(port)],
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        out = asyncio.run(client_run(base, server.pid, symbols, args.concurrency))
    finally:
        stop(server)
        log.close()
    print(
        json.dumps(
            {
                "model_training_s": round(train_s, 1),
                "raw_materialized_s": raw_s,
                "features_materialized_s": out_materialize_s,
                **out,
            }
        )
    )


if __name__ == "__main__":
    main()
