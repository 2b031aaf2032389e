"""The run's closing summary of the newest registered version, read from the registry."""

from __future__ import annotations

from smart_money.model.registry import Registry
from smart_money.reporting.model_summary import GateResult, latest_model_summary
from smart_money_tests.support.registry import metadata_for, write_registry


def test_nothing_registered_gives_no_summary(tmp_path):
    assert latest_model_summary(Registry(tmp_path)) is None


def test_the_newest_version_with_its_metrics_gates_and_reasons(tmp_path):
    registry = write_registry(tmp_path, {"1.0.0": "champion", "1.0.1": "rejected"})
    summary = latest_model_summary(registry)
    assert (summary.version, summary.status) == ("1.0.1", "rejected")
    assert summary.metrics == (
        "test ROC AUC 0.6100 (best baseline volatility_20d 0.5500), ECE 0.0120, Brier skill +0.0340"
    )
    assert summary.independent_universes is None
    assert summary.gates == (  # a version registered before gates recorded their setting: known by name
        GateResult("beats_baselines", True, "0.61 > 0.55 [bootstrap]", setting="min_auc_margin"),
        GateResult("calibration", False, "ECE 0.012 <= 0.05"),
    )
    assert summary.reasons == ()  # the failed gate's reason is its gate line, not a second copy
    assert summary.report == str(registry.folder("1.0.1") / "report.html")


def independent_universe(worlds: int, n: int) -> dict:
    return {
        "worlds": worlds,
        "n": n,
        "model_roc_auc": 0.6,
        "oracle_public_roc_auc": 0.63,
        "model_minus_public_auc": {"difference": -0.03, "ci_low": -0.05, "ci_high": -0.01},
        "ece": 0.02,
        "ece_vs_oracle_public": 0.01,
    }


def test_oracles_and_independent_universes_when_measured(tmp_path):
    metadata = metadata_for("1.0.0", "champion") | {
        "oracle": {"public_test_roc_auc": 0.64, "truth_test_roc_auc": 0.7},
        "independent_universe": independent_universe(2, 12345),
    }
    summary = latest_model_summary(write_registry(tmp_path, {"1.0.0": "champion"}, {"1.0.0": metadata}))
    assert "; oracle_public 0.6400, oracle_truth 0.7000)" in summary.metrics
    assert summary.independent_universes == (
        "independent universes (2 worlds, 12,345 rows): AUC 0.6000 vs oracle_public 0.6300 "
        "(-0.0300 [-0.0500, -0.0100]), ECE 0.0200, ECE vs oracle 0.0100"
    )


def test_one_independent_world_is_singular(tmp_path):
    metadata = metadata_for("1.0.0", "champion") | {"independent_universe": independent_universe(1, 10)}
    summary = latest_model_summary(write_registry(tmp_path, {"1.0.0": "champion"}, {"1.0.0": metadata}))
    assert summary.independent_universes.startswith("independent universes (1 world, 10 rows)")


def test_a_degenerate_independent_interval_is_marked(tmp_path):
    metadata = metadata_for("1.0.0", "champion") | {
        "independent_universe": independent_universe(1, 10)
        | {"model_minus_public_auc": {"difference": -0.03, "ci_low": -0.03, "ci_high": -0.03}},
        "interval_notes": ["the independent-universe split has 1 sample date: ..."],
    }
    summary = latest_model_summary(write_registry(tmp_path, {"1.0.0": "champion"}, {"1.0.0": metadata}))
    assert "(-0.0300 [-0.0300, -0.0300] (1 date: no interval))" in summary.independent_universes
