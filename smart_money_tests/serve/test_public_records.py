"""`smart-money serve` and `smart-money predict` on SMART_MONEY_SOURCE=public_records.

They once built their sources through a factory of their own that knew no public records; both
now open the configured source through `smart_money.sources.open_source`. Here a small records
folder (support/public_records.py) trains and registers a model, then the HTTP service (a real
uvicorn on 127.0.0.1, building its own feature provider as `smart-money serve` does) and the
prediction service behind `smart-money predict` (one-shot and --jsonl, without the CLI module)
answer for a records symbol on a records date with features computed from the records."""

from __future__ import annotations

import json
import math

import httpx
import pandas as pd
import pytest

from smart_money.data import calendar as cal
from smart_money.dataset.catalogue import PLAN_FEATURES
from smart_money.dataset.features import UniverseRules
from smart_money.dataset.pipeline import dataset_from_source
from smart_money.model.registry import Registry
from smart_money.serve.app import create_app
from smart_money.serve.feature_provider import FeatureProvider
from smart_money.serve.jsonlines import answer_line, serve_lines
from smart_money.serve.prediction import ChampionModel, PredictionService
from smart_money.settings import Settings
from smart_money.sources import open_source
from smart_money_tests.support.public_records import DELISTED, add_activity, price_frame, tickers, write_records
from smart_money_tests.support.serving import ADMIN_TOKEN, LoopbackServer, register_model

SERVED_ON = "2021-06-15"  # a sample date (a Tuesday) in the last month the model was built from
UNIVERSE = 24  # the configured universe: 24 of the folder's stocks


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    """Settings as `smart-money serve` reads them from the environment, with a champion trained
    on the records folder."""
    home = tmp_path_factory.mktemp("records_serving")
    records = add_activity(write_records(home / "records"))
    settings = Settings.from_env(
        {
            "SMART_MONEY_SOURCE": "public_records",
            "SMART_MONEY_PUBLIC_RECORDS_DIR": str(records),
            "SMART_MONEY_START": "2020-01",
            "SMART_MONEY_END": "2021-06",
            "SMART_MONEY_SYMBOLS": str(UNIVERSE),
            "SMART_MONEY_HOME": str(home),
        }
    )
    assert register_model(settings)["status"] == "champion"
    return settings


@pytest.fixture(scope="module")
def members(settings) -> pd.DataFrame:
    """The dataset pipeline's features for the serving date (the sample of its month): every
    member of the configured universe on that date."""
    month = cal.month_start(pd.Timestamp(SERVED_ON))
    built = dataset_from_source(
        open_source(settings),
        settings.symbols,
        month,
        month,
        UniverseRules(settings.min_inst_ownership_pct, settings.require_insider_activity),
        settings.hedge_funds,
    )
    features = built.features.set_index("symbol")
    assert (features["sample_date"] == pd.Timestamp(SERVED_ON)).all()
    return features


@pytest.fixture(scope="module")
def pipeline(members) -> pd.DataFrame:
    """The eligible members: what the model is trained and tested on for that date."""
    return members[(members["prices_missing"] == 0) & (members["excluded_reason"] == "")]


@pytest.fixture(scope="module")
def symbol(pipeline) -> str:
    """The served symbol with the largest insider buying in the 30 days before the date (its
    smart-money features come from records, not from defaults)."""
    name = pipeline["insider_buy_volume_30d"].idxmax()
    assert pipeline.at[name, "insider_buy_volume_30d"] > 0
    return name


@pytest.fixture(scope="module")
def outside(members) -> list[str]:
    """Symbols with records in the folder that the configured universe does not hold on the
    date: the delisted one and the stocks beyond the 24 chosen."""
    names = [DELISTED, *sorted(set(tickers()) - set(members.index))]
    assert len(names) > 1 and not set(names) & set(members.index)
    return names


def assert_features_from(pipeline: pd.DataFrame, answer: dict) -> None:
    row = pipeline.loc[answer["symbol"]]
    assert list(answer["features"]) == list(PLAN_FEATURES)
    for name, value in answer["features"].items():
        expected = float(row[name])
        if math.isnan(expected):
            assert value is None, name
        else:
            assert value == pytest.approx(expected, rel=1e-9, abs=1e-12), name


def adjusted_return_1m(symbol: str, day: str) -> float:
    """The 21-session return of the Adj Close the fixture wrote into the symbol's price file."""
    frame = price_frame(symbol, tickers().index(symbol))
    adjusted = pd.Series(frame["Adj Close"].to_numpy(), index=pd.to_datetime(frame["Date"]))
    position = adjusted.index.get_loc(pd.Timestamp(day))
    return float(adjusted.iloc[position] / adjusted.iloc[position - 21] - 1.0)


def test_the_http_service_predicts_from_the_records(settings, pipeline, symbol, outside):
    app = create_app(settings, admin_token=ADMIN_TOKEN, event_store=f"chdb://{settings.data_dir / 'clickhouse'}")
    with LoopbackServer(app) as server, httpx.Client(base_url=server.url, timeout=300) as client:
        response = client.post("/api/ml/smart-money-flow", json={"symbol": symbol.lower(), "date": SERVED_ON})
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["symbol"] == symbol and answer["as_of"] == SERVED_ON
        assert answer["feature_source"] == "public_records" and answer["model"]["version"] == "1.0.0"
        assert answer["predicted_conviction"] in ("BULLISH", "BEARISH") and 0 < answer["probability"] < 1
        assert_features_from(pipeline, answer)

        unknown = client.post("/api/ml/smart-money-flow", json={"symbol": outside[0], "date": SERVED_ON})
        assert unknown.status_code == 404, unknown.text
        assert unknown.json()["detail"] == (
            f"unknown symbol {outside[0]}: not in the configured public_records universe on {SERVED_ON}"
        )

        batch = client.post(
            "/api/ml/smart-money-flow/batch", json={"symbols": [*pipeline.index, *outside], "date": SERVED_ON}
        )
        assert batch.status_code == 200, batch.text
        body = batch.json()
        assert [p["symbol"] for p in body["predictions"]] == list(pipeline.index)
        for prediction in body["predictions"]:
            assert_features_from(pipeline, prediction)
        assert [(e["symbol"], e["status"]) for e in body["errors"]] == [(name, 404) for name in outside]

        # the price context is read from the folder's price files
        analysis = client.post("/api/stock-analysis", json={"symbols": [symbol], "date": SERVED_ON})
        assert analysis.status_code == 200, analysis.text
        [context] = analysis.json()["analyses"]
        assert context["momentum"]["return_1m"] == pytest.approx(adjusted_return_1m(symbol, SERVED_ON), rel=1e-9)


def test_the_predict_command_path_predicts_from_the_records(settings, pipeline, symbol, outside):
    """What `smart-money predict` runs: a prediction service over a feature provider for the
    settings, asked one-shot (`answer_line`) or over JSON lines (`serve_lines`)."""
    provider = FeatureProvider(settings)
    service = PredictionService(ChampionModel(Registry(settings.models_dir)), provider)
    try:
        one_shot = answer_line(service, json.dumps({"symbol": symbol, "date": SERVED_ON}))
        assert "error" not in one_shot, one_shot
        assert one_shot["feature_source"] == "public_records" and one_shot["as_of"] == SERVED_ON
        assert_features_from(pipeline, one_shot)

        requests = [
            {"symbol": symbol.lower(), "date": SERVED_ON},
            {"symbol": outside[-1], "date": SERVED_ON},
            {"symbol": symbol, "date": SERVED_ON, "features": [0.0] * len(PLAN_FEATURES)},
        ]
        lines = [json.dumps(r) + "\n" for r in requests]
        again, unknown, given = [json.loads(line) for line in serve_lines(service, [*lines[:2], "\n", lines[2]])]
        assert again["symbol"] == symbol and again["cached"] is True
        assert again["probability"] == one_shot["probability"]
        assert unknown == {
            "error": f"unknown symbol {outside[-1]}: not in the configured public_records universe on {SERVED_ON}",
            "status": 404,
        }
        assert given["feature_source"] == "request" and given["as_of"] == SERVED_ON
    finally:
        provider.close()
