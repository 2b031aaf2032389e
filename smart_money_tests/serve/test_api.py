"""The HTTP API through the real app (FastAPI TestClient): predictions and their inputs,
validation, caching headers, registry, toggle auth and audit, stock analysis when prediction
fails, and the smart-money event endpoints over real chDB."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from smart_money.dataset.catalogue import PLAN_FEATURES
from smart_money.evaluation.registration import register_candidate
from smart_money.model.registry import Registry
from smart_money.serve.app import create_app
from smart_money.serve.feature_provider import FeatureProvider
from smart_money_tests.support.serving import (
    ADMIN_TOKEN,
    SERVE_DAY,
    compute_with_failing_filings,
    copy_models,
    event_rows,
    store_events,
)

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(scope="module")
def provider(served_settings):
    features = FeatureProvider(served_settings)
    yield features
    features.close()


@pytest.fixture(scope="module")
def symbols(provider) -> list[str]:
    data = provider.get(pd.Timestamp(SERVE_DAY))
    eligible = data.frame[(data.frame["prices_missing"] == 0) & (data.frame["excluded_reason"] == "")]
    return eligible.index.tolist()


@pytest.fixture
def settings(served_settings, tmp_path):
    return copy_models(served_settings, tmp_path / "home")


@pytest.fixture
def client(settings, provider, symbols):
    app = create_app(
        settings, admin_token=ADMIN_TOKEN, features=provider, event_store=f"chdb://{settings.data_dir / 'clickhouse'}"
    )
    with TestClient(app) as test_client:
        yield test_client


def predict(client, **body):
    return client.post("/api/ml/smart-money-flow", json={"date": SERVE_DAY, **body})


def test_a_prediction_has_the_plans_shape_and_caching_headers(client, symbols):
    response = predict(client, symbol=symbols[0].lower())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["symbol"] == symbols[0] and body["as_of"] == SERVE_DAY
    assert body["predicted_conviction"] in ("BULLISH", "BEARISH")
    assert 0 <= body["conviction_score"] <= 100 and body["confidence"] in ("HIGH", "MEDIUM", "LOW")
    assert list(body["features"]) == list(PLAN_FEATURES)
    assert set(body["signals"]) == {
        "insider_activity",
        "institutional_flow",
        "congressional_sentiment",
        "hedge_fund_positioning",
    }
    assert (
        body["model"]["version"] == "1.0.0"
        and 0.5 < body["model"]["roc_auc"] < 1
        and 0 <= body["model"]["accuracy"] <= 1
    )
    assert body["feature_source"] == "simulated" and body["cached"] is False and body["timestamp"].endswith("Z")
    max_age = int(response.headers["cache-control"].split("max-age=")[1])
    assert 120 <= max_age <= 300
    assert "predict;dur=" in response.headers["server-timing"]
    again = predict(client, symbol=symbols[0])
    assert again.json()["cached"] is True and again.json()["probability"] == body["probability"]


def test_the_source_path_matches_the_features_computed_by_the_dataset_pipeline(served_settings, provider, symbols):
    """The service's features for a sample date are the ones the pipeline computes for it."""
    from smart_money.dataset.pipeline import dataset_from_source
    from smart_money.sources import open_source

    day = pd.Timestamp(SERVE_DAY)  # the June 2024 sample date (the 15th is a Saturday)
    built = dataset_from_source(
        open_source(served_settings), served_settings.symbols, pd.Timestamp("2024-06-01"), pd.Timestamp("2024-06-01")
    )
    pipeline = built.features.set_index("symbol")
    assert (built.features["sample_date"] == day).all()
    served = provider.get(day).frame
    columns = [c for c in pipeline.columns if c in served.columns and c != "excluded_reason"]
    pd.testing.assert_frame_equal(served.loc[pipeline.index, columns], pipeline[columns], check_dtype=False)


def test_caller_features_replace_the_sources_and_keep_its_price_context(client, provider, symbols):
    symbol = symbols[1]
    from_source = predict(client, symbol=symbol).json()
    values = [from_source["features"][name] for name in PLAN_FEATURES]
    echoed = predict(client, symbol=symbol, features=values).json()
    assert echoed["feature_source"] == "request" and echoed["cached"] is False
    assert echoed["probability"] == pytest.approx(from_source["probability"], abs=1e-9)
    # the volatility-only reference comes from the price context, whatever the caller sends
    strong = dict(
        from_source["features"],
        insider_cluster_score=6.0,
        insider_buy_volume_30d=5e7,
        insider_net_flow_30d=50.0,
        insider_buy_ratio_30d=1.0,
    )
    changed = predict(client, symbol=symbol, features=[strong[name] for name in PLAN_FEATURES]).json()
    assert changed["neutral_probability"] == pytest.approx(from_source["neutral_probability"], abs=1e-12)
    assert changed["signals"]["insider_activity"] == "bullish"
    # every feature of a family null = that source missing, as a missing source would leave them
    nothing = predict(client, symbol=symbol, features=[None] * len(PLAN_FEATURES)).json()
    assert set(nothing["signals"].values()) == {"neutral"} and nothing["features"]["insider_cluster_score"] is None


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"symbol": "TOOLONGSYMBOL"}, "symbol"),
        ({"symbol": ""}, "symbol"),
        ({"symbol": "AB CD"}, "symbol"),
        ({"symbol": "AAA", "features": [1.0] * 26}, "features"),
        ({"symbol": "AAA", "features": ["x"] * 27}, "features"),
        ({"symbol": "AAA", "date": "2024-13-45"}, "date"),
        ({"symbol": "AAA", "color": "red"}, "color"),
        ({}, "symbol"),
    ],
)
def test_invalid_requests_get_400_with_a_helpful_message(client, body, needle):
    body = {k: v for k, v in body.items()}
    response = client.post("/api/ml/smart-money-flow", json=body)
    assert response.status_code == 400, response.text
    assert needle in response.json()["detail"]
    assert response.headers["cache-control"] == "no-store"


def test_non_finite_numbers_and_broken_json_are_rejected(client):
    response = client.post(
        "/api/ml/smart-money-flow",
        content='{"symbol": "AAA", "features": [' + ",".join(["NaN"] * 27) + "]}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400 and "features" in response.json()["detail"]
    response = client.post(
        "/api/ml/smart-money-flow", content='{"symbol": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and "invalid request" in response.json()["detail"]


def test_an_unknown_symbol_is_404(client):
    response = predict(client, symbol="ZZZZZ")
    assert response.status_code == 404
    assert "unknown symbol ZZZZZ" in response.json()["detail"]


def test_internal_errors_are_500_without_internals(settings, provider, monkeypatch):
    app = create_app(
        settings, admin_token=ADMIN_TOKEN, features=provider, event_store=f"chdb://{settings.data_dir / 'clickhouse'}"
    )

    def broken(*args, **kwargs):
        raise RuntimeError("secret-internal-detail at /srv/private/key.pem")

    monkeypatch.setattr(app.state.service, "predict", broken)
    with TestClient(app, raise_server_exceptions=False) as c:
        response = predict(c, symbol="AAA")
    assert response.status_code == 500
    assert "secret" not in response.text and "/srv" not in response.text
    assert response.json()["detail"] == "internal server error" and response.json()["request_id"]


def test_batch_predictions_match_single_ones_and_list_unknown_symbols(client, symbols):
    wanted = symbols[2:6]
    response = client.post("/api/ml/smart-money-flow/batch", json={"symbols": [*wanted, "ZZZZZ"], "date": SERVE_DAY})
    assert response.status_code == 200
    body = response.json()
    assert [p["symbol"] for p in body["predictions"]] == wanted
    assert body["errors"] == [
        {
            "symbol": "ZZZZZ",
            "status": 404,
            "detail": f"unknown symbol ZZZZZ: not in the configured simulated universe on {SERVE_DAY}",
        }
    ]
    single = predict(client, symbol=wanted[2]).json()
    assert single["cached"] is True  # the batch filled the cache
    assert single["probability"] == body["predictions"][2]["probability"]


def test_the_registry_endpoint_lists_versions_champion_metrics_and_gates(client):
    body = client.get("/api/ml/models").json()
    assert body["champion"] == "1.0.0"
    [version] = body["versions"]
    assert version["status"] == "champion" and version["metrics"]["roc_auc"] > 0.5
    assert version["gates"]["test_fixture"]["passed"] is True and "detail" in version["gates"]["test_fixture"]


def test_a_new_champion_is_served_without_a_restart(client, settings, provider, symbols):
    first = predict(client, symbol=symbols[3]).json()
    assert first["model"]["version"] == "1.0.0"
    registry = Registry(settings.models_dir)
    model, metadata = registry.load_model()
    folder = settings.models_dir / "again"
    model.save(folder)
    rows = provider.get(pd.Timestamp(SERVE_DAY)).frame.loc[symbols].reset_index()
    rows["label"] = np.arange(len(rows)) % 2  # the same model scores the same: it stays a candidate
    gates = {"test_fixture": {"passed": True, "value": 1.0, "threshold": 1.0, "detail": "second registration"}}
    entry = register_candidate(
        registry, folder, {k: metadata[k] for k in ("model_id", "features", "label", "metrics")}, gates, rows, {}
    )
    assert entry["version"] == "1.0.1" and entry["status"] == "candidate"
    assert predict(client, symbol=symbols[3]).json()["model"]["version"] == "1.0.0"
    registry.promote("1.0.1")
    second = predict(client, symbol=symbols[3]).json()
    assert second["model"]["version"] == "1.0.1" and second["cached"] is False
    assert second["probability"] == first["probability"]


def test_a_tampered_champion_is_refused_and_the_analysis_still_answers(settings, provider, symbols):
    (Registry(settings.models_dir).folder("1.0.0") / "model.txt").write_text("tree\n")
    app = create_app(
        settings, admin_token=ADMIN_TOKEN, features=provider, event_store=f"chdb://{settings.data_dir / 'clickhouse'}"
    )
    with TestClient(app) as client:
        check_the_fallback(client, symbols)


def check_the_fallback(client, symbols):
    response = predict(client, symbol=symbols[0])
    assert response.status_code == 503 and "failed verification" in response.json()["detail"]
    client.put(
        "/api/admin/ml-features/smart-money-flow",
        json={"enabled": True, "actor": "ops", "reason": "test the fallback"},
        headers=AUTH,
    )
    analysis = client.post(
        "/api/stock-analysis", json={"symbols": symbols[:2], "include_smart_money": True, "date": SERVE_DAY}
    )
    assert analysis.status_code == 200
    body = analysis.json()
    assert [a["symbol"] for a in body["analyses"]] == symbols[:2]
    assert all(
        "smart_money_flow" not in a and "failed verification" in a["smart_money_flow_error"] for a in body["analyses"]
    )
    assert (
        body["smart_money_flow_status"]["included"] is False
        and "failed verification" in body["smart_money_flow_status"]["reason"]
    )
    assert body["analyses"][0]["risk"]["volatility_20d"] > 0


def test_the_analysis_answers_when_the_source_fails_on_the_smart_money_tables(settings, symbols):
    failing = FeatureProvider(settings, compute=compute_with_failing_filings)
    app = create_app(
        settings, admin_token=ADMIN_TOKEN, features=failing, event_store=f"chdb://{settings.data_dir / 'clickhouse'}"
    )
    try:
        with TestClient(app) as c:
            c.put(
                "/api/admin/ml-features/smart-money-flow",
                json={"enabled": True, "actor": "ops", "reason": "source outage drill"},
                headers=AUTH,
            )
            body = c.post(
                "/api/stock-analysis", json={"symbols": [symbols[0]], "include_smart_money": True, "date": SERVE_DAY}
            ).json()
            [analysis] = body["analyses"]
            assert "smart_money_flow" not in analysis and analysis["momentum"]["return_1m"] is not None
            assert "failed on the smart-money tables (ConnectionError)" in body["smart_money_flow_status"]["reason"]
            assert "secret-host" not in json.dumps(body)
            direct = predict(c, symbol=symbols[0])
            assert direct.status_code == 503 and "send the 27 features" in direct.json()["detail"]
            # with the caller's features the price context is enough
            assert predict(c, symbol=symbols[0], features=[0.0] * 27).status_code == 200
    finally:
        failing.close()


def test_the_toggle_is_off_by_default_needs_the_admin_token_and_keeps_an_audit_log(client, settings, provider, symbols):
    state = client.get("/api/admin/ml-features/smart-money-flow").json()
    assert state["enabled"] is False and state["audit"] == []
    off = client.post(
        "/api/stock-analysis", json={"symbols": [symbols[0]], "include_smart_money": True, "date": SERVE_DAY}
    ).json()
    assert "smart_money_flow" not in off["analyses"][0] and "disabled" in off["smart_money_flow_status"]["reason"]

    change = {"enabled": True, "actor": "alice", "reason": "launch for the research desk"}
    missing = client.put("/api/admin/ml-features/smart-money-flow", json=change)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    wrong = client.put("/api/admin/ml-features/smart-money-flow", json=change, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    assert client.get("/api/admin/ml-features/smart-money-flow").json()["enabled"] is False
    assert (
        client.put("/api/admin/ml-features/smart-money-flow", json={**change, "reason": ""}, headers=AUTH).status_code
        == 400
    )

    on = client.put("/api/admin/ml-features/smart-money-flow", json=change, headers=AUTH).json()
    assert on["enabled"] is True and on["updated_by"] == "alice" and on["reason"] == change["reason"]
    [entry] = on["audit"]
    assert entry["previous"] is False and entry["enabled"] is True and entry["client"] and entry["at"]
    with_section = client.post(
        "/api/stock-analysis", json={"symbols": [symbols[0]], "include_smart_money": True, "date": SERVE_DAY}
    ).json()
    assert with_section["analyses"][0]["smart_money_flow"]["symbol"] == symbols[0]
    assert with_section["smart_money_flow_status"] == {"requested": True, "included": True, "reason": None}
    not_asked = client.post("/api/stock-analysis", json={"symbols": [symbols[0]], "date": SERVE_DAY}).json()
    assert "smart_money_flow" not in not_asked["analyses"][0]

    # persisted: a new server process on the same home sees the state and the log
    restarted = create_app(
        settings, admin_token=ADMIN_TOKEN, features=provider, event_store=f"chdb://{settings.data_dir / 'clickhouse'}"
    )
    with TestClient(restarted) as c:
        state = c.get("/api/admin/ml-features/smart-money-flow").json()
        assert state["enabled"] is True and state["audit"][0]["actor"] == "alice"
        assert (
            c.put(
                "/api/admin/ml-features/smart-money-flow",
                json={"enabled": False, "actor": "bob", "reason": "rollback drill"},
                headers=AUTH,
            ).status_code
            == 200
        )
        assert [e["actor"] for e in c.get("/api/admin/ml-features/smart-money-flow").json()["audit"]] == [
            "bob",
            "alice",
        ]


def test_a_server_without_an_admin_token_refuses_every_change(settings, provider):
    app = create_app(
        settings, admin_token="", features=provider, event_store=f"chdb://{settings.data_dir / 'clickhouse'}"
    )
    with TestClient(app) as c:
        response = c.put(
            "/api/admin/ml-features/smart-money-flow",
            json={"enabled": True, "actor": "eve", "reason": "no token set"},
            headers={"Authorization": "Bearer "},
        )
        assert response.status_code == 401
        response = c.put(
            "/api/admin/ml-features/smart-money-flow",
            json={"enabled": True, "actor": "eve", "reason": "no token set"},
            headers={"Authorization": "Bearer guess"},
        )
        assert response.status_code == 403 and "no admin token" in response.json()["detail"]


@pytest.fixture(scope="module")
def stored_rows() -> pd.DataFrame:
    return event_rows()


def test_the_calibration_endpoint_bounds_what_a_saturated_probability_claims(client, stored_rows):
    info = client.get("/flow/calibration").json()
    assert info["synthetic"] and info["source"].startswith("smart_money.options.market.synthetic")
    saturated = stored_rows[~stored_rows["abstained"] & (stored_rows["primary_probability"] == 1.0)]
    assert len(saturated)  # what the page used to show as "high 100.0 %"
    for profile in set(saturated["primary_profile_id"]):
        top = info["top"][profile]
        assert top["probability"] == 1.0 and top["positives"] == top["events"]
        assert top["lower_95"] < 1.0 and top["label"] == f"> {math.floor(1000 * top['lower_95']) / 10:.1f} %"
    assert info["top"]["institutional_directional"]["label"] == "> 90.7 %"  # 38 events on its top step


def test_event_endpoints_order_filter_and_page_the_stored_events(client, settings, stored_rows):
    assert store_events(f"chdb://{settings.data_dir / 'clickhouse'}", stored_rows) == len(stored_rows)
    emitted = stored_rows[~stored_rows["abstained"]]

    latest = client.get("/flow/smart-money", params={"limit": 10}).json()
    assert len(latest) == min(10, len(emitted)) and not any(e["abstained"] for e in latest)
    stamps = [e["meta"]["source_ts"] for e in latest]
    assert stamps == sorted(stamps, reverse=True)

    everything = client.get("/history/smart-money", params={"limit": 1000}).json()
    assert len(everything) == len(stored_rows)
    pages = [
        client.get("/history/smart-money", params={"limit": 7, "offset": offset}).json()
        for offset in range(0, len(stored_rows), 7)
    ]
    assert [e["event_id"] for page in pages for e in page] == [e["event_id"] for e in everything]

    profile = emitted["primary_profile_id"].value_counts().index[0]
    by_profile = client.get("/history/smart-money", params={"profile": profile}).json()
    assert len(by_profile) == (emitted["primary_profile_id"] == profile).sum()
    underlying = stored_rows["underlying_id"].iloc[0]
    by_underlying = client.get("/history/smart-money", params={"underlying": underlying.lower()}).json()
    assert {e["event_id"] for e in by_underlying} == set(
        stored_rows.loc[stored_rows["underlying_id"] == underlying, "event_id"]
    )
    middle = stored_rows["source_ts"].sort_values().iloc[len(stored_rows) // 2]
    window = client.get("/history/smart-money", params={"start": middle.isoformat(), "limit": 1000}).json()
    assert len(window) == (stored_rows["source_ts"] >= middle).sum()

    replay = client.get("/replay/smart-money")
    assert replay.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in replay.text.splitlines()]
    keys = [(e["meta"]["source_ts"], e["meta"]["seq"], e["event_id"]) for e in lines]
    assert len(lines) == len(stored_rows) and [k[0] for k in keys] == sorted(k[0] for k in keys)
    truncated = [json.loads(line) for line in client.get("/replay/smart-money", params={"limit": 3}).text.splitlines()]
    assert [e["event_id"] for e in truncated[:3]] == [e["event_id"] for e in lines[:3]] and truncated[3] == {
        "truncated": True,
        "limit": 3,
    }

    alerts = client.get("/flow/alerts", params={"limit": 1000}).json()
    assert len(alerts) == len(emitted)
    assert all(a["hits"][0]["classifier_id"] == f"smart_money_{a['primary_profile_id']}" for a in alerts)
    hits = client.get("/flow/classifier-hits", params={"limit": 1000}).json()
    assert {h["event_id"] for h in hits} == set(emitted["event_id"]) and all(
        1 <= len([h for h in hits if h["event_id"] == e]) <= 3 for e in emitted["event_id"]
    )
    assert client.get("/history/smart-money", params={"profile": "astrology"}).status_code == 400
    far = client.get("/history/smart-money", params={"start": "0696-03-06T06:09:01"})  # found by the fuzzer
    assert far.status_code == 400 and "start" in far.json()["detail"]


def test_docs_and_page_are_served_without_external_resources(client):
    docs = client.get("/docs").text
    assert "swagger-ui-bundle.js" in docs and "cdn." not in docs
    assert client.get("/openapi.json").json()["paths"]["/api/ml/smart-money-flow"]["post"]
    page = client.get("/").text
    assert 'id="gauge"' in page and "http" not in page.replace("http-equiv", "")
    for asset in ("/static/app.js", "/static/style.css"):
        text = client.get(asset).text
        assert "//cdn" not in text and "https://" not in text


def test_stats_report_counts_and_latencies(client, symbols):
    for symbol in symbols[:3]:
        predict(client, symbol=symbol)
    predict(client, symbol=symbols[0])
    stats = client.get("/api/ml/stats").json()
    assert stats["predictions"] >= 4 and stats["cache_hits"] >= 1
    assert stats["computed"]["n"] >= 1 and np.isfinite(stats["computed"]["p95_ms"])
