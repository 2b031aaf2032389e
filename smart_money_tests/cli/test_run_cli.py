"""What `smart-money run` ends with: the newest registered version, rendered from the registry:
each gate once, and for a rejected version why it is not served and the two ways forward."""

from __future__ import annotations

import json

import yaml

from smart_money.cli.common import console
from smart_money.cli.run import print_model_summary
from smart_money.reporting.model_summary import latest_model_summary, ways_forward
from smart_money_tests.support.registry import metadata_for, write_registry


def rendered(summary) -> str:
    with console.capture() as captured:
        print_model_summary(summary)
    return " ".join(captured.get().split())  # the console wraps at the terminal's width


def rejected_metadata() -> dict:
    meta = metadata_for("1.0.1", "rejected")
    meta["gates"] = {
        "beats_baselines": {
            "passed": False,
            "value": -0.0123,
            "threshold": 0.005,
            "setting": "min_auc_margin",
            "detail": "test AUC 0.5377 vs best baseline volatility_20d 0.5500",
        },
        "calibration": {
            "passed": False,
            "value": 0.0612,
            "threshold": 0.05,
            "setting": "max_ece_lower_bound",
            "detail": "test ECE 0.0700, 95 % lower bound over dates 0.0612 [bootstrap]",
        },
        "no_overfit": {"passed": True, "value": 0.01, "threshold": 0.02, "detail": "validation AUC 0.55, test 0.54"},
    }
    return meta


def test_a_rejected_version_names_each_failed_gate_once_and_the_ways_forward(tmp_path):
    registry = write_registry(tmp_path, {"1.0.0": "champion", "1.0.1": "rejected"}, {"1.0.1": rejected_metadata()})
    summary = latest_model_summary(registry)
    text = rendered(summary)
    expected = [
        "model v1.0.1: rejected",
        "gate beats_baselines FAIL test AUC 0.5377 vs best baseline volatility_20d 0.5500 (-0.0123, min 0.005)",
        "gate calibration FAIL test ECE 0.0700, 95 % lower bound over dates 0.0612 [bootstrap] (0.0612, max 0.05)",
        "gate no_overfit pass",
        "report: ",
        "rejected: `smart-money serve` predicts only with a champion",
        "more data: a larger universe or a longer window",
        "registered_model: {min_auc_margin: -0.013, max_ece_lower_bound: 0.062}",
    ]
    positions = [text.find(part) for part in expected]
    assert -1 not in positions and positions == sorted(positions), text
    assert text.count("0.5377") == 1 and text.count("lower bound over dates") == 1  # each gate once, not twice


def test_the_relaxed_gates_snippet_is_a_run_config_that_passes_this_version(tmp_path):
    registry = write_registry(tmp_path, {"1.0.1": "rejected"}, {"1.0.1": rejected_metadata()})
    summary = latest_model_summary(registry)
    snippet = ways_forward(summary)[1].split("--config FILE`: ", 1)[1]
    config = yaml.safe_load(snippet)["registered_model"]
    gates = {gate.setting: gate for gate in summary.gates if not gate.passed}
    assert set(config) == {"min_auc_margin", "max_ece_lower_bound"}
    assert gates["min_auc_margin"].value >= config["min_auc_margin"]
    assert gates["max_ece_lower_bound"].value <= config["max_ece_lower_bound"]


def test_a_champion_has_no_ways_forward_and_other_reasons_still_show(tmp_path):
    registry = write_registry(tmp_path, {"1.0.0": "champion"})
    assert ways_forward(latest_model_summary(registry)) == []
    registry = write_registry(tmp_path / "b", {"1.0.0": "champion", "1.0.1": "candidate"})
    index = registry.index()
    index["versions"][-1]["reasons"] = ["not better than champion v1.0.0 on the same test rows (0.6 <= 0.61)"]
    registry.index_path.write_text(json.dumps(index))
    text = rendered(latest_model_summary(registry))
    assert "not better than champion v1.0.0" in text and "Ways forward" not in text


def test_run_help_shows_every_form_of_symbols():
    from typer.testing import CliRunner

    from smart_money.cli import app

    result = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "comma-separated tickers, or @file (one ticker per line)" in text and "--quiet" in text


def test_recover_settles_what_a_killed_registration_left_and_says_so(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from smart_money.cli import app
    from smart_money.model.registry import Registry
    from smart_money_tests.support.cli import runner_env

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "restored"))  # the command sets it; restored after
    home = tmp_path / "home"
    registry = Registry(home / "models")
    stray = registry.root / ".tmp-v1.0.0-0123456789ab"  # a registration killed while copying
    stray.mkdir(parents=True)
    (stray / "model.txt").write_text("tree")

    result = CliRunner().invoke(app, ["recover"], env=runner_env(home))
    assert result.exit_code == 0, result.output
    assert "registry: removed 1 temporary file(s) of interrupted writes" in result.output
    assert not stray.exists()

    again = CliRunner().invoke(app, ["recover"], env=runner_env(home))
    assert again.exit_code == 0 and "nothing to recover in" in " ".join(again.output.split())

    unknown = CliRunner().invoke(app, ["recover", "--failed-run", "no-such-run"], env=runner_env(home))
    assert unknown.exit_code == 2 and "no run no-such-run in this instance" in unknown.output


def test_a_one_date_test_split_says_so_beside_the_metrics_without_failing_a_gate(tmp_path):
    from smart_money.evaluation.metrics import interval_note

    note = interval_note({"n_dates": 1}, "test")
    metadata = metadata_for("1.0.0", "champion") | {"interval_notes": [note]}
    summary = latest_model_summary(write_registry(tmp_path, {"1.0.0": "champion"}, {"1.0.0": metadata}))
    assert summary.interval_notes == (note,) and all(gate.passed for gate in summary.gates)
    text = rendered(summary)
    expected = ["model v1.0.0: champion", "intervals: the test split has 1 sample date", "report: "]
    positions = [text.find(part) for part in expected]
    assert -1 not in positions and positions == sorted(positions), text
    assert "SMART_MONEY_START/SMART_MONEY_END" in text


def test_intervals_over_two_or_more_dates_need_no_note():
    from smart_money.evaluation.metrics import interval_note

    assert interval_note({"n_dates": 2}, "test") is None and interval_note({"n_dates": 0}, "test")
