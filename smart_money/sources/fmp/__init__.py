"""Financial Modeling Prep: HTTP client, disk cache, endpoint fetchers and the FMP source."""

from smart_money.sources.fmp.cache import DiskCache, cache_key
from smart_money.sources.fmp.client import FmpClient
from smart_money.sources.fmp.errors import (
    FmpAuthError,
    FmpError,
    FmpLegacyEndpointError,
    FmpPlanError,
    FmpQueryError,
    FmpRateLimited,
    FmpTransientError,
)
from smart_money.sources.fmp.source import FmpSource

__all__ = [
    "DiskCache",
    "FmpAuthError",
    "FmpClient",
    "FmpError",
    "FmpLegacyEndpointError",
    "FmpPlanError",
    "FmpQueryError",
    "FmpRateLimited",
    "FmpSource",
    "FmpTransientError",
    "cache_key",
]
