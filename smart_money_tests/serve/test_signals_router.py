"""The latest-signals view: the pure function and the router on a bare FastAPI app, over stored
event partitions and a stored study (numbers read from the study, never hard-coded)."""

from __future__ import annotations

import pandas as pd
from fastapi import FastAPI
from fastapi.testclient import TestClient

from smart_money.data import storage
from smart_money.research.events import empty_events
from smart_money.research.latest import StoredSignals, latest_signals
from smart_money.serve.routers.signals import router

T = pd.Timestamp


def events_frame() -> pd.DataFrame:
    rows = [
        ("insider_purchase", "AAA", "2024-03-01 18:00", 5e5),
        ("insider_purchase", "BBB", "2024-03-05 10:00", 2e5),
        ("insider_purchase", "CCC", "2024-02-10 10:00", 1e5),
        ("congress_sale", "DDD", "2024-03-04 23:59:59", 1001.0),
    ]
    frame = empty_events()
    for family, symbol, known, size in rows:
        frame.loc[len(frame)] = {
            "event_id": f"{family}{symbol}", "family": family, "symbol": symbol, "known_at": T(known),
            "event_date": T(known).normalize(), "size_usd": size, "size_usd_high": None, "actor_ids": "1",
            "n_actors": 1, "role": None, "detail": None, "source_table": "x",
        }  # fmt: skip
    return frame


STUDY = [
    {"family": "insider_purchase", "benchmark": "matched", "window": "post_entry", "horizon_sessions": 21,
     "mean_car_bp": 123.4, "t_date": 2.5, "t_two_way": 2.2, "ci_low_bp": 20.0, "ci_high_bp": 230.0, "n_events": 900},
    {"family": "insider_purchase", "benchmark": "matched", "window": "post_entry", "horizon_sessions": 63,
     "mean_car_bp": 999.0, "t_date": 9.0, "t_two_way": 9.0, "ci_low_bp": 1.0, "ci_high_bp": 2.0, "n_events": 1},
]  # fmt: skip


def test_latest_signals_newest_first_per_family_with_the_measured_history():
    out = latest_signals(events_frame(), STUDY, limit=2)
    assert [(e["family"], e["symbol"]) for e in out] == [
        ("insider_purchase", "BBB"),
        ("congress_sale", "DDD"),
        ("insider_purchase", "AAA"),
    ]
    assert out[0]["history"]["car_bp"] == 123.4 and out[0]["history"]["horizon_sessions"] == 21
    assert out[1]["history"] is None  # the study has no row for it
    only = latest_signals(events_frame(), STUDY, family="insider_purchase", limit=5)
    assert [e["symbol"] for e in only] == ["BBB", "AAA", "CCC"]


def test_the_router_serves_the_stored_events_and_study(tmp_path):
    assets = tmp_path / "assets"
    frame = events_frame()
    month = frame["known_at"].dt.strftime("%Y-%m-01")
    for key, part in frame.groupby(month):
        storage.write_parquet(assets / "disclosure_events" / f"{key}.parquet", part)
    storage.write_json(assets / "event_study.json", {"event_study": STUDY})
    app = FastAPI()
    app.include_router(router)
    app.state.signals = StoredSignals(str(tmp_path))
    client = TestClient(app)
    body = client.get("/api/signals/latest", params={"family": "insider_purchase", "limit": 1}).json()
    assert [e["symbol"] for e in body["events"]] == ["BBB"]
    assert body["events"][0]["history"]["t_date"] == 2.5
    assert client.get("/api/signals/latest", params={"family": "nope"}).status_code == 422
    assert client.get("/api/signals/latest", params={"limit": 0}).status_code == 422
    assert len(client.get("/api/signals/latest").json()["events"]) == 4


def test_before_any_study_the_view_is_empty_not_an_error(tmp_path):
    app = FastAPI()
    app.include_router(router)
    app.state.signals = StoredSignals(str(tmp_path))
    assert TestClient(app).get("/api/signals/latest").json()["events"] == []
