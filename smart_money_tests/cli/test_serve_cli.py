"""`smart-money predict`: one-shot, and the persistent JSON-lines mode other languages use."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from smart_money_tests.support.serving import SERVE_DAY, copy_models


@pytest.fixture
def env(served_settings, tmp_path):
    settings = copy_models(served_settings, tmp_path / "home")
    return {
        **os.environ,
        "SMART_MONEY_HOME": str(settings.home),
        "SMART_MONEY_SOURCE": "simulated",
        "SMART_MONEY_START": f"{settings.start:%Y-%m}",
        "SMART_MONEY_END": f"{settings.end:%Y-%m}",
        "SMART_MONEY_SYMBOLS": str(settings.symbols),
        "SMART_MONEY_SEED": str(settings.seed),
    }


@pytest.fixture(scope="module")
def symbol(served_settings) -> str:
    """A symbol the served universe has on the test date."""
    import pandas as pd

    from smart_money.serve.feature_provider import compute_day

    return compute_day(served_settings, pd.Timestamp(SERVE_DAY)).frame.query("prices_missing == 0").index[0]


def test_json_lines_mode_answers_each_line_in_order_with_one_loaded_model(env, symbol):
    requests = [
        {"symbol": symbol, "date": SERVE_DAY},
        {"symbol": "WAY-TOO-LONG-TICKER", "date": SERVE_DAY},
        "not json at all",
        {"symbol": "ZZZZZ", "date": SERVE_DAY},
        {"symbol": symbol.lower(), "date": SERVE_DAY, "features": [0.0] * 27},
        {"symbol": symbol, "date": SERVE_DAY},
    ]
    stdin = "\n".join(r if isinstance(r, str) else json.dumps(r) for r in requests) + "\n\n"
    proc = subprocess.run(
        [sys.executable, "-m", "smart_money.cli", "predict", "--jsonl"],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(answers) == 6  # the blank line is skipped
    first, too_long, garbage, unknown, given, again = answers
    assert (
        first["symbol"] == symbol
        and first["predicted_conviction"] in ("BULLISH", "BEARISH")
        and first["cached"] is False
    )
    assert too_long["status"] == 400 and "symbol" in too_long["error"]
    assert garbage["status"] == 400
    assert unknown["status"] == 404
    assert given["feature_source"] == "request"
    assert again["cached"] is True and again["probability"] == first["probability"]  # same process, same model


def test_one_shot_prediction_prints_the_answer(env, symbol):
    proc = subprocess.run(
        [sys.executable, "-m", "smart_money.cli", "predict", symbol, "--date", SERVE_DAY],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    answer = json.loads(proc.stdout)
    assert answer["symbol"] == symbol and answer["as_of"] == SERVE_DAY and answer["model"]["version"] == "1.0.0"
    unknown = subprocess.run(
        [sys.executable, "-m", "smart_money.cli", "predict", "ZZZZZ", "--date", SERVE_DAY],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert unknown.returncode == 1 and json.loads(unknown.stdout)["status"] == 404
