"""The event reader's one long-lived store, and `smart-money serve` as a process: a soak of 1,000
history requests with a WebSocket held for 60 s (the reader's resident memory must stay within
50 MB of where it started: a resource bound, not a timing), then SIGTERM with a feature worker
running, after which no process of the server's tree is left."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pandas as pd
import psutil
import pytest

from smart_money.serve.event_reader import EventReader
from smart_money_tests.support.serving import (
    SERVE_DAY,
    copy_models,
    event_rows,
    free_port,
    serve_env,
    store_events,
)

SOAK_REQUESTS = 1000
SOCKET_HELD_S = 60.0
RSS_GROWTH_LIMIT_MB = 50.0


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return event_rows()


@pytest.fixture
def settings(served_settings, tmp_path):
    return copy_models(served_settings, tmp_path / "home")


def spawned_children(process: psutil.Process) -> list[psutil.Process]:
    """Worker processes of `process` (multiprocessing spawn children, its resource tracker aside)."""
    out = []
    for child in process.children(recursive=True):
        try:
            line = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if "spawn_main" in line and "resource_tracker" not in line:
            out.append(child)
    return out


def test_the_reader_keeps_one_store_open_and_steps_aside_for_a_writer(settings, rows):
    url = f"chdb://{settings.data_dir / 'clickhouse'}"
    first, second = rows.iloc[: len(rows) // 2], rows.iloc[len(rows) // 2 :]
    store_events(url, first)
    reader = EventReader(url)
    try:
        for _ in range(20):
            assert len(asyncio.run(reader.query("history", limit=1000))) == len(first)
        stats = reader.stats()
        assert stats["opened"] == 1  # twenty queries, one engine
        # a writer in another process (this one) waits for the folder; the reader lets it in
        assert store_events(url, second) == len(second)
        assert len(asyncio.run(reader.query("history", limit=1000))) == len(rows)
        assert reader.stats()["opened"] == 2
        process = psutil.Process(stats["pid"])
    finally:
        reader.close()
    assert not process.is_running() or process.status() == psutil.STATUS_ZOMBIE


def hold_socket(port: int, seconds: float, received: list) -> None:
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{port}/ws/smart-money", open_timeout=60) as socket:
        received.append(json.loads(socket.recv(timeout=60)))
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                received.append(json.loads(socket.recv(timeout=1.0)))
            except TimeoutError:
                pass


@pytest.mark.slow
def test_soak_then_sigterm_leaves_no_process_behind(settings, rows, tmp_path):
    store_events(f"chdb://{settings.data_dir / 'clickhouse'}", rows)
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "smart_money.cli", "serve", "--port", str(port), "--no-warm"],
        env=serve_env(settings),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=120) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.2)
            response = client.get("/history/smart-money", params={"limit": 100})
            assert response.status_code == 200 and len(response.json()) == min(100, len(rows))
            [reader] = spawned_children(psutil.Process(server.pid))
            for _ in range(20):  # the reader's imports and first queries settle
                client.get("/history/smart-money", params={"limit": 100})
            before_mb = reader.memory_info().rss / 2**20

            received: list = []
            socket = threading.Thread(target=hold_socket, args=(port, SOCKET_HELD_S, received))
            socket.start()
            statuses: dict[int, int] = {}
            for i in range(SOAK_REQUESTS):
                params = {"limit": 50, "offset": (i * 7) % len(rows)}
                status = client.get("/history/smart-money", params=params).status_code
                statuses[status] = statuses.get(status, 0) + 1
            socket.join(SOCKET_HELD_S + 60)
            after_mb = reader.memory_info().rss / 2**20
            assert statuses == {200: SOAK_REQUESTS}
            assert received and received[0]["type"] == "hello"
            assert spawned_children(psutil.Process(server.pid)) == [reader]  # the same reader all along
            growth = after_mb - before_mb
            print(f"event reader RSS {before_mb:.1f} -> {after_mb:.1f} MB over {SOAK_REQUESTS} requests")
            assert growth < RSS_GROWTH_LIMIT_MB, f"event reader RSS {before_mb:.0f} -> {after_mb:.0f} MB"

            # a prediction for a date not computed yet: a feature worker runs when SIGTERM arrives
            answers: list = []

            def predict() -> None:
                body = {"symbol": "AAA", "date": SERVE_DAY}
                answers.append(httpx.post(f"{base}/api/ml/smart-money-flow", json=body, timeout=120))

            waiting = threading.Thread(target=predict, daemon=True)
            waiting.start()
            deadline = time.monotonic() + 60
            while len(spawned_children(psutil.Process(server.pid))) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
        tree = psutil.Process(server.pid).children(recursive=True)
        assert len(spawned_children(psutil.Process(server.pid))) == 2  # the reader and the feature worker
        os.kill(server.pid, signal.SIGTERM)
        # uvicorn shuts down cleanly, then re-raises the signal so the exit status says SIGTERM
        assert server.wait(timeout=90) in (0, -signal.SIGTERM)
        _, alive = psutil.wait_procs(tree, timeout=30)
        assert alive == [], [p.cmdline() for p in alive]
        waiting.join(30)
        # the waiting request was answered, not cut off: 503 saying why
        assert answers[0].status_code == 503 and "shutting down" in answers[0].json()["detail"]
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
    text = (tmp_path / "serve.log").read_text()
    assert "Application shutdown complete" in text and "Traceback" not in text, text[-3000:]
