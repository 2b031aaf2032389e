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
