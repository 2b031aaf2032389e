"""The asset graph as the UI shows it: keys, groups, dependencies, partitions, checks, schedule.

The snapshot makes every graph change visible in review. After an intended change run
`UPDATE_SNAPSHOTS=1 pytest smart_money_tests/test_definitions.py` and commit the new file.
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from smart_money.definitions import build_definitions
from smart_money.orchestration.names import MONTHLY_JOB, MONTHLY_SCHEDULE
from smart_money.settings import Settings
from smart_money_tests.support.paths import SNAPSHOTS

SNAPSHOT = SNAPSHOTS / "graph.json"


@pytest.fixture(scope="module")
def defs(tmp_path_factory) -> dg.Definitions:
    return build_definitions(Settings(start=date(2022, 1, 1), home=tmp_path_factory.mktemp("home")))


def graph_of(defs: dg.Definitions) -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "partitioned": node.partitions_def is not None,
            "checks": sorted(c.name for c in node.check_keys),
            "owners": list(node.owners),
        }
    return {
        "assets": assets,
        "jobs": sorted(j.name for j in defs.jobs),
        "schedules": sorted(s.name for s in defs.schedules),
    }


def test_graph_matches_the_reviewed_snapshot(defs):
    current = graph_of(defs)
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(current, indent=2) + "\n")
    assert current == json.loads(SNAPSHOT.read_text())


def test_definitions_load_like_the_ui_does(defs):
    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_job_def(MONTHLY_JOB).partitions_def is not None


def test_every_asset_is_described_and_owned(defs):
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        spec = node.to_asset_spec() if hasattr(node, "to_asset_spec") else None
        description = getattr(node, "description", None) or (spec.description if spec else None)
        assert description, key
        assert node.owners, key


@pytest.mark.parametrize(
    ("tick", "expected"),
    [
        (datetime(2024, 4, 5, 6, tzinfo=ZoneInfo("America/New_York")), "2024-03-01"),
        (datetime(2026, 1, 5, 6, tzinfo=ZoneInfo("America/New_York")), "2025-12-01"),
    ],
)
def test_schedule_tick_on_the_fifth_requests_the_previous_month(defs, tick, expected):
    schedule = defs.resolve_schedule_def(MONTHLY_SCHEDULE)
    assert schedule.cron_schedule == "0 6 5 * *"
    with dg.build_schedule_context(scheduled_execution_time=tick) as context:
        requests = list(schedule.evaluate_tick(context).run_requests or [])
    assert [r.partition_key for r in requests] == [expected]


def test_environment_is_read_when_definitions_are_built(monkeypatch, tmp_path):
    import smart_money.definitions as module

    monkeypatch.setenv("SMART_MONEY_START", "2023-05")
    monkeypatch.setenv("SMART_MONEY_END", "2023-07")
    monkeypatch.setenv("SMART_MONEY_HOME", str(tmp_path))
    built = module.defs() if callable(module.defs) else module.defs
    keys = built.resolve_job_def(MONTHLY_JOB).partitions_def.get_partition_keys()
    assert keys == ["2023-05-01", "2023-06-01", "2023-07-01"]
