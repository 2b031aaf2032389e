"""FMP failures, one class per row of the error catalogue (shared notes, data-sources.md §1.2).

Messages name the endpoint path and parameters but never the API key: the client only ever
sends the key as a header, and `redact` scrubs any `apikey=` that could come back in a body.
"""

from __future__ import annotations

import re

_APIKEY_PATTERN = re.compile(r"(apikey=)[^&\s\"']+", re.I)


def redact(text: str, secret: str | None = None) -> str:
    """`text` with any `apikey=...` and the secret itself replaced by `***`."""
    text = _APIKEY_PATTERN.sub(r"\1***", text)
    if secret:
        text = text.replace(secret, "***")
    return text


class FmpError(RuntimeError):
    """Base of every FMP failure; `endpoint` is the path without host or key."""

    retryable = False

    def __init__(self, message: str, endpoint: str = "", status: int | None = None):
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status


class FmpAuthError(FmpError):
    """401 (or a 200 saying so): the key is missing, wrong or revoked. Fails the run at once."""


class FmpPlanError(FmpError):
    """402: the plan does not cover this endpoint (`scope="endpoint"`) or this symbol
    (`scope="symbol"`). Recorded as a gap; the rest of the pull continues."""

    def __init__(self, message: str, endpoint: str, symbol: str | None, scope: str):
        super().__init__(message, endpoint, 402)
        self.symbol = symbol
        self.scope = scope


class FmpLegacyEndpointError(FmpError):
    """403 "Legacy Endpoint": keys created after 2025-08-31 cannot use /api/v3 or /api/v4."""


class FmpQueryError(FmpError):
    """400: a caller bug, the plain-text body names the parameter."""


class FmpTransientError(FmpError):
    """Worth retrying: 429, 5xx, timeouts, broken connections, truncated or error bodies."""

    retryable = True

    def __init__(self, message: str, endpoint: str = "", status: int | None = None, retry_after: float | None = None):
        super().__init__(message, endpoint, status)
        self.retry_after = retry_after


class FmpRateLimited(FmpTransientError):
    """429 (or a 200 'Limit Reach' body): wait Retry-After, then try again."""
