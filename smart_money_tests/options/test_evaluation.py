"""Evaluation metrics on small synthetic markets (the CLI commands: cli/test_options_flow_cli.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smart_money.options.engine.calibration import load_calibration
from smart_money.options.engine.rules import load_rules
from smart_money.options.evaluation import equal_count_calibration, evaluate_synthetic, metrics


def test_ece_uses_equal_count_bins():
    prob = np.array([0.1] * 100 + [0.9] * 100)
    outcome = np.array([0] * 90 + [1] * 10 + [1] * 90 + [0] * 10, dtype=float)
    table = equal_count_calibration(prob, outcome)
    assert [b["n"] for b in table["bins"]] == [100, 100]
    assert table["ece"] == pytest.approx(0.0)
    shifted = equal_count_calibration(np.clip(prob + 0.05, 0, 1), outcome)
    assert shifted["ece"] == pytest.approx(0.05)


def _labelled(primary, truth, family="x"):
    rows = []
    for p, t in zip(primary, truth):
        row = {
            "primary_profile_id": p,
            "true_profile": t,
            "ambiguous": False,
            "family": family,
            "scenario_id": f"s{len(rows)}",
            "contaminated": False,
            "primary_probability": np.nan if p is None else 0.9,
            "primary_direction": "unknown",
            "intended_direction": "unknown",
            "forward_return_1d": 0.0,
        }
        for q in (
            "institutional_directional",
            "retail_whale",
            "event_driven",
            "vol_seller",
            "arbitrage",
            "hedge_reactive",
        ):
            row[f"{q}__probability"] = 0.9 if q == p else 0.05
        rows.append(row)
    return pd.DataFrame(rows)


def test_abstentions_are_not_wrong_predictions_but_do_cost_recall():
    frame = _labelled(["arbitrage", None, None, "arbitrage"], ["arbitrage", "arbitrage", "arbitrage", "arbitrage"])
    result = metrics(frame)["per_profile"]["arbitrage"]
    assert result["precision"] == 1.0 and result["recall"] == 0.5


@pytest.fixture(scope="module")
def evaluation() -> dict:
    rules = load_rules()
    return evaluate_synthetic(120, 5, rules, load_calibration(rules))


def test_a_small_evaluation_reports_everything_with_exact_live_replay_agreement(evaluation):
    assert evaluation["events"] >= 110 and evaluation["contaminated_events"] == 0
    assert evaluation["live_vs_replay"]["id_agreement"] == 1.0
    assert evaluation["live_vs_replay"]["signature_agreement"] == 1.0
    assert evaluation["calibration_version"] != "uncalibrated"
    for profile, values in evaluation["per_profile"].items():
        assert values["support"] > 0, profile
        assert values["precision"] >= 0.9 and values["recall"] >= 0.8, (profile, values)
    assert evaluation["abstention_rate_noise"] >= 0.9
    assert set(evaluation["risk_coverage"]) >= {"curve", "aurc", "precision_at_5pct_coverage"}
    assert evaluation["throughput"]["prints_per_second"] > 0
    assert not evaluation["gates"]["events_ge_2000"]  # 120 scenarios cannot pass the size gate


def test_calibration_is_fitted_per_profile_stored_as_json_and_needs_300_positives(tmp_path):
    from smart_money.options.engine.calibration import write_calibration
    from smart_money.options.engine.calibration_fit import fit_calibration
    from smart_money.options.engine.contracts import PROFILES

    rng = np.random.default_rng(0)
    n = 3000
    truth = pd.Series(np.where(rng.random(n) < 0.2, "arbitrage", np.where(rng.random(n) < 0.05, "vol_seller", None)))
    scored = pd.DataFrame({f"{p}__raw": rng.random(n) * 0.3 for p in PROFILES})
    is_arb = (truth == "arbitrage").to_numpy()
    scored.loc[is_arb, "arbitrage__raw"] = 0.5 + 0.5 * rng.random(is_arb.sum())
    rules = load_rules()
    payload = fit_calibration(scored, truth, rules, {"seed": 0, "source": "test"})
    path = write_calibration(payload, rules, tmp_path / "calibration.json")
    calibration = load_calibration(rules, path)
    assert path.read_text().lstrip().startswith("{")  # JSON, never a pickle
    assert set(calibration.points) == {"arbitrage"}  # vol_seller has < 300 positives: left uncalibrated
    raw = np.linspace(0, 1, 11)
    mapped = calibration.apply("arbitrage", raw)
    assert np.all(np.diff(mapped) >= 0) and mapped[0] == pytest.approx(0.0) and mapped[-1] == pytest.approx(1.0)
    assert np.array_equal(calibration.apply("vol_seller", raw), raw)
    # the top step (1.0: the arbitrage scores are separable here) keeps the events it rests on
    top = calibration.tops["arbitrage"]
    assert (top.probability, top.events, top.positives) == (1.0, int(is_arb.sum()), int(is_arb.sum()))
    assert calibration.source == "test" and not calibration.synthetic


def test_a_saturated_top_step_claims_only_its_95_percent_lower_bound():
    from smart_money.options.engine.calibration import TopStep

    few, many = TopStep(1.0, 38, 38), TopStep(1.0, 937, 937)
    assert few.lower == pytest.approx(0.025 ** (1 / 38))  # exact bound with no miss in n events
    assert (few.label(), many.label()) == ("> 90.7 %", "> 99.6 %")
    assert TopStep(0.95, 100, 95).lower < 0.95


def test_the_shipped_calibration_records_its_synthetic_top_steps():
    calibration = load_calibration(load_rules())
    assert calibration.synthetic and calibration.events
    assert set(calibration.tops) == set(calibration.points)
    for profile, top in calibration.tops.items():
        assert top.probability == max(calibration.points[profile][1])
        assert 0 < top.positives <= top.events and top.lower < top.probability
