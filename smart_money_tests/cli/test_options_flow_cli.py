"""`options-score` and `options-eval` on small synthetic tapes and markets."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from smart_money.cli import app
from smart_money.options.engine.contracts import SmartMoneyEvent
from smart_money.options.market.synthetic import catalogue


@pytest.fixture
def files(tmp_path):
    tape, _ = catalogue(per_variant=1)
    tape.prints.to_csv(tmp_path / "prints.csv", index=False)
    tape.quotes.to_parquet(tmp_path / "quotes.parquet")
    tape.underlying.to_parquet(tmp_path / "underlying.parquet")
    tape.calendar.assign(
        announced_ts=tape.calendar["announced_ts"].astype(str), event_ts=tape.calendar["event_ts"].astype(str)
    ).to_json(tmp_path / "calendar.jsonl", orient="records", lines=True)
    return tmp_path, tape


def test_options_score_writes_typed_events_for_the_files(files, monkeypatch):
    folder, tape = files
    monkeypatch.setenv("SMART_MONEY_HOME", str(folder))
    out = folder / "events.jsonl"
    result = CliRunner().invoke(
        app,
        ["options-score", "--prints", str(folder / "prints.csv"), "--quotes", str(folder / "quotes.parquet"),
         "--underlying", str(folder / "underlying.parquet"), "--calendar", str(folder / "calendar.jsonl"),
         "--out", str(out), "--store"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    events = [SmartMoneyEvent.model_validate_json(line) for line in out.read_text().splitlines()]
    assert len(events) >= 20
    members = {pid for e in events for pid in e.member_print_ids}
    assert members <= set(tape.prints["print_id"])
    assert any(e.primary_profile_id == "arbitrage" for e in events) and any(e.abstained for e in events)
    assert "stored" in result.output and (folder / "data" / "clickhouse").exists()


def test_options_eval_writes_the_metrics_file(tmp_path):
    out = tmp_path / "metrics.json"
    result = CliRunner().invoke(app, ["options-eval", "--scenarios", "60", "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    payload = json.loads(out.read_text())
    assert {
        "per_profile",
        "calibration",
        "abstention_rate",
        "abstention_rate_noise",
        "risk_coverage",
        "direction",
        "live_vs_replay",
        "throughput",
        "gates",
    } <= set(payload)
    assert payload["seed"] == 3 and payload["events"] >= 55
    assert all("ece" in v and "brier" in v for v in payload["calibration"].values())
