"""`smart-money signals study` through the real CLI app."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from smart_money.cli import app

ROW_KEYS = {
    "family", "benchmark", "horizon_sessions", "n_events", "mean_car_bp", "median_car_bp", "frac_positive",
    "t_date", "t_two_way", "ci_low_bp", "ci_high_bp",
}  # fmt: skip
CT_KEYS = {"family", "holding_sessions", "benchmark", "months", "alpha_pct_month", "t_newey_west"}


def test_study_writes_the_machine_readable_results(tmp_path, monkeypatch):
    monkeypatch.setenv("SMART_MONEY_HOME", str(tmp_path / "home"))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["signals", "study", "--out", str(out), "--source", "simulated", "--symbols", "40", "--start", "2023-01",
         "--end", "2023-08", "--bootstrap", "50", "--plant", "insider_sale:500"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads((out / "event_study.json").read_text())
    assert rows and all(ROW_KEYS <= set(r) for r in rows)
    assert {r["benchmark"] for r in rows} == {"equal_weight", "matched", "market_index"}
    assert "placebo" in {r["family"] for r in rows}
    calendar = json.loads((out / "calendar_time.json").read_text())
    assert calendar and all(CT_KEYS <= set(r) for r in calendar)
    assert any(r["family"] == "insider_purchase_minus_sale" for r in calendar)
    assert (out / "signal_study.html").exists() and (out / "events.parquet").exists()
    planted = json.loads((out / "planted.json").read_text())
    assert planted[0]["family"] == "insider_sale" and planted[0]["events"] > 10
    assert 300 < planted[0]["recovered_equal_weight_bp"] < 520  # 500 bp less the benchmark's own share


def test_study_rejects_a_bad_option_with_a_clear_message(tmp_path):
    result = CliRunner().invoke(app, ["signals", "study", "--out", str(tmp_path), "--start", "2023-13"])
    assert result.exit_code == 2
    assert "--start" in result.output
