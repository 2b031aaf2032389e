"""Property-based fuzzing of every operation in the OpenAPI spec (schemathesis, through the
ASGI app with its model, toggle and event store): whatever the input, no 5xx."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from smart_money.serve.app import create_app
from smart_money.serve.feature_provider import EARLIEST_DATE, FeatureProvider, latest_close
from smart_money_tests.support.serving import (
    ADMIN_TOKEN,
    SERVE_DAY,
    copy_models,
    event_rows,
    store_events,
)


@pytest.fixture(scope="module")
def app(served_settings, tmp_path_factory):
    home = copy_models(served_settings, tmp_path_factory.mktemp("fuzz") / "home")
    provider = FeatureProvider(home)
    provider.get(pd.Timestamp(SERVE_DAY))
    provider.get(latest_close())  # the date of requests that give none
    url = f"chdb://{home.data_dir / 'clickhouse'}"
    store_events(url, event_rows())
    application = create_app(home, admin_token=ADMIN_TOKEN, features=provider, event_store=url)
    yield application
    provider.close()


@pytest.fixture(scope="module")
def operations(app) -> dict:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return {f"{op.method.upper()} {op.path}": op for op in (result.ok() for result in schema.get_all_operations())}


def servable(value) -> bool:
    """A date the service would compute features for (a cold date costs seconds; the
    fuzzer's valid dates are all served as of the warm test date instead)."""
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return EARLIEST_DATE.date() <= day <= date.today()


def test_every_operation_of_the_spec_is_fuzzed(operations):
    assert set(operations) >= {
        "POST /api/ml/smart-money-flow", "POST /api/ml/smart-money-flow/batch", "GET /api/ml/models",
        "GET /api/admin/ml-features/smart-money-flow", "PUT /api/admin/ml-features/smart-money-flow",
        "POST /api/stock-analysis", "GET /flow/smart-money", "GET /history/smart-money", "GET /replay/smart-money",
        "GET /flow/classifier-hits", "GET /flow/alerts", "GET /flow/calibration",
    }  # fmt: skip


def test_no_input_gets_a_server_error(operations):
    failures = {}
    for name, operation in operations.items():

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case) -> None:
            if isinstance(case.body, dict) and servable(case.body.get("date")):
                case.body["date"] = SERVE_DAY
            case.call_and_validate(checks=[not_a_server_error])

        try:
            fuzz()
        except Exception as exc:  # collect all operations' failures, then report
            failures[name] = str(exc)[:2000]
    assert not failures, failures
