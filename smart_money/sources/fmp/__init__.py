"""Financial Modeling Prep: HTTP client, disk cache, endpoint fetchers and the FMP source."""

from smart_money.sources.fmp.cache import DiskCache, cache_key
from smart_money.sources.fmp.client import FmpClient, FmpConfig
from smart_money.sources.fmp.config import FmpSettings
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
    "FmpConfig",
    "FmpError",
    "FmpLegacyEndpointError",
    "FmpPlanError",
    "FmpQueryError",
    "FmpRateLimited",
    "FmpSettings",
    "FmpSource",
    "FmpTransientError",
    "cache_key",
]
