"""What `smart-money run` ends with: the newest registered version, rendered from the registry."""

from __future__ import annotations

from smart_money.cli.common import console
from smart_money.cli.run import print_model_summary
from smart_money.reporting.model_summary import latest_model_summary
from smart_money_tests.support.registry import write_registry


def test_the_run_ends_with_the_newest_version_its_gates_and_reasons(tmp_path):
    summary = latest_model_summary(write_registry(tmp_path, {"1.0.0": "champion", "1.0.1": "rejected"}))
    with console.capture() as captured:
        print_model_summary(summary)
    text = " ".join(captured.get().split())  # the console wraps at the terminal's width
    expected = [
        "model v1.0.1: rejected",
        "test ROC AUC 0.6100 (best baseline volatility_20d 0.5500), ECE 0.0120, Brier skill +0.0340",
        "gate beats_baselines pass 0.61 > 0.55 [bootstrap]",
        "gate calibration FAIL ECE 0.012 <= 0.05",
        "gate calibration: ECE too high [0.2]",  # square brackets kept, not read as markup
        "report: ",
    ]
    positions = [text.find(part) for part in expected]
    assert -1 not in positions and positions == sorted(positions), text


def test_recover_settles_what_a_killed_registration_left_and_says_so(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from smart_money.cli import app
    from smart_money.model.registry import Registry
    from smart_money_tests.cli.test_errors import runner_env

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
