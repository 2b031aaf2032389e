"""The FMP HTTP client: httpx, one shared rate limiter, tenacity retries, the error catalogue.

One `FmpClient` is shared by every fetch of a process (the Dagster resource builds it once per
run process), so its limiter budgets all concurrent requests of all assets together; given a
`rate_limit_file` (the source factory passes `<cache>/.rate-limit.sqlite`), the window is shared
with every other process using that file: the step processes of a run and runs one after
another. Each attempt, retries included, takes a permit: FMP counts every request.

Retries (data.throttle): waits grow exponentially with the attempt and are never shorter than
the server's Retry-After (FMP answers `Retry-After: 1` while its window is still full); rate
limits are retried until `retry_budget_s` is spent, other transient failures at most
`max_retries` times within it. The key travels only in the `apikey` header; URLs, log lines,
exception texts and stats never contain it.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pyrate_limiter import Duration, Limiter, Rate
from tenacity import RetryCallState, Retrying, retry_if_exception

from smart_money.data.throttle import (
    BackoffAtLeastRetryAfter,
    PermitSource,
    SharedRateLimit,
    StopAfterBudget,
    retry_after_seconds,
    take_permit,
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


def backoff(config: FmpSettings) -> BackoffAtLeastRetryAfter:
    """The wait between attempts: exponential from `backoff_initial_s`, at least Retry-After."""
    return BackoffAtLeastRetryAfter(config.backoff_initial_s, config.backoff_max_s, config.retry_after_max_s)


def _is_rate_limit(error: BaseException | None) -> bool:
    return isinstance(error, FmpRateLimited)


_PARAMETER_PATTERN = re.compile(r"parameter\s*-\s*([A-Za-z_]+)")


def _error_message(payload: object) -> str | None:
    """The error text of a 200 body shaped `{"Error Message": ...}` or `{"error": ...}`."""
    if isinstance(payload, dict):
        for key in ("Error Message", "error", "message"):
            if key in payload and isinstance(payload[key], str) and len(payload) <= 2:
                return payload[key]
    return None


def _body_message(body: bytes, text: str) -> str:
    """The error text of a non-200 body: its "Error Message" when JSON, else the text."""
    try:
        return _error_message(json.loads(body)) or text
    except ValueError:
        return text


class FmpClient:
    """GET FMP JSON with rate limiting, retries and classified errors (thread-safe)."""

    def __init__(
        self,
        config: FmpSettings,
        api_key: str,
        transport: httpx.BaseTransport | None = None,
        rate_limit_file: Path | None = None,
    ):
        self.config = config
        self._api_key = api_key
        self.stats = CallStats()
        window_s = config.rate_period_s + max(config.rate_period_s * RATE_WINDOW_MARGIN, RATE_WINDOW_MARGIN_MIN_S)
        self.limiter: PermitSource = (
            SharedRateLimit(rate_limit_file, config.rate_limit, window_s)
            if rate_limit_file is not None
            else Limiter(Rate(config.rate_limit, int(Duration.SECOND * window_s)))
        )
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
            stop=StopAfterBudget(config.max_retries + 1, config.retry_budget_s, _is_rate_limit),
            wait=backoff(config),
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
        self.limiter.close()

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
        self.stats.add("retry_wait_ms", round(1000 * wait))
        logger.warning(
            "FMP %s (attempt %d), retrying in %.1fs", redact(str(error), self._api_key), state.attempt_number, wait
        )

    def _attempt(self, path: str, params: dict[str, object], symbol: str | None) -> list | dict:
        where = f"{path}?{'&'.join(f'{k}={v}' for k, v in params.items())}"
        take_permit(self.limiter, "fmp", self._permit_poll_s)
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
            return self._raise_for_message(_body_message(body, text), status, path, where, symbol, headers)
        if status >= 500:
            self.stats.add("server_errors")
            raise FmpTransientError(
                f"{status} server error on {where}", path, status, retry_after_seconds(headers.get("Retry-After"))
            )
        if status == 400:
            match = _PARAMETER_PATTERN.search(text)
            named = f" (parameter '{match.group(1)}')" if match else ""
            raise FmpQueryError(f"FMP rejected the query {where}{named}: {text[:300]}", path, status)
        return self._raise_for_message(_body_message(body, text), status, path, where, symbol, headers)

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
        if status == 429 or "limit reach" in lowered:
            self.stats.add("rate_limited")
            raise FmpRateLimited(
                f"rate limit ({status}) on {where}: {message[:200]}",
                path,
                status,
                retry_after_seconds(headers.get("Retry-After")),
            )
        if status == 200:
            raise FmpTransientError(f"error body from {where}: {message[:200]}", path, status)
        raise FmpError(f"{status} from {where}: {message[:200]}", path, status)
