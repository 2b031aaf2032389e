"""SMART_MONEY_SOURCE=public_records end to end: a self-written records folder through every asset
of the monthly job to a registry entry, then `smart-money evaluate` scoring that registered
model on its own test window (it must reproduce the registry's test metrics) and on symbols it
never saw."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
from typer.testing import CliRunner

from smart_money.cli import app
from smart_money.core.metrics import HEADLINE_KEYS
from smart_money.core.settings import Settings, SettingsError
from smart_money.resources import PublicRecordsSourceResource, source_resource
from smart_money.runner import run_monthly_graph
from smart_money_tests.conftest import FAST_EVALUATION
from smart_money_tests.public_records_fixture import add_activity, write_records

TRAINED_ON = 24  # the first 24 stocks of the universe; the other 8 stay unseen


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    home = tmp_path_factory.mktemp("public_records_home")
    records = add_activity(write_records(home / "records"))
    env = {"SMART_MONEY_SOURCE": "public_records", "SMART_MONEY_PUBLIC_RECORDS_DIR": str(records), "SMART_MONEY_START": "2020-01",
           "SMART_MONEY_END": "2021-06", "SMART_MONEY_SYMBOLS": str(TRAINED_ON), "SMART_MONEY_HOME": str(home)}  # fmt: skip
    settings = Settings.from_env(env)
    summary = run_monthly_graph(settings, instance=dg.DagsterInstance.ephemeral(), op_config=FAST_EVALUATION)
    return env, settings, summary


def test_settings_and_resource(tmp_path):
    settings = Settings.from_env({"SMART_MONEY_SOURCE": "public_records", "SMART_MONEY_PUBLIC_RECORDS_DIR": str(tmp_path)})
    assert isinstance(source_resource(settings), PublicRecordsSourceResource)
    # the plan's universe rules cannot be judged on public files: off unless set
    assert settings.min_inst_ownership_pct is None and settings.require_insider_activity is False
    ruled = Settings.from_env({"SMART_MONEY_SOURCE": "public_records", "SMART_MONEY_MIN_INST_OWNERSHIP": "5"})
    assert ruled.min_inst_ownership_pct == 5.0
    with pytest.raises(SettingsError, match="SMART_MONEY_PUBLIC_RECORDS_DIR"):
        source_resource(Settings.from_env({"SMART_MONEY_SOURCE": "public_records"}))
    with pytest.raises(SettingsError, match="no such folder"):
        source_resource(Settings.from_env({"SMART_MONEY_SOURCE": "public_records", "SMART_MONEY_PUBLIC_RECORDS_DIR": str(tmp_path / "nope")}))


def test_records_run_through_every_asset_to_the_registry(real_run):
    _, settings, summary = real_run
    assert summary.success, summary.error
    by_asset = {a.asset: a for a in summary.assets}
    assert by_asset["universe"].rows == TRAINED_ON + 1  # and SPY
    for table in ("insider_trades", "congress_trades", "prices"):
        assert by_asset[f"raw_{table}"].rows > 0, table
    assert by_asset["raw_congress_trades"].metadata["source"] == "public_records"
    index = json.loads((settings.models_dir / "smart-money-flow" / "registry.json").read_text())
    entry = index["versions"][-1]
    assert entry["status"] in {"champion", "rejected"}
    if entry["status"] == "rejected":  # an honest outcome on noise: registered, with its reasons
        assert entry["reasons"]
    metadata = json.loads((settings.models_dir / "smart-money-flow" / f"v{entry['version']}" / "metadata.json").read_text())
    assert metadata["data"]["source"] == "public_records"
    assert "oracle" not in metadata and "independent_universe" not in metadata


def invoke(env: dict, *args: str):
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_evaluate_reproduces_the_registered_test_metrics(real_run, tmp_path):
    env, settings, _ = real_run
    metadata_path = sorted((settings.models_dir / "smart-money-flow").glob("v*/metadata.json"))[-1]
    metadata = json.loads(metadata_path.read_text())
    test_first, test_last = json.loads((metadata_path.parent / "evaluation.json").read_text())["split_dates"]["test"]
    out = tmp_path / "same.json"
    invoke(env, "evaluate", "--model", metadata["version"], "--start", test_first[:7], "--end", test_last[:7], "--out", str(out), "--bootstrap", "20")
    scored = json.loads(out.read_text())
    assert set(HEADLINE_KEYS) | {"n_samples", "n_symbols", "base_rate", "baselines"} <= set(scored)
    assert scored["n_samples"] == metadata["data"]["n_test"]
    for key in ("roc_auc", "brier", "brier_skill", "ece", "top_decile_precision", "base_rate", "per_date_auc"):
        assert scored[key] == pytest.approx(metadata["metrics"]["test"][key], abs=1e-9), key
    assert {"base_rate", "volatility_prior", "volatility_20d", "return_1m"} <= set(scored["baselines"])


def test_evaluate_on_symbols_the_model_never_saw(real_run, tmp_path):
    env, settings, _ = real_run
    held_out = tmp_path / "held_out.txt"
    invoke(env, "universe", "--skip", str(TRAINED_ON), "--out", str(held_out))
    unseen = held_out.read_text().split()
    assert len(unseen) == 8
    out = tmp_path / "unseen.json"
    invoke(env, "evaluate", "--model", "champion" if json.loads((settings.models_dir / "smart-money-flow" / "registry.json").read_text())["champion"] else "1.0.0",
           "--symbols", f"@{held_out}", "--start", "2020-07", "--end", "2021-06", "--out", str(out), "--bootstrap", "0")  # fmt: skip
    scored = json.loads(out.read_text())
    assert scored["n_symbols"] <= 8 and scored["n_samples"] > 50
    assert 0.0 <= scored["roc_auc"] <= 1.0 and scored["source"] == "public_records"


def test_evaluate_says_what_is_wrong(real_run, tmp_path):
    env, _, _ = real_run
    result = CliRunner().invoke(app, ["evaluate", "--model", "9.9.9", "--start", "2020-07", "--end", "2020-09", "--out", str(tmp_path / "x.json")], env=env)
    assert result.exit_code == 1 and "no version 9.9.9" in result.output
