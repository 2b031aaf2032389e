"""The feature worker keeps pulled months (issue 18.3): another date of a month it pulled before
is computed from that month's prepared inputs, with exactly the values (and predictions) of the
full computation; one long-lived worker process answers date after date, and exits when idle."""

from __future__ import annotations

import time

import pandas as pd

from smart_money.model.registry import Registry
from smart_money.serve import feature_provider as fp
from smart_money.serve.feature_provider import FeatureProvider, compute_day, compute_day_warm
from smart_money.serve.prediction import ChampionModel, PredictionService, Query
from smart_money_tests.support.serving import ahead_day, feature_calls, serve_settings, small_day


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
