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
