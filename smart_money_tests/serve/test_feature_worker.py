"""The feature worker keeps pulled months (issue 18.3): another date of a month it pulled before
is computed from that month's prepared inputs, with exactly the values (and predictions) of the
full computation; one long-lived worker process answers date after date, and exits when idle."""

from __future__ import annotations

import logging
import shutil
import time
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from smart_money.model.registry import Registry
from smart_money.serve import feature_provider as fp
from smart_money.serve.feature_provider import FeatureProvider, compute_day, compute_day_warm
from smart_money.serve.prediction import ChampionModel, PredictionService, Query
from smart_money_tests.support.serving import (
    ahead_day,
    feature_calls,
    serve_settings,
    small_day,
    write_raw_partitions,
)


def reset() -> None:
    """Forget every month this (test) process keeps, as a new worker process would."""
    for kept in (fp._warm_months, fp._warm_days, fp._last_asked):
        kept.clear()


FIRST, OTHER = pd.Timestamp("2024-05-14"), pd.Timestamp("2024-05-13")  # neither is May's sample date


def test_a_date_of_a_kept_month_has_the_full_computations_values(served_settings):
    reset()
    compute_day_warm(served_settings, FIRST)  # pulls May
    assert len(fp._warm_months) == 1
    assert fp._prefetch(served_settings)  # the nearest session ahead: the 13th (before the 15th: ties go early)
    ((key, ahead),) = fp._warm_days.items()
    assert sorted(ahead) == [OTHER, FIRST]
    kept = compute_day_warm(served_settings, OTHER)  # computed ahead from the kept month
    assert kept is ahead[OTHER]
    full = compute_day(served_settings, OTHER)  # its own pull, as the `features` asset computes
    pd.testing.assert_frame_equal(kept.frame, full.frame, check_exact=True)
    assert kept.smart_money_error is None and (kept.frame["prices_missing"] == 0).any()
    # the same predictions, too
    service = PredictionService(ChampionModel(Registry(served_settings.models_dir)), None, cache_size=0)
    symbols = full.frame.index[(full.frame["prices_missing"] == 0) & (full.frame["excluded_reason"] == "")][:5]
    queries = [Query(s) for s in symbols]
    strip = ("latency_ms", "timestamp", "served_at")
    got = [{k: v for k, v in r.items() if k not in strip} for r in service.predict(queries, kept)]
    want = [{k: v for k, v in r.items() if k not in strip} for r in service.predict(queries, full)]
    assert got == want and len(got) == 5
    # ahead, every session of the month, one per call, and then nothing more
    steps = 0
    while fp._prefetch(served_settings):
        steps += 1
    sessions = fp.cal.sessions_between("2024-05-01", "2024-05-31")
    assert sorted(fp._warm_days[key]) == list(sessions) and steps == len(sessions) - 2
    assert list(fp._warm_days[key])[-1] == fp.cal.sample_date(FIRST)  # the sample date last
    last = compute_day_warm(served_settings, sessions[-1])
    pd.testing.assert_frame_equal(last.frame, compute_day(served_settings, sessions[-1]).frame, check_exact=True)
    reset()


def test_kept_months_are_bounded_and_expire(served_settings, monkeypatch):
    reset()
    calls: list[pd.Timestamp] = []
    real = fp.pull_month

    def counting(settings, month, source=None):
        calls.append(fp.cal.month_start(month))
        return real(settings, month, source)

    monkeypatch.setattr(fp, "pull_month", counting)
    for day in ("2024-03-12", "2024-04-12", "2024-03-11", "2024-05-14", "2024-03-08"):
        compute_day_warm(served_settings, pd.Timestamp(day))
    # March kept while April came; May pushed out April (the older use), and March stayed
    assert [f"{m:%Y-%m}" for m in calls] == ["2024-03", "2024-04", "2024-05"]
    assert len(fp._warm_months) == fp.WARM_MONTHS
    for month in fp._warm_months.values():  # half an hour later every kept month is pulled again
        month.pulled_at -= fp.KEEP_MONTH_S + 1
    compute_day_warm(served_settings, pd.Timestamp("2024-03-07"))
    assert [f"{m:%Y-%m}" for m in calls][-1] == "2024-03" and len(fp._warm_months) == 1
    reset()


def test_one_worker_process_answers_date_after_date(tmp_path):
    home = serve_settings(tmp_path / "home")
    provider = FeatureProvider(home, compute=small_day)
    try:
        for day in ("2024-06-10", "2024-06-11", "2024-06-12"):
            assert provider.get(pd.Timestamp(day)).has("AAA")
        assert provider.workers_started == 1 and provider.computed == 3
        assert feature_calls(home) == ["2024-06-10", "2024-06-11", "2024-06-12"]
    finally:
        provider.close()
    assert provider._idle == []


def test_an_idle_worker_exits_and_the_next_date_starts_another(tmp_path):
    home = serve_settings(tmp_path / "home")
    provider = FeatureProvider(home, compute=small_day, worker_idle_s=1.0)
    try:
        provider.get(pd.Timestamp("2024-06-10"))
        (worker,) = provider._idle
        worker.process.join(30)  # the worker's own idle limit ends it, returning its memory
        assert worker.process.exitcode == 0
        provider.get(pd.Timestamp("2024-06-11"))
        assert provider.workers_started == 2 and provider.computed == 2
    finally:
        provider.close()


def test_a_worker_idle_for_half_its_limit_is_replaced_before_it_could_exit_under_a_date(tmp_path):
    home = serve_settings(tmp_path / "home")
    provider = FeatureProvider(home, compute=small_day, worker_idle_s=60.0)
    try:
        provider.get(pd.Timestamp("2024-06-10"))
        (worker,) = provider._idle
        worker.idle_since = time.monotonic() - 31
        provider.get(pd.Timestamp("2024-06-11"))
        assert provider.workers_started == 2 and worker.process.exitcode is not None
    finally:
        provider.close()


def test_the_worker_works_ahead_between_dates_and_still_answers(tmp_path):
    home = serve_settings(tmp_path / "home")
    provider = FeatureProvider(home, compute=ahead_day)
    try:
        provider.get(pd.Timestamp("2024-06-10"))
        for _ in range(300):  # bounded: three steps of a few ms
            if len(feature_calls(home)) == 4:
                break
            time.sleep(0.1)
        assert feature_calls(home) == ["2024-06-10", "ahead1", "ahead2", "ahead3"]
        provider.get(pd.Timestamp("2024-06-11"))
        assert provider.workers_started == 1 and provider.computed == 2
        assert feature_calls(home)[4] == "2024-06-11"
    finally:
        provider.close()


# -- a new month from the materialized raw partitions --------------------------------------------------
@pytest.fixture(scope="module")
def raw_home(served_settings, tmp_path_factory):
    """A home holding what `smart-money run` writes for 2022-07..2024-05 (no June): the universe
    and the raw assets' partitions."""
    settings = served_settings.with_overrides(home=tmp_path_factory.mktemp("raw-home"))
    write_raw_partitions(settings, last_month=date(2024, 5, 1))
    return settings


def test_a_month_read_from_the_raw_partitions_has_the_pulled_months_values(raw_home, monkeypatch):
    reset()
    month = fp.read_month(raw_home, FIRST)
    assert month is not None and month.smart_money_error is None
    pulled = fp.pull_month(raw_home, FIRST)  # the source pull, as before
    sessions = fp.cal.sessions_between("2024-05-01", "2024-05-31")
    for day in (sessions[0], OTHER, FIRST, sessions[-1]):  # none is the sample date
        pd.testing.assert_frame_equal(month.day(day).frame, pulled.day(day).frame, check_exact=True)
    # the first month of the data, whose partition holds the look-back before it, too
    first = pd.Timestamp("2022-07-12")
    from_parts = fp.read_month(raw_home, first)
    assert from_parts is not None
    pd.testing.assert_frame_equal(
        from_parts.day(first).frame, fp.pull_month(raw_home, first).day(first).frame, check_exact=True
    )

    # the worker reads the month instead of pulling it
    def no_pull(settings, month, source=None):
        raise AssertionError("pulled a month whose raw partitions are all materialized")

    monkeypatch.setattr(fp, "pull_month", no_pull)
    got = compute_day_warm(raw_home, OTHER)
    pd.testing.assert_frame_equal(got.frame, pulled.day(OTHER).frame, check_exact=True)
    reset()


def test_a_month_with_a_partition_missing_is_pulled_and_the_log_says_which(raw_home, tmp_path, caplog, monkeypatch):
    reset()
    settings = raw_home.with_overrides(home=tmp_path / "home")
    shutil.copytree(raw_home.data_dir, settings.data_dir)
    missing = Path(fp.asset_path(settings, "raw_congress_trades", pd.Timestamp("2024-03-01")))
    missing.unlink()
    calls: list[str] = []
    real = fp.pull_month

    def counting(settings, month, source=None):
        calls.append(f"{fp.cal.month_start(month):%Y-%m}")
        return real(settings, month, source)

    monkeypatch.setattr(fp, "pull_month", counting)
    with caplog.at_level(logging.INFO, logger="smart_money.serve"):
        assert fp.read_month(settings, FIRST) is None
        assert "raw_congress_trades[2024-03]" in caplog.text
        got = compute_day_warm(settings, OTHER)  # May: pulled from the source instead
        compute_day_warm(settings, pd.Timestamp("2024-06-12"))  # June: after the run's months
        compute_day_warm(settings, pd.Timestamp("2024-02-12"))  # February: every partition there
    assert calls == ["2024-05", "2024-06"] and "raw_prices[2024-06]" in caplog.text
    pd.testing.assert_frame_equal(got.frame, compute_day(settings, OTHER).frame, check_exact=True)
    # a partition cut short, or the universe of another run's symbols: pulled as well
    path = Path(fp.asset_path(settings, "raw_prices", pd.Timestamp("2024-01-01")))
    path.write_bytes(path.read_bytes()[:100])
    with caplog.at_level(logging.INFO, logger="smart_money.serve"):
        assert fp.read_month(settings, pd.Timestamp("2024-01-10")) is None and str(path) in caplog.text
        assert fp.read_month(settings.with_overrides(symbols=41), pd.Timestamp("2023-12-12")) is None
    assert "another run's" in caplog.text
    assert fp.read_month(settings, pd.Timestamp("2023-12-12")) is not None
    reset()


def test_the_worker_starts_ahead_of_the_first_date_and_answers_it(tmp_path):
    home = serve_settings(tmp_path / "home")
    provider = FeatureProvider(home, compute=small_day)
    try:
        provider.start_worker()  # in the background
        for _ in range(300):
            if provider.workers_started:
                break
            time.sleep(0.1)
        assert provider.workers_started == 1 and len(provider._idle) == 1
        assert provider.get(pd.Timestamp("2024-06-10")).has("AAA")
        assert provider.workers_started == 1  # the started worker answered
        provider.start_worker()  # one is there already: nothing more
        time.sleep(0.5)
        assert provider.workers_started == 1
    finally:
        provider.close()
    assert provider._idle == []


def test_a_new_worker_prepares_the_latest_materialized_month_without_pulling(raw_home, monkeypatch):
    reset()
    fp._partitions.clear()

    def no_pull(settings, month, source=None):
        raise AssertionError("the warm-up pulled from the source")

    monkeypatch.setattr(fp, "pull_month", no_pull)
    settings = raw_home.with_overrides(end=date(2024, 5, 1))  # the run's last month
    fp._warm_up(settings)
    ((key, month),) = fp._warm_months.items()
    assert key[1] == pd.Timestamp("2024-05-01") and fp._last_asked[key] == pd.Timestamp("2024-05-31")
    assert len(fp._partitions) == sum(len(keys) for keys in fp.raw_partitions_needed(settings, month.month).values())
    # April reads only its partitions beyond May's, with the values of a read from scratch
    april = fp.read_month(settings, pd.Timestamp("2024-04-12"))
    fp._partitions.clear()
    fresh = fp.read_month(settings, pd.Timestamp("2024-04-12"))
    day = pd.Timestamp("2024-04-12")
    pd.testing.assert_frame_equal(april.day(day).frame, fresh.day(day).frame, check_exact=True)
    reset()
