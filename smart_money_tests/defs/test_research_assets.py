"""The research group inside the monthly run: events per month by public time, the study stored
as JSON with its report (the shared whole-graph run)."""

from __future__ import annotations

import json

import pandas as pd

from smart_money.research.families import FAMILY_NAMES
from smart_money_tests.defs.test_pipeline import MONTHS


def test_disclosure_events_are_stored_per_month_of_their_public_time(pipeline_run):
    settings, summary = pipeline_run
    assert summary.success, summary.error
    folder = settings.data_dir / "assets" / "disclosure_events"
    assert sorted(p.name for p in folder.iterdir()) == [f"{m}.parquet" for m in MONTHS]
    for month in MONTHS:
        frame = pd.read_parquet(folder / f"{month}.parquet")
        start = pd.Timestamp(month)
        assert frame["known_at"].between(start, start + pd.DateOffset(months=1), inclusive="left").all()
        assert set(frame["family"]) <= set(FAMILY_NAMES)
    checked = {(a, c) for a, c, _, _ in summary.checks}
    assert {("disclosure_events", "schema"), ("disclosure_events", "public_in_partition_month")} <= checked


def test_the_event_study_is_stored_with_its_report(pipeline_run):
    settings, _ = pipeline_run
    stored = json.loads((settings.data_dir / "assets" / "event_study.json").read_text())
    rows = stored["event_study"]
    assert {r["family"] for r in rows} >= {"insider_purchase", "placebo"}
    assert {r["benchmark"] for r in rows} == {"equal_weight", "matched", "market_index"}
    assert stored["calendar_time"] and stored["coverage"]
    report = (settings.data_dir / "research" / "signal_study.html").read_text()
    assert "Calendar-time portfolios" in report and "data:image/png;base64," in report


def test_the_excess_target_model_registers_in_its_own_registry_beside_the_plans(pipeline_run):
    from smart_money.evaluation.excess_target import EXCESS_LABEL, EXCESS_MODEL_ID, EXCESS_REGISTRY_FOLDER
    from smart_money.model.registry import Registry

    settings, summary = pipeline_run
    plan = Registry(settings.models_dir).index()
    assert plan["model_id"] == "smart_money_flow" and {v["label"] for v in plan["versions"]} == {"label"}
    registry = Registry(settings.models_dir, EXCESS_REGISTRY_FOLDER, EXCESS_MODEL_ID)
    entry = registry.index()["versions"][-1]
    assert entry["label"] == EXCESS_LABEL and set(entry["gates"]) == {
        "beats_baselines",
        "calibration",
        "no_overfit",
        "no_leakage",
    }
    folder = registry.verify(entry["version"])
    metadata = json.loads((folder / "metadata.json").read_text())
    assert metadata["model_id"] == EXCESS_MODEL_ID and metadata["training"]["config"]["use_prior"] is False
    evaluation = json.loads((folder / "evaluation.json").read_text())
    models = [row["model"] for row in evaluation["comparison"]]
    assert models == ["plan target (rises > 5 %)", "excess-return sign target"]
    for row in evaluation["comparison"]:
        assert {"per_date_auc_label", "per_date_auc_excess_sign", "rank_ic_excess", "rank_ic_excess_fresh_event",
                "top_minus_bottom_decile_excess_pct", "fresh_event_samples"} <= set(row)  # fmt: skip
    assert "two targets" in (folder / "targets.html").read_text()
