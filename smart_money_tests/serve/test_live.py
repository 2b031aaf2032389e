"""The service on a real uvicorn server on 127.0.0.1: a WebSocket client receives events as they
are stored, and the web page works in headless Chromium (Debian's package)."""

from __future__ import annotations

import json
import shutil
import time

import httpx
import pandas as pd
import pytest

from smart_money.serve.app import create_app
from smart_money.serve.feature_provider import FeatureProvider
from smart_money_tests.support.serving import (
    ADMIN_TOKEN,
    SERVE_DAY,
    LoopbackServer,
    copy_models,
    event_rows,
    store_events,
)


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return event_rows().sort_values("source_ts").reset_index(drop=True)


@pytest.fixture
def settings(served_settings, tmp_path):
    return copy_models(served_settings, tmp_path / "home")


def newly_written(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows as a writer produces them now (stamped with the time of writing)."""
    return rows.assign(ingest_ts=pd.Timestamp.now(tz="UTC"))


def test_a_websocket_client_receives_each_newly_stored_event_once(settings, rows):
    from websockets.sync.client import connect

    url = f"chdb://{settings.data_dir / 'clickhouse'}"
    old, new = rows.iloc[: len(rows) // 2], rows.iloc[len(rows) // 2 :]
    store_events(url, newly_written(old))
    app = create_app(settings, features=FeatureProvider(settings), event_store=url, poll_interval_s=0.2)
    with (
        LoopbackServer(app) as server,
        connect(f"ws://127.0.0.1:{server.port}/ws/smart-money", open_timeout=30) as socket,
    ):
        assert json.loads(socket.recv(timeout=60))["type"] == "hello"
        assert store_events(url, newly_written(new)) == len(new)
        received = []
        deadline = time.monotonic() + 60
        while len(received) < len(new) and time.monotonic() < deadline:
            message = json.loads(socket.recv(timeout=60))
            assert message["type"] == "event"
            received.append(message["event"])
        assert sorted(e["event_id"] for e in received) == sorted(new["event_id"])  # each new one, once, none of the old
        with pytest.raises(TimeoutError):
            socket.recv(timeout=1.0)  # nothing more: no repeats from the look-behind window
        first = next(e for e in received if not e["abstained"])
        expected = new.set_index("event_id").loc[first["event_id"]]
        assert (
            first["primary_profile_id"] == expected["primary_profile_id"]
            and first["underlying_id"] == expected["underlying_id"]
        )


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.skip("no Chromium on this machine (.ci/run installs Debian's chromium package)")
    return path


BROWSER_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_the_page_shows_the_gauge_signals_and_the_live_feed_in_headless_chromium(settings, rows, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url = f"chdb://{settings.data_dir / 'clickhouse'}"
    emitted = rows[~rows["abstained"]]
    old, new = emitted.iloc[:5], emitted.iloc[5:8]
    store_events(url, newly_written(old))
    provider = FeatureProvider(settings)
    symbol = provider.get(pd.Timestamp(SERVE_DAY)).frame.query("prices_missing == 0 and excluded_reason == ''").index[0]
    app = create_app(settings, admin_token=ADMIN_TOKEN, features=provider, event_store=url, poll_interval_s=0.2)
    with LoopbackServer(app) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=BROWSER_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(server.url)
            expect(page.locator("#model-info")).to_contain_text("v1.0.0", timeout=30_000)
            expect(page.locator("#feed .feed-item")).to_have_count(len(old), timeout=30_000)
            expect(page.locator("#feed-status")).to_have_text("live", timeout=30_000)
            # a probability on a saturated calibration step shows its 95 % bound, never "100.0 %"
            expect(page.locator("#feed-note")).to_contain_text("synthetic market")
            badges = page.locator("#feed .feed-item .badge")
            texts = badges.all_inner_texts()
            assert texts and not any("100.0 %" in text for text in texts), texts
            saturated = [i for i, text in enumerate(texts) if "> " in text]
            assert saturated, texts  # the catalogue's stored events include top-step probabilities
            assert "95 % lower bound" in badges.nth(saturated[0]).get_attribute("title")

            # off by default: the section says so and shows no prediction
            page.fill("#symbol", symbol.lower())
            page.fill("#date", SERVE_DAY)
            page.click("#analyze")
            expect(page.locator("#toggle-off")).to_contain_text("disabled", timeout=60_000)
            expect(page.locator("#prediction")).to_be_hidden()

            response = httpx.put(
                f"{server.url}/api/admin/ml-features/smart-money-flow",
                json={"enabled": True, "actor": "browser-test", "reason": "show the panel"},
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            )
            assert response.status_code == 200
            page.click("#analyze")
            expect(page.locator("#prediction")).to_be_visible(timeout=60_000)
            conviction = page.inner_text("#conviction")
            assert conviction in ("BULLISH", "BEARISH")
            assert "rotate(" in page.get_attribute("#gauge-needle", "style")
            assert page.inner_text("#confidence-badge") in ("HIGH", "MEDIUM", "LOW")
            for name in ("insider_activity", "institutional_flow", "congressional_sentiment", "hedge_fund_positioning"):
                row = page.locator(f'#signals tr[data-signal="{name}"]')
                assert row.locator(".value").inner_text().strip()
                assert len(row.locator(".tip").get_attribute("data-tip")) > 80
            assert "v1.0.0" in page.inner_text("#probabilities") and "accuracy" in page.inner_text("#probabilities")
            assert page.inner_text("#analysis-symbol") == symbol

            store_events(url, newly_written(new))
            for event_id in new["event_id"]:
                expect(page.locator(f'#feed .feed-item.new[data-event-id="{event_id}"]')).to_have_count(
                    1, timeout=30_000
                )
            top = page.locator("#feed .feed-item").first
            assert top.locator(".profile").inner_text() in set(new["primary_profile_id"])

            screenshot = tmp_path / "smart-money-page.png"  # kept with the test's temporary files
            page.screenshot(path=str(screenshot), full_page=True)
            assert screenshot.stat().st_size > 30_000
        finally:
            browser.close()
            provider.close()
