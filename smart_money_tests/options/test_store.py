"""smart_money_events through real chDB: insert, idempotent re-insert, history and replay."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from smart_money.options.engine.batch import score_frames, storage_rows
from smart_money.options.engine.frames import NormalizedTape
from smart_money.options.engine.rules import load_rules
from smart_money.options.market.synthetic import catalogue
from smart_money.options.store import EventStore, describe_url
from smart_money.settings.options import OptionsSettings


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    tape, _ = catalogue(per_variant=1)
    n = NormalizedTape.of(tape)
    batch = score_frames(n.prints, n.quotes, n.underlying, n.calendar)
    return storage_rows(batch.with_membership(), load_rules(), run_mode="synthetic")


def test_round_trip_dedupes_and_answers_history_and_replay(tmp_path: Path, rows: pd.DataFrame):
    url = OptionsSettings().store_url(tmp_path / "data")
    assert url == f"chdb://{(tmp_path / 'data' / 'clickhouse').resolve()}"
    with EventStore(url) as store:
        assert store.insert(rows) == len(rows)
        assert store.insert(rows) == 0  # same events again: nothing new
        assert store.count() == len(rows)

        emitted = rows[~rows["abstained"]]
        profile = emitted["primary_profile_id"].value_counts().index[0]
        history = store.history(profile=profile)
        assert len(history) == (emitted["primary_profile_id"] == profile).sum()
        assert history["source_ts"].is_monotonic_decreasing

        one = rows.iloc[0]
        by_underlying = store.history(underlying=one["underlying_id"])
        assert set(by_underlying["event_id"]) == set(
            rows.loc[rows["underlying_id"] == one["underlying_id"], "event_id"]
        )
        stored = by_underlying.set_index("event_id").loc[one["event_id"]]
        assert list(stored["member_print_ids"]) == list(one["member_print_ids"])
        assert stored["features_json"] == one["features_json"]

        middle = rows["source_ts"].sort_values().iloc[len(rows) // 2]
        later = store.history(start=middle)
        assert len(later) == (rows["source_ts"] >= middle).sum()

        replay = store.replay()
        assert len(replay) == len(rows) and replay["source_ts"].is_monotonic_increasing
        assert set(replay["event_id"]) == set(rows["event_id"])

    # reopening the same folder finds the same table and rows
    with EventStore(url) as store:
        assert store.count() == len(rows)
        assert store.insert(rows.assign(ingest_ts=pd.Timestamp.now(tz="UTC"))) == 0


def test_a_server_url_comes_from_the_environment_and_is_never_shown_with_credentials(tmp_path: Path):
    url = OptionsSettings.from_env(
        {"SMART_MONEY_CLICKHOUSE_URL": "http://writer:s3cret@127.0.0.1:8123/flow"}
    ).store_url(tmp_path)
    assert url == "http://writer:s3cret@127.0.0.1:8123/flow"
    assert describe_url(url) == "http://***@127.0.0.1:8123/flow"
