"""data.throttle: Retry-After parsing, the backoff that never undercuts it, the retry budget in
time, and the rate window shared through a SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import SimpleNamespace

from smart_money.data.throttle import (
    BackoffAtLeastRetryAfter,
    SharedRateLimit,
    StopAfterBudget,
    retry_after_seconds,
)


class Limited(Exception):
    retry_after = 1.0


def state(attempt: int, error: Exception, elapsed: float = 0.0, upcoming: float = 0.0) -> SimpleNamespace:
    return SimpleNamespace(
        attempt_number=attempt,
        outcome=SimpleNamespace(exception=lambda: error),
        seconds_since_start=elapsed,
        upcoming_sleep=upcoming,
    )


def test_retry_after_is_read_as_seconds_or_an_http_date():
    assert retry_after_seconds("7") == 7.0 and retry_after_seconds("-3") == 0.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    assert 100 < retry_after_seconds(later) <= 120
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None


def test_the_backoff_doubles_from_a_small_retry_after():
    wait = BackoffAtLeastRetryAfter(initial_s=1.0, max_s=60.0, retry_after_max_s=120.0, jitter=0.0)
    assert [wait(state(n, Limited())) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    big = Limited()
    big.retry_after = 30.0
    assert [wait(state(n, big)) for n in (1, 5, 6)] == [30.0, 30.0, 32.0]


def test_rate_limits_stop_only_when_the_time_budget_is_spent():
    stop = StopAfterBudget(max_attempts=3, budget_s=100.0, is_rate_limit=lambda e: isinstance(e, Limited))
    assert not stop(state(3, Limited(), elapsed=10.0, upcoming=4.0))  # past the count: a rate limit goes on
    assert stop(state(3, OSError(), elapsed=10.0, upcoming=4.0))  # another failure stops at the count
    assert not stop(state(2, OSError(), elapsed=10.0, upcoming=4.0))
    assert stop(state(20, Limited(), elapsed=98.0, upcoming=4.0))  # the next wait would end past the budget


def test_processes_opening_the_same_file_share_one_window(tmp_path):
    path = tmp_path / "rate.sqlite"
    first, second = SharedRateLimit(path, limit=3, window_s=600.0), SharedRateLimit(path, limit=3, window_s=600.0)
    assert first.try_acquire("fmp") and second.try_acquire("fmp") and first.try_acquire("fmp")
    assert not second.try_acquire("fmp") and not first.try_acquire("fmp")  # three in the window, across both
    assert first.held("fmp") == second.held("fmp") == 3 and second.held("sec") == 0
    assert SharedRateLimit(path, limit=3, window_s=600.0).held("fmp") == 3  # a later opener sees them too
    first.close()
    second.close()
