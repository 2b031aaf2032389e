"""The server under abuse (issue 19): bounded, deduplicated and cancellable feature work; dates that
cannot exist refused before any work; corrupt state files answered with 503 naming the file (and
the toggle repaired through the API); a malformed model.txt whose hash matches the index refused
without taking the process down; body and header caps; the security headers."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time

import pandas as pd
import psutil
import pytest
from fastapi.testclient import TestClient

from smart_money.model.registry import CorruptIndex, Registry
from smart_money.serve.app import create_app
from smart_money.serve.feature_provider import Busy, Cancelled, FeatureProvider, FeaturesUnavailable
from smart_money.serve.limits import UVICORN_OPTIONS
from smart_money.serve.prediction import ChampionModel, Unavailable
from smart_money.serve.toggles import CorruptToggleFile, FeatureToggles
from smart_money_tests.support.serving import (
    ADMIN_TOKEN,
    SERVE_DAY,
    copy_models,
    failing_day,
    feature_calls,
    serve_settings,
    slow_day,
    small_day,
)

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
TOGGLE = "/api/admin/ml-features/smart-money-flow"
DAY = pd.Timestamp(SERVE_DAY)


@pytest.fixture
def home(tmp_path):
    """Settings in a fresh home without a model (the feature-work tests need none)."""
    return serve_settings(tmp_path / "home")


@pytest.fixture
def settings(served_settings, tmp_path):
    return copy_models(served_settings, tmp_path / "home")


def app_for(settings, provider, **kwargs):
    return create_app(
        settings,
        admin_token=ADMIN_TOKEN,
        features=provider,
        event_store=f"chdb://{settings.data_dir / 'clickhouse'}",
        **kwargs,
    )


def is_resource_tracker(process: psutil.Process) -> bool:
    """multiprocessing's helper process (lives as long as this one; not a worker)."""
    try:
        return "resource_tracker" in " ".join(process.cmdline())
    except psutil.Error:
        return False


# -- bounded, deduplicated, cancellable feature work --------------------------------------------------
def test_one_computation_serves_every_waiter_of_a_date(home):
    provider = FeatureProvider(home, compute=small_day)
    try:

        async def many():
            return await asyncio.gather(*(provider.aget(DAY) for _ in range(5)))

        results = asyncio.run(many())
        assert all(r.day == DAY and r.has("AAA") for r in results)
        assert feature_calls(home) == [SERVE_DAY] and provider.computed == 1 and provider.pending() == 0
    finally:
        provider.close()


def test_a_new_date_beyond_the_bound_is_refused_as_busy_without_starting_work(home):
    provider = FeatureProvider(home, compute=slow_day, max_pending=1)
    try:
        provider.submit(DAY)
        with pytest.raises(Busy, match="being computed; retry 2024-06-13"):
            provider.get(pd.Timestamp("2024-06-13"))
        assert provider.pending() == 1
    finally:
        provider.close()


def test_the_work_of_a_client_that_went_away_is_stopped(home):
    provider = FeatureProvider(home, compute=slow_day)
    try:
        started = psutil.Process().children()

        async def gone() -> bool:  # the client disconnects once the worker is running
            return len(feature_calls(home)) > 0

        with pytest.raises(Cancelled, match="went away"):
            asyncio.run(provider.aget(DAY, gone))
        workers = [p for p in psutil.Process().children() if p not in started and not is_resource_tracker(p)]
        assert workers  # the worker that was running
        _, alive = psutil.wait_procs(workers, timeout=30)
        assert alive == []
        deadline = time.monotonic() + 30  # the scheduler thread settles the job once it sees the worker gone
        while provider.pending() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert provider.pending() == 0
        assert provider.cancelled == 1 and provider.cached(DAY) is None
    finally:
        provider.close()


def test_a_waiter_that_stops_waiting_leaves_the_work_to_the_others(home):
    provider = FeatureProvider(home, compute=small_day, wait_s=60)
    try:

        async def two():
            patient = asyncio.create_task(provider.aget(DAY))
            impatient = asyncio.create_task(provider.aget(DAY))
            await asyncio.sleep(0)
            impatient.cancel()
            return await patient

        assert asyncio.run(two()).day == DAY and provider.computed == 1 and provider.cancelled == 0
    finally:
        provider.close()


def test_a_failed_date_is_remembered_and_does_not_start_another_worker(home):
    provider = FeatureProvider(home, compute=failing_day, failure_ttl_s=60)
    try:
        with pytest.raises(FeaturesUnavailable, match=r"could not provide features for 2024-06-14 \(ConnectionError\)"):
            provider.get(DAY)
        for _ in range(3):
            with pytest.raises(FeaturesUnavailable, match="not retried for 60 s"):
                asyncio.run(provider.aget(DAY))
        assert feature_calls(home) == [SERVE_DAY]
    finally:
        provider.close()


@pytest.mark.parametrize(
    ("date", "needle"),
    [
        ("2024-06-15", "2024-06-15 (Saturday) is not a trading session of the exchange calendar; the session "
         "before it is 2024-06-14"),
        ("2023-12-25", "2023-12-25 (Monday) is not a trading session"),
        ("2005-01-03", "2005-01-03 is before 2022-07-01, the first month of the configured data (SMART_MONEY_START)"),
        ("2999-01-04", "is after the latest close"),
    ],
)  # fmt: skip
def test_dates_that_cannot_have_features_get_422_before_any_work(home, date, needle):
    provider = FeatureProvider(home, compute=small_day)
    try:
        with TestClient(app_for(home, provider)) as client:
            response = client.post("/api/ml/smart-money-flow", json={"symbol": "AAA", "date": date})
            assert response.status_code == 422, response.text
            assert needle in response.json()["detail"]
            analysis = client.post("/api/stock-analysis", json={"symbols": ["AAA"], "date": date})
            assert analysis.status_code == 422 and needle in analysis.json()["detail"]
        assert feature_calls(home) == [] and provider.pending() == 0
    finally:
        provider.close()


def test_a_busy_server_answers_503_with_retry_after(home):
    provider = FeatureProvider(home, compute=slow_day, max_pending=1)
    try:
        provider.submit(pd.Timestamp("2024-06-13"))
        with TestClient(app_for(home, provider)) as client:
            response = client.post("/api/ml/smart-money-flow", json={"symbol": "AAA", "date": SERVE_DAY})
        assert response.status_code == 503 and response.headers["retry-after"]
        assert "other dates are being computed; retry 2024-06-14" in response.json()["detail"]
    finally:
        provider.close()


def test_requests_whose_clients_gave_up_leave_no_work_behind(home):
    """Issue 19's pile-up: clients that give up after a few seconds on new dates; the server
    stops their work (queued dates dropped, the running worker terminated)."""
    import httpx

    from smart_money_tests.support.serving import LoopbackServer

    provider = FeatureProvider(home, compute=slow_day)
    try:
        with LoopbackServer(app_for(home, provider)) as server:
            outcomes = []
            for day in ("2024-06-10", "2024-06-11", "2024-06-12"):
                try:
                    body = {"symbol": "AAA", "date": day}
                    outcomes.append(
                        httpx.post(f"{server.url}/api/ml/smart-money-flow", json=body, timeout=3).status_code
                    )
                except httpx.TimeoutException:
                    outcomes.append("gave up")
            assert outcomes == ["gave up"] * 3
            for _ in range(600):  # the server notices within a poll or two; bounded
                if provider.pending() == 0:
                    break
                time.sleep(0.1)
            assert provider.pending() == 0 and provider.cancelled == 3 and provider.computed == 0
            # each date's worker may have begun during its client's 3 s (how far depends on the
            # machine's load), but none finished and none is left running
            assert set(feature_calls(home)) <= {"2024-06-10", "2024-06-11", "2024-06-12"}
            workers = [p for p in psutil.Process().children() if not is_resource_tracker(p)]
            _, alive = psutil.wait_procs(workers, timeout=30)
            assert alive == []
    finally:
        provider.close()


# -- corrupt state files ---------------------------------------------------------------------------------
def test_a_corrupt_toggle_file_is_503_naming_it_and_a_put_repairs_it(home):
    toggles = FeatureToggles(home.data_dir / "serve" / "feature-toggles.json")
    toggles.path.parent.mkdir(parents=True)
    toggles.path.write_text('{"smart-money-flow": {"enabled": tr')
    with pytest.raises(CorruptToggleFile, match="feature-toggles.json is not valid JSON"):
        toggles.state("smart-money-flow")
    provider = FeatureProvider(home, compute=small_day)
    try:
        with TestClient(app_for(home, provider)) as client:
            state = client.get(TOGGLE)
            assert state.status_code == 503 and str(toggles.path) in state.json()["detail"]
            assert "PUT" in state.json()["detail"] and state.headers["retry-after"]
            analysis = client.post(
                "/api/stock-analysis", json={"symbols": ["AAA"], "include_smart_money": True, "date": SERVE_DAY}
            )
            assert analysis.status_code == 503 and str(toggles.path) in analysis.json()["detail"]
            repaired = client.put(TOGGLE, json={"enabled": True, "actor": "ops", "reason": "repair"}, headers=AUTH)
            assert repaired.status_code == 200, repaired.text
            assert (
                repaired.json()["enabled"] is True
                and "kept as feature-toggles.json.corrupt-" in repaired.json()["reason"]
            )
            assert client.get(TOGGLE).json()["enabled"] is True
        [kept] = toggles.path.parent.glob("feature-toggles.json.corrupt-*")
        assert kept.read_text() == '{"smart-money-flow": {"enabled": tr'
    finally:
        provider.close()


def test_toggles_of_the_wrong_shape_are_corrupt_too(home):
    toggles = FeatureToggles(home.data_dir / "serve" / "feature-toggles.json")
    toggles.path.parent.mkdir(parents=True)
    toggles.path.write_text(json.dumps({"smart-money-flow": {"enabled": True, "audit": ["not an entry"]}}))
    with pytest.raises(CorruptToggleFile, match="does not hold toggles"):
        toggles.enabled("smart-money-flow")


def test_a_corrupt_registry_index_is_503_naming_it(settings):
    registry = Registry(settings.models_dir)
    registry.index_path.write_text('{"model_id": "smart_money_flow", "champion": "1.0.0", "vers')
    with pytest.raises(CorruptIndex, match="registry.json is corrupt"):
        registry.index()
    provider = FeatureProvider(settings, compute=small_day)
    try:
        with TestClient(app_for(settings, provider)) as client:
            prediction = client.post("/api/ml/smart-money-flow", json={"symbol": "AAA", "date": SERVE_DAY})
            assert prediction.status_code == 503 and str(registry.index_path) in prediction.json()["detail"]
            listing = client.get("/api/ml/models")
            assert listing.status_code == 503 and str(registry.index_path) in listing.json()["detail"]
    finally:
        provider.close()
    registry.index_path.write_text(json.dumps(["a list"]))
    with pytest.raises(CorruptIndex, match="a JSON list, not an object"):
        registry.index()


# -- a malformed model whose hash matches ---------------------------------------------------------------
def rehash(registry: Registry, version: str, name: str) -> None:
    """Record the file's current sha256 in the index, as if it had been registered so."""
    index = registry.index()
    entry = next(v for v in index["versions"] if v["version"] == version)
    entry["sha256"][name] = hashlib.sha256((registry.folder(version) / name).read_bytes()).hexdigest()
    registry.index_path.write_text(json.dumps(index))


def test_a_malformed_model_with_a_matching_hash_is_refused_and_the_process_lives(settings):
    registry = Registry(settings.models_dir)
    path = registry.folder("1.0.0") / "model.txt"
    path.write_text(path.read_text().replace("split_feature=", "split_feature=9999 ", 1))  # aborts LightGBM
    rehash(registry, "1.0.0", "model.txt")
    registry.verify("1.0.0")  # the hash check alone does not see it
    with pytest.raises(Unavailable, match=r"v1\.0\.0/model\.txt is not a model LightGBM can load.*SIGABRT"):
        ChampionModel(registry).get()
    provider = FeatureProvider(settings, compute=small_day)
    try:
        with TestClient(app_for(settings, provider)) as client:  # starts (the model is checked at start-up)
            response = client.post("/api/ml/smart-money-flow", json={"symbol": "AAA", "date": SERVE_DAY})
            assert (
                response.status_code == 503
                and "model.txt is not a model LightGBM can load" in response.json()["detail"]
            )
            assert client.get("/healthz").status_code == 200
    finally:
        provider.close()


# -- size caps and headers ------------------------------------------------------------------------------
@pytest.fixture
def client(home):
    provider = FeatureProvider(home, compute=small_day)
    with TestClient(app_for(home, provider, max_body=4096)) as test_client:
        yield test_client
    provider.close()


def test_a_body_over_the_cap_is_413_by_its_length_or_as_it_streams(client):
    big = json.dumps({"symbols": ["AAA"] * 2000})
    response = client.post("/api/ml/smart-money-flow/batch", content=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and "the limit is 4096 bytes" in response.json()["detail"]

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(10):
            yield b" " * 1000

    streamed = client.post(
        "/api/ml/smart-money-flow/batch", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413 and "request body too large" in streamed.json()["detail"]
    small = client.post("/api/ml/smart-money-flow/batch", json={"symbols": ["AAA"], "date": SERVE_DAY})
    assert small.status_code != 413


def test_oversized_headers_are_431(client):
    response = client.get("/healthz", headers={"X-Padding": "x" * 20_000})
    assert response.status_code == 431 and "request headers too large" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/", "/static/app.js", "/healthz", "/api/ml/stats", "/no-such-page", "/docs"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert ("'unsafe-inline'" in policy) == (path == "/docs")  # the OpenAPI page has one inline script


def test_the_page_has_no_inline_script_or_style_the_policy_would_block(client):
    page = client.get("/").text
    assert "<script>" not in page and "<style" not in page and " style=" not in page and " onclick=" not in page


# -- a new date from the materialized features asset ------------------------------------------------------
def test_a_sample_date_is_read_from_the_materialized_features_asset_without_a_worker(home, caplog):
    import dagster as dg

    from smart_money.data import storage
    from smart_money.dataset.pipeline import dataset_from_source
    from smart_money.orchestration.io_manager import PartitionedParquetIOManager
    from smart_money.sources import open_source

    built = dataset_from_source(open_source(home), home.symbols, pd.Timestamp("2024-06-01"), pd.Timestamp("2024-06-01"))
    manager = PartitionedParquetIOManager(base_path=storage.join(home.data_location, "assets"))
    path = manager._path(dg.AssetKey("features"), "2024-06-01", "parquet")  # where the asset's partition lives
    storage.write_parquet(path, built.features)
    provider = FeatureProvider(home, compute=failing_day)
    try:
        data = asyncio.run(provider.aget(DAY))
        expected = built.features.set_index("symbol")
        assert data.day == DAY and list(data.frame.index) == list(expected.index)
        pd.testing.assert_frame_equal(data.frame, expected.drop(columns=["sample_date", "cutoff"]))
        assert feature_calls(home) == [] and provider.materialized == 1 and provider.computed == 0
        # another date of that month is not in the partition: computed by a worker
        with pytest.raises(FeaturesUnavailable):
            provider.get(pd.Timestamp("2024-06-12"))
        assert feature_calls(home) == ["2024-06-12"]
    finally:
        provider.close()
    # a partition cut short is not trusted: the date is computed, and the log names the file
    with open(path, "r+b") as handle:
        handle.truncate(100)
    provider = FeatureProvider(home, compute=failing_day)
    try:
        with pytest.raises(FeaturesUnavailable):
            provider.get(DAY)
        assert feature_calls(home)[-1] == SERVE_DAY and path in caplog.text
    finally:
        provider.close()


def test_serve_runs_uvicorn_with_a_cap_on_request_heads(home):
    """The h11 parser `serve` runs with refuses an oversized head before the app sees it."""
    import socket
    import threading

    import uvicorn

    from smart_money.serve.limits import MAX_HEADER_BYTES
    from smart_money.serve.server import Server
    from smart_money_tests.support.serving import free_port

    provider = FeatureProvider(home, compute=small_day)
    app = app_for(home, provider)
    port = free_port()
    server = Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **UVICORN_OPTIONS), app)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(600):
            if server.started:
                break
            time.sleep(0.05)

        def status_of(padding: int) -> int:
            head = f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: {'x' * padding}\r\n\r\n".encode()
            with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
                conn.sendall(head)
                return int(conn.recv(65536).split(b" ", 2)[1])

        assert status_of(100) == 200
        assert status_of(MAX_HEADER_BYTES * 2) in (400, 431)  # h11: "request header too large"
    finally:
        server.should_exit = True
        thread.join(30)
        provider.close()
