"""The FMP HTTP client: httpx, one shared rate limiter, tenacity retries, the error catalogue.

One `FmpClient` is shared by every fetch of a run (the Dagster resource builds it once per run),
so its limiter budgets all concurrent requests of all assets together. Each attempt, retries
included, takes a permit: FMP counts every request. The key travels only in the `apikey`
header; URLs, log lines, exception texts and stats never contain it.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from pyrate_limiter import Duration, Limiter, Rate
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from smart_money.settings.fmp import FmpSettings
from smart_money.sources.fmp.errors import (
    FmpAuthError,
    FmpError,
    FmpLegacyEndpointError,
    FmpPlanError,
    FmpQueryError,
    FmpRateLimited,
    FmpTransientError,
    redact,
)

# The limiter counts its window this much longer than the plan's (2 %, at least 0.25 s): a request
# can reach FMP a little after it took its permit (a busy machine delays the sending thread), and
# FMP must never count one too many. The floor matters only for time-compressed limits (tests).
RATE_WINDOW_MARGIN = 0.02
RATE_WINDOW_MARGIN_MIN_S = 0.25

logger = logging.getLogger("smart_money.fmp")


@dataclass
class CallStats:
    """Thread-safe counters of what the client did (shown as asset metadata)."""

    counts: Counter = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counts[name] += n

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        try:
            return max((parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds(), 0.0)
        except (TypeError, ValueError):
            return None


class _WaitRetryAfterOrBackoff:
    """Tenacity wait: the server's Retry-After (capped, plus up to 10 % jitter) when it sent
    one, else exponential backoff with jitter."""

    def __init__(self, config: FmpSettings):
        self.cap = config.retry_after_max_s
        self.backoff = wait_exponential_jitter(
            multiplier=config.backoff_initial_s, max=config.backoff_max_s, jitter=config.backoff_initial_s
        )

    def __call__(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, FmpTransientError) and error.retry_after is not None:
            wait = min(error.retry_after, self.cap)
            return wait + random.uniform(0.0, 0.1 * max(wait, 0.1))
        return self.backoff(state)


_PARAMETER_PATTERN = re.compile(r"parameter\s*-\s*([A-Za-z_]+)")


def _error_message(payload: object) -> str | None:
    """The error text of a 200 body shaped `{"Error Message": ...}` or `{"error": ...}`."""
    if isinstance(payload, dict):
        for key in ("Error Message", "error", "message"):
            if key in payload and isinstance(payload[key], str) and len(payload) <= 2:
                return payload[key]
    return None


class FmpClient:
    """GET FMP JSON with rate limiting, retries and classified errors (thread-safe)."""

    def __init__(self, config: FmpSettings, api_key: str, transport: httpx.BaseTransport | None = None):
        self.config = config
        self._api_key = api_key
        self.stats = CallStats()
        window_s = config.rate_period_s + max(config.rate_period_s * RATE_WINDOW_MARGIN, RATE_WINDOW_MARGIN_MIN_S)
        self.limiter = Limiter(Rate(config.rate_limit, int(Duration.SECOND * window_s)))
        self._permit_poll_s = min(0.05, config.rate_period_s / config.rate_limit / 2)
        self._http = httpx.Client(
            base_url=config.base_url.rstrip("/"),
            headers={"apikey": api_key, "Accept": "application/json", "User-Agent": "smart-money/fmp"},
            timeout=httpx.Timeout(config.timeout_s),
            limits=httpx.Limits(
                max_connections=config.max_concurrency * 2, max_keepalive_connections=config.max_concurrency
            ),
            transport=transport,
            follow_redirects=False,
        )
        self._retrying = Retrying(
            retry=retry_if_exception(lambda e: isinstance(e, FmpError) and e.retryable),
            stop=stop_after_attempt(config.max_retries + 1),
            wait=_WaitRetryAfterOrBackoff(config),
            before_sleep=self._log_retry,
            reraise=True,
        )

        self._legacy_blocked = threading.Event()

    def __repr__(self) -> str:
        return (
            f"FmpClient(base_url={self.config.base_url!r}, api={self.config.api!r}, "
            f"rate_limit={self.config.rate_limit}/{self.config.rate_period_s:g}s)"
        )

    @property
    def use_legacy(self) -> bool:
        """Legacy v3/v4 paths were asked for and FMP has not refused them yet."""
        return self.config.api == "legacy" and not self._legacy_blocked.is_set()

    def refuse_legacy(self, error: FmpLegacyEndpointError) -> None:
        """FMP said 'Legacy Endpoint': say so once and use the stable paths from now on."""
        if not self._legacy_blocked.is_set():
            self._legacy_blocked.set()
            self.stats.add("legacy_refused")
            logger.warning("%s; switching to the stable API for the rest of the run", error)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> FmpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one logical call ------------------------------------------------------------------------
    def get_json(self, path: str, params: Mapping[str, object] | None = None, symbol: str | None = None) -> list | dict:
        """The decoded JSON of GET `path` (e.g. `/stable/insider-trading/search`), retried on
        transient failures; raises a classified FmpError otherwise."""
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        return self._retrying(self._attempt, path, clean, symbol)

    def _log_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        self.stats.add("retries")
        logger.warning(
            "FMP %s (attempt %d), retrying in %.1fs", redact(str(error), self._api_key), state.attempt_number, wait
        )

    def _take_permit(self) -> None:
        """Wait for a slot in the rate window. Non-blocking tries, so each permit is stamped with
        the clock at the moment it is granted: pyrate-limiter's blocking mode stamps a permit with
        its first try's time plus the computed waits, which falls behind the clock when sleeping
        threads wake late, and a busy machine then let one request too many reach FMP's window."""
        while not self.limiter.try_acquire("fmp", blocking=False):
            time.sleep(self._permit_poll_s)

    def _attempt(self, path: str, params: dict[str, object], symbol: str | None) -> list | dict:
        where = f"{path}?{'&'.join(f'{k}={v}' for k, v in params.items())}"
        self._take_permit()
        self.stats.add("http_requests")
        try:
            response = self._http.get(path, params=params)
            body = response.content
        except httpx.TimeoutException as exc:
            self.stats.add("timeouts")
            raise FmpTransientError(f"timeout after {self.config.timeout_s:g}s on {where}", path) from exc
        except httpx.TransportError as exc:
            self.stats.add("transport_errors")
            raise FmpTransientError(f"connection problem on {where}: {type(exc).__name__}", path) from exc
        return self._classify(response.status_code, response.headers, body, path, where, symbol)

    def _classify(
        self, status: int, headers: httpx.Headers, body: bytes, path: str, where: str, symbol: str | None
    ) -> list | dict:
        text = redact(body.decode("utf-8", errors="replace").strip(), self._api_key)
        if status == 200:
            try:
                payload = json.loads(body)
            except ValueError as exc:
                self.stats.add("bad_bodies")
                raise FmpTransientError(
                    f"truncated or invalid JSON from {where} ({len(body)} bytes)", path, status
                ) from exc
            message = _error_message(payload)
            if message is None:
                return payload
            self.stats.add("error_bodies")
            return self._raise_for_message(message, 200, path, where, symbol, headers)
        if status == 429:
            self.stats.add("rate_limited")
            raise FmpRateLimited(
                f"429 rate limit on {where}: {text[:200]}",
                path,
                status,
                _retry_after_seconds(headers.get("Retry-After")),
            )
        if status >= 500:
            self.stats.add("server_errors")
            raise FmpTransientError(
                f"{status} server error on {where}", path, status, _retry_after_seconds(headers.get("Retry-After"))
            )
        if status == 400:
            match = _PARAMETER_PATTERN.search(text)
            named = f" (parameter '{match.group(1)}')" if match else ""
            raise FmpQueryError(f"FMP rejected the query {where}{named}: {text[:300]}", path, status)
        try:
            message = _error_message(json.loads(body)) or text
        except ValueError:
            message = text
        return self._raise_for_message(message, status, path, where, symbol, headers)

    def _raise_for_message(
        self, message: str, status: int, path: str, where: str, symbol: str | None, headers: httpx.Headers
    ) -> list | dict:
        lowered = message.lower()
        if status == 401 or "invalid api key" in lowered:
            raise FmpAuthError(
                f"FMP rejected the API key ({status} on {path}): FMP_API_KEY is missing, wrong or revoked. "
                "Check the key on your FMP dashboard (it is never printed here).",
                path,
                status,
            )
        if (
            status == 402
            or "exclusive endpoint" in lowered
            or "special endpoint" in lowered
            or "premium query parameter" in lowered
        ):
            scope = "symbol" if ("special endpoint" in lowered or "premium query parameter" in lowered) else "endpoint"
            raise FmpPlanError(f"plan does not cover {where} ({scope}): {message[:200]}", path, symbol, scope)
        if "legacy endpoint" in lowered:
            raise FmpLegacyEndpointError(
                f"FMP answered 'Legacy Endpoint' for {path}: this key cannot use the v3/v4 API "
                "(keys from after 2025-08-31); use the stable API (FMP_API=stable)",
                path,
                status,
            )
        if "limit reach" in lowered:
            self.stats.add("rate_limited")
            raise FmpRateLimited(
                f"rate limit on {where}: {message[:200]}",
                path,
                status,
                _retry_after_seconds(headers.get("Retry-After")),
            )
        if status == 200:
            raise FmpTransientError(f"error body from {where}: {message[:200]}", path, status)
        raise FmpError(f"{status} from {where}: {message[:200]}", path, status)
