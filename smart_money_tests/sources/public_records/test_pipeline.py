"""SMART_MONEY_SOURCE=public_records end to end: a self-written records folder (with four
malformed files, set aside by name while the run completes) through every asset of the monthly
job to a registry entry, then `smart-money evaluate` scoring that registered
model on its own test window (it must reproduce the registry's test metrics) and on symbols it
never saw."""

from __future__ import annotations

import json

import dagster as dg
import pytest
from typer.testing import CliRunner

from smart_money.cli import app
from smart_money.definitions import CODE_LOCATION
from smart_money.evaluation.metrics import HEADLINE_KEYS
from smart_money.orchestration.resources import data_source_resource
from smart_money.orchestration.runner import run_monthly_graph
from smart_money.settings import Settings, SettingsError
from smart_money.sources.public_records.source import RecordsFolderError
from smart_money_tests.support.public_records import (
    BAD_BYTE_PRICES,
    BROKEN_SENATE,
    RAGGED_SCREEN,
    TRUNCATED_PRICES,
    add_activity,
    write_malformed,
    write_records,
)
from smart_money_tests.support.settings import FAST_EVALUATION

TRAINED_ON = 24  # the first 24 stocks of the universe; the other 8 stay unseen


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    home = tmp_path_factory.mktemp("public_records_home")
    records = write_malformed(add_activity(write_records(home / "records")))
    env = {
        "SMART_MONEY_SOURCE": "public_records",
        "SMART_MONEY_PUBLIC_RECORDS_DIR": str(records),
        "SMART_MONEY_START": "2020-01",
        "SMART_MONEY_END": "2021-06",
        "SMART_MONEY_SYMBOLS": str(TRAINED_ON),
        "SMART_MONEY_HOME": str(home),
    }
    settings = Settings.from_env(env)
    quarterly_study = {
        **FAST_EVALUATION,
        "dataset_splits": {"walk_forward_through_test": True},
    }  # what make realdata sets
    summary = run_monthly_graph(
        CODE_LOCATION, settings, instance=dg.DagsterInstance.ephemeral(), op_config=quarterly_study
    )
    return env, settings, summary


def test_settings_and_resource(tmp_path):
    settings = Settings.from_env(
        {"SMART_MONEY_SOURCE": "public_records", "SMART_MONEY_PUBLIC_RECORDS_DIR": str(tmp_path)}
    )
    resource = data_source_resource(settings)  # the folder is read when a run opens the source
    assert resource.environment["SMART_MONEY_PUBLIC_RECORDS_DIR"] == str(tmp_path.resolve())
    with pytest.raises(RecordsFolderError, match="no price files"):
        resource.get()
    # the plan's universe rules cannot be judged on public files: off unless set
    assert settings.min_inst_ownership_pct is None and settings.require_insider_activity is False
    ruled = Settings.from_env({"SMART_MONEY_SOURCE": "public_records", "SMART_MONEY_MIN_INST_OWNERSHIP": "5"})
    assert ruled.min_inst_ownership_pct == 5.0
    with pytest.raises(SettingsError, match="SMART_MONEY_PUBLIC_RECORDS_DIR"):
        data_source_resource(Settings.from_env({"SMART_MONEY_SOURCE": "public_records"}))
    with pytest.raises(SettingsError, match="no such folder"):
        data_source_resource(
            Settings.from_env(
                {"SMART_MONEY_SOURCE": "public_records", "SMART_MONEY_PUBLIC_RECORDS_DIR": str(tmp_path / "nope")}
            )
        )


def test_records_run_through_every_asset_to_the_registry(real_run):
    _, settings, summary = real_run
    assert summary.success, summary.error
    by_asset = {a.asset: a for a in summary.assets}
    assert by_asset["universe"].rows == TRAINED_ON + 1  # and SPY
    for table in ("insider_trades", "congress_trades", "prices"):
        assert by_asset[f"raw_{table}"].rows > 0, table
    assert by_asset["raw_congress_trades"].metadata["source"] == "public_records"

    # the malformed files: set aside by name (the run above completed without them)
    def set_aside(asset: str) -> set[str]:
        metadata = by_asset[asset].metadata
        assert metadata["files_quarantined"] == len(metadata["quarantined_files"])
        return {f["file"] for f in metadata["quarantined_files"]}

    assert set_aside("universe") == {BAD_BYTE_PRICES, TRUNCATED_PRICES}
    assert set_aside("raw_congress_trades") == {BROKEN_SENATE}
    assert set_aside("raw_insider_trades") == {RAGGED_SCREEN}
    assert set_aside("raw_institutional_holdings") == set()
    index = json.loads((settings.models_dir / "smart-money-flow" / "registry.json").read_text())
    entry = index["versions"][-1]
    assert entry["status"] in {"champion", "rejected"}
    if entry["status"] == "rejected":  # an honest outcome on noise: registered, with its reasons
        assert entry["reasons"]
    metadata = json.loads(
        (settings.models_dir / "smart-money-flow" / f"v{entry['version']}" / "metadata.json").read_text()
    )
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
    invoke(
        env,
        "evaluate",
        "--model",
        metadata["version"],
        "--start",
        test_first[:7],
        "--end",
        test_last[:7],
        "--out",
        str(out),
        "--bootstrap",
        "20",
    )
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
    invoke(
        env,
        "evaluate",
        "--model",
        "champion"
        if json.loads((settings.models_dir / "smart-money-flow" / "registry.json").read_text())["champion"]
        else "1.0.0",
        "--symbols",
        f"@{held_out}",
        "--start",
        "2020-07",
        "--end",
        "2021-06",
        "--out",
        str(out),
        "--bootstrap",
        "0",
    )
    scored = json.loads(out.read_text())
    assert scored["n_symbols"] <= 8 and scored["n_samples"] > 50
    assert 0.0 <= scored["roc_auc"] <= 1.0 and scored["source"] == "public_records"


def test_evaluate_says_what_is_wrong(real_run, tmp_path):
    env, _, _ = real_run
    result = CliRunner().invoke(
        app,
        ["evaluate", "--model", "9.9.9", "--start", "2020-07", "--end", "2020-09", "--out", str(tmp_path / "x.json")],
        env=env,
    )
    assert result.exit_code == 1 and "no version 9.9.9" in result.output
    unknown = CliRunner().invoke(
        app,
        [
            "evaluate",
            "--model",
            "latest",
            "--symbols",
            "ZZZZ",
            "--start",
            "2020-07",
            "--end",
            "2020-09",
            "--out",
            str(tmp_path / "x.json"),
        ],
        env=env,
    )
    assert unknown.exit_code == 2 and "symbols not in the public_records universe: ZZZZ" in unknown.stderr
    assert "Traceback" not in unknown.output


def test_export_sets_the_held_out_result_beside_the_model_and_its_quarterly_folds(real_run, tmp_path):
    env, settings, _ = real_run
    version = json.loads((settings.models_dir / "smart-money-flow" / "registry.json").read_text())["versions"][-1][
        "version"
    ]
    evaluation = json.loads((settings.models_dir / "smart-money-flow" / f"v{version}" / "evaluation.json").read_text())
    folds = evaluation["walk_forward_folds"]
    assert [f["test_first"][:7] for f in folds] == [
        "2021-01",
        "2021-04",
    ]  # one fold per quarter, the test split's included
    assert folds[-1]["test_last"] >= evaluation["split_dates"]["test"][0]
    held_out_symbols, scored = tmp_path / "held_out.txt", tmp_path / "held_out.json"
    invoke(env, "universe", "--skip", str(TRAINED_ON), "--out", str(held_out_symbols))
    invoke(
        env,
        "evaluate",
        "--model",
        version,
        "--symbols",
        f"@{held_out_symbols}",
        "--start",
        "2021-01",
        "--end",
        "2021-06",
        "--out",
        str(scored),
        "--bootstrap",
        "20",
    )
    out = tmp_path / "docs"
    invoke(env, "models", "export", version, "--out", str(out), "--held-out", str(scored))
    summary = (out / "summary.md").read_text()
    held = json.loads(scored.read_text())
    assert "one fold per quarter, through the test split" in summary
    section = summary.split("## Held-out symbols")[1]
    assert (
        f"registered model on {held['n_symbols']:,} held-out symbols | {held['n_samples']:,} | {held['roc_auc']:.3f}"
        in section
    )
    assert (
        "registered model on its own test split" in section
        and "walk-forward folds 2021-01 .. 2021-06 (mean of 2)" in section
    )
    for plot in ("walk_forward_auc.png", "walk_forward_families.png", "test_roc.png", "test_reliability.png"):
        assert (out / plot).stat().st_size > 1000, plot
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**held, "model_version": "9.9.9"}))
    result = CliRunner().invoke(
        app, ["models", "export", version, "--out", str(out), "--held-out", str(other)], env=env
    )
    assert result.exit_code == 1 and "scores v9.9.9" in result.output


def test_records_coverage_writes_the_tables_and_the_universe_origin(real_run, tmp_path):
    env, _, _ = real_run
    out = tmp_path / "coverage.md"
    invoke(env, "records-coverage", "--start", "2020-01", "--end", "2021-06", "--out", str(out))
    text = out.read_text()
    assert "## Records per table and year of their public date" in text and "| congress_trades | 2020 |" in text
    assert f"a run takes the first {TRAINED_ON})" in text and "| prices/old | 2 |" in text
