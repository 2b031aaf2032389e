"""The synthetic catalogue through the engine: every family's intended profile wins, noise and
stale-quote chop abstain, 0DTE hedges are recognized, directions follow the structure."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

from smart_money.options.engine.batch import score_frames
from smart_money.options.engine.contracts import PROFILES
from smart_money.options.engine.frames import NormalizedTape
from smart_money.options.evaluation import label_events
from smart_money.options.market.synthetic import EXPECT_ABSTAIN, PROFILE_FAMILIES, catalogue

OPTIONS_PACKAGE = Path(__file__).resolve().parents[2] / "smart_money" / "options"
ENGINE_MODULES = sorted([*(OPTIONS_PACKAGE / "engine").glob("*.py"), OPTIONS_PACKAGE / "store.py"])


@pytest.fixture(scope="module")
def scored() -> pd.DataFrame:
    tape, labels = catalogue(per_variant=3)
    n = NormalizedTape.of(tape)
    events = score_frames(n.prints, n.quotes, n.underlying, n.calendar).with_membership()
    return label_events(events, labels)


@pytest.mark.parametrize("family", PROFILE_FAMILIES)
def test_the_intended_profile_wins_every_event_of_its_family(scored, family):
    events = scored[(scored["family"] == family) & ~scored["ambiguous"].astype(bool)]
    assert len(events) >= 3
    for _, event in events.iterrows():
        assert event["primary_profile_id"] == family, (event["variant"], event["event_id"])
        wrong = [p for p in PROFILES if p != family and event[f"{p}__probability"] > 0.5]
        assert not wrong, (event["variant"], wrong)
        assert event[f"{family}__probability"] > 0.5


@pytest.mark.parametrize("family", [f for f in EXPECT_ABSTAIN if f != "ambiguous"])
def test_noise_and_hard_negative_families_abstain(scored, family):
    events = scored[scored["family"] == family]
    assert len(events) >= 3 and events["abstained"].all()
    assert events["primary_profile_id"].isna().all()


def test_stale_quote_chop_abstains_because_of_stale_quotes(scored):
    from smart_money.options.engine.rules import SUPPRESSIONS
    from smart_money.options.engine.scoring import decode

    chop = scored[scored["family"] == "stale_quote_chop"]
    assert all("stale_quotes" in decode(int(m), SUPPRESSIONS) for m in chop["suppressed_mask"])


def test_zero_dte_hedges_are_recognized_at_the_close_and_on_dst_dates(scored):
    hedges = scored[scored["variant"].isin(["dealer_0dte", "close_0dte", "dst_0dte"])]
    assert (hedges["dte_calendar"] == 0).all() and (hedges["dte_days"] < 1).all()
    assert (hedges["primary_profile_id"] == "hedge_reactive").all()
    dst = hedges[hedges["variant"] == "dst_0dte"]
    assert set(pd.to_datetime(dst["first_ts_ns"], utc=True).dt.tz_convert("America/New_York").dt.date.astype(str)) <= {
        "2024-03-11",
        "2024-11-04",
    }


def test_put_writes_read_bullish_and_call_overwrites_bearish(scored):
    vol = scored[scored["family"] == "vol_seller"].set_index("variant")
    assert set(vol.loc[["put_write"], "primary_direction"]) == {"bullish"}
    assert set(vol.loc[["buy_write"], "primary_direction"]) == {"bearish"}
    assert set(vol.loc[["short_straddle"], "primary_direction"]) == {"neutral"}


def test_directional_families_read_the_intended_direction(scored):
    emitted = scored[
        ~scored["abstained"] & scored["family"].isin(["institutional_directional", "retail_whale", "hedge_reactive"])
    ]
    assert (emitted["primary_direction"] == emitted["intended_direction"]).mean() >= 0.95


def test_ambiguous_mixes_mostly_abstain(scored):
    ambiguous = scored[scored["family"] == "ambiguous"]
    assert ambiguous["abstained"].mean() >= 0.5


def test_labels_never_reach_the_engine():
    tape, labels = catalogue(per_variant=1)
    label_columns = {"family", "variant", "true_profile", "intended_direction", "forward_return_1d", "scenario_id"}
    for frame in (tape.prints, tape.quotes, tape.underlying, tape.calendar):
        assert not label_columns & set(frame.columns)
    assert label_columns <= set(labels.columns)
    assert len(ENGINE_MODULES) > 10
    for module in ENGINE_MODULES:
        tree = ast.parse(module.read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
        }
        assert not any(
            name and ("market" in name or "synthetic" in name or "evaluation" in name) for name in imported
        ), module.name


def test_without_a_calendar_event_features_are_null_and_other_profiles_still_score():
    tape, labels = catalogue(per_variant=2)
    n = NormalizedTape.of(tape)
    events = label_events(score_frames(n.prints, n.quotes, n.underlying, None).with_membership(), labels)
    assert events["days_to_event"].isna().all() and not events["calendar_available"].any()
    clear = events[~events["ambiguous"].astype(bool)]
    for family in ("institutional_directional", "retail_whale", "vol_seller", "arbitrage", "hedge_reactive"):
        rows = clear[clear["family"] == family]
        assert (rows["primary_profile_id"] == family).all(), family
    assert (clear.loc[clear["family"] == "event_driven", "primary_profile_id"] != "event_driven").all()
