"""Being a polite HTTP client: rate windows shared across processes, and retries that back off.

Used by the FMP client and the SEC downloader.

- `retry_after_seconds`: an HTTP `Retry-After` header (seconds or an HTTP date) as seconds.
- `BackoffAtLeastRetryAfter`: a tenacity wait that grows exponentially with the attempt number
  and is never shorter than what the server's Retry-After asked. A server that keeps answering
  `429, Retry-After: 1` (FMP does, whatever its window still holds) would otherwise be asked
  again every second until the attempts run out; growing waits reach past its window.
- `StopAfterBudget`: a tenacity stop with a budget in time: rate limits are retried until the
  budget is spent (a 429 says "too fast", not "broken"), other failures also stop after a
  number of attempts.
- `SharedRateLimit`: a sliding-window log in a SQLite file, so every process that opens the
  same file (the step processes of a run, runs one after another) draws permits from one
  budget. pyrate-limiter 4 offers a SQLite bucket, but its cross-process mode needs its file
  lock, whose non-blocking acquire fails with filelock 4 (`timeout must be a number of seconds,
  not bool`), and its blocking mode stamps permits behind the clock; its multiprocess bucket
  needs a manager shared by a parent process. Here one `BEGIN IMMEDIATE` transaction (SQLite's
  own write lock, across processes) counts the window and records the permit.
- `take_permit`: waits for a permit with non-blocking tries, so each permit is stamped with the
  clock at the moment it is granted.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Protocol

from tenacity import RetryCallState

SQLITE_BUSY_TIMEOUT_S = 30.0


def retry_after_seconds(value: str | None) -> float | None:
    """The seconds a `Retry-After` header asks for (a number or an HTTP date), or None."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        try:
            return max((parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds(), 0.0)
        except (TypeError, ValueError):
            return None


def _error_of(state: RetryCallState) -> BaseException | None:
    return state.outcome.exception() if state.outcome else None


class BackoffAtLeastRetryAfter:
    """Tenacity wait: `initial_s * 2**(attempt - 1)` (at most `max_s`), never less than the
    error's `retry_after` (at most `retry_after_max_s`), times 1 + up to `jitter` (threads that
    failed together do not come back together)."""

    def __init__(self, initial_s: float, max_s: float, retry_after_max_s: float, jitter: float = 0.1):
        self.initial_s, self.max_s, self.retry_after_max_s, self.jitter = initial_s, max_s, retry_after_max_s, jitter

    def __call__(self, state: RetryCallState) -> float:
        wait = min(self.max_s, self.initial_s * 2 ** (state.attempt_number - 1))
        asked = getattr(_error_of(state), "retry_after", None)
        if asked is not None:
            wait = max(wait, min(asked, self.retry_after_max_s))
        return wait * (1.0 + random.uniform(0.0, self.jitter))


class StopAfterBudget:
    """Tenacity stop: when the next wait would end past `budget_s` since the first attempt, or
    after `max_attempts` attempts unless the last failure was a rate limit (`is_rate_limit`):
    rate limits are retried for as long as the budget lasts."""

    def __init__(self, max_attempts: int, budget_s: float, is_rate_limit: Callable[[BaseException | None], bool]):
        self.max_attempts, self.budget_s, self.is_rate_limit = max_attempts, budget_s, is_rate_limit

    def __call__(self, state: RetryCallState) -> bool:
        elapsed = state.seconds_since_start or 0.0
        if elapsed + state.upcoming_sleep > self.budget_s:
            return True
        return state.attempt_number >= self.max_attempts and not self.is_rate_limit(_error_of(state))


class PermitSource(Protocol):
    """What `take_permit` needs: pyrate-limiter's `Limiter` (one process) or `SharedRateLimit`."""

    def try_acquire(self, name: str, blocking: bool = ...) -> bool: ...

    def close(self) -> None: ...


def take_permit(limiter: PermitSource, name: str, poll_s: float) -> None:
    """Wait for a permit of `limiter` (non-blocking tries every `poll_s`; a SharedRateLimit
    sleeps until its oldest permit leaves the window): each permit is stamped with the clock when
    it is granted. (pyrate-limiter's blocking mode stamps a permit with its first try's time plus
    the computed waits, which falls behind the clock when sleeping threads wake late; a busy
    machine then let one request too many into the server's window.)"""
    if isinstance(limiter, SharedRateLimit):
        limiter.acquire(name, poll_s)
        return
    while not limiter.try_acquire(name, blocking=False):
        time.sleep(poll_s)


class SharedRateLimit:
    """At most `limit` permits in any `window_s` seconds, counted in the SQLite file `path` by
    every process that opens it (thread-safe; see the module docstring). Permits are stamped with
    the wall clock, which the processes of one machine share."""

    def __init__(self, path: str | Path, limit: int, window_s: float):
        self.path, self.limit, self.window_s = Path(path), limit, window_s
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, timeout=SQLITE_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # no fsync per permit: a crash may forget a few
            self._db.execute("CREATE TABLE IF NOT EXISTS permits (name TEXT NOT NULL, stamp REAL NOT NULL)")
            self._db.execute("CREATE INDEX IF NOT EXISTS permits_by_name_stamp ON permits (name, stamp)")

    def try_acquire(self, name: str, blocking: bool = False) -> bool:
        """Take a permit if the window has room (never blocks: see `acquire`)."""
        return self._try(name) == 0.0

    def acquire(self, name: str, poll_s: float) -> None:
        """Take a permit, sleeping until the window's oldest permit leaves it (at least `poll_s`,
        at most a second: another process may have taken the slot meanwhile)."""
        while (wait := self._try(name)) > 0.0:
            time.sleep(min(max(wait, poll_s), 1.0))

    def _try(self, name: str) -> float:
        """0.0 with a permit taken, else the seconds until the oldest permit leaves the window."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # the file's write lock: one process at a time
            try:
                now = time.time()
                self._db.execute("DELETE FROM permits WHERE name = ? AND stamp <= ?", (name, now - self.window_s))
                held, oldest = self._db.execute(
                    "SELECT COUNT(*), MIN(stamp) FROM permits WHERE name = ?", (name,)
                ).fetchone()
                if held < self.limit:
                    self._db.execute("INSERT INTO permits (name, stamp) VALUES (?, ?)", (name, now))
                    wait = 0.0
                else:
                    wait = max(oldest + self.window_s - now, 1e-3)
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        return wait

    def held(self, name: str) -> int:
        """Permits of `name` in the current window (across processes)."""
        with self._lock:
            (count,) = self._db.execute(
                "SELECT COUNT(*) FROM permits WHERE name = ? AND stamp > ?", (name, time.time() - self.window_s)
            ).fetchone()
        return int(count)

    def close(self) -> None:
        with self._lock:
            self._db.close()
