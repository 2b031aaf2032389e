"""The study's own correctness test: on the simulated market it must recover the abnormal returns
the simulator injects behind each family (computed from its latent state, sources/simulated/
truth.py), see a planted effect, find nothing when informed actors reveal nothing (strength 0),
and give a placebo consistent with zero."""

from __future__ import annotations

import pandas as pd
import pytest

from smart_money.research.study import StudyConfig, study_from_source
from smart_money.sources.simulated import SimulatedSource, SimulationParams
from smart_money_tests.support.settings import SMALL_HORIZON

SYMBOLS = 200
FIRST, LAST = pd.Timestamp("2022-01-01"), pd.Timestamp("2023-12-01")
HORIZON = 21
MIN_EVENTS = 30


def run(strength: float):
    source = SimulatedSource(SYMBOLS, seed=3, params=SimulationParams(strength=strength), horizon=SMALL_HORIZON)
    study, _, _ = study_from_source(source, SYMBOLS, FIRST, LAST, config=StudyConfig(bootstrap=300))
    rows = pd.DataFrame(study.event_study)
    returns = study.returns[(study.returns["status"] == "ok") & (study.returns["family"] != "placebo")]
    injected = source.injected_abnormal_returns(returns, [HORIZON])[f"injected_{HORIZON}"]
    measured = returns[f"car_equal_weight_{HORIZON}"]
    truth = injected[measured.notna()].groupby(returns["family"]).mean() * 1e4
    post = rows[(rows["window"] == "post_entry") & (rows["horizon_sessions"] == HORIZON)]
    table = post[(post["benchmark"] == "equal_weight") & (post["family"] != "placebo")].set_index("family")
    return table.join(truth.rename("injected_bp")), rows


@pytest.fixture(scope="module")
def strong():
    return run(8.0)


@pytest.fixture(scope="module")
def null():
    return run(0.0)


@pytest.mark.slow
def test_the_study_recovers_every_injected_effect_within_its_interval(strong):
    table, _ = strong
    sized = table[table["n_events"] >= MIN_EVENTS]
    assert len(sized) >= 10
    outside = sized[(sized["injected_bp"] < sized["ci_low_bp"]) | (sized["injected_bp"] > sized["ci_high_bp"])]
    assert outside.empty, outside[["n_events", "injected_bp", "mean_car_bp", "ci_low_bp", "ci_high_bp"]]


@pytest.mark.slow
def test_a_planted_effect_shows(strong):
    table, _ = strong
    purchases = table.loc["insider_purchase"]
    assert purchases["injected_bp"] > 100 and purchases["ci_low_bp"] > 0 and purchases["t_date"] > 2.5


@pytest.mark.slow
def test_with_strength_zero_the_study_finds_nothing(null):
    table, _ = null
    sized = table[table["n_events"] >= MIN_EVENTS]
    assert (sized["injected_bp"].abs() < 25).all()  # the simulator injects nothing behind the trades
    assert ((sized["ci_low_bp"] < 0) & (sized["ci_high_bp"] > 0)).all(), sized
    assert (sized["t_date"].abs() < 2).all()


@pytest.mark.slow
def test_the_placebo_mean_is_within_its_interval(strong, null):
    for _, rows in (strong, null):
        placebo = rows[(rows["family"] == "placebo") & rows["benchmark"].isin(["equal_weight", "matched"])]
        assert len(placebo) == 12
        assert ((placebo["ci_low_bp"] < 0) & (placebo["ci_high_bp"] > 0)).all(), placebo
