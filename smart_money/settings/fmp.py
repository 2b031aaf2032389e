"""Financial Modeling Prep settings: the one FMP settings model (FMP_* variables).

The key is not part of it: `api_key()` reads FMP_API_KEY where a source is opened, and the Dagster
resource takes it through `EnvVar`, so it never lands in definitions, run config, reprs or the UI.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from smart_money.settings.run import SettingsError

API_KEY_VARIABLE = "FMP_API_KEY"
DEFAULT_BASE_URL = "https://financialmodelingprep.com"
APIS = ("stable", "legacy")
PLAN_RATE_LIMIT_PER_MIN = 300  # Starter plan (notes/data-sources.md §1.1)
DEFAULT_TTL_DAYS = 7.0
DEFAULT_FINALIZED_TTL_DAYS = 365.0
RATE_LIMIT_FILE = ".rate-limit.sqlite"  # in the cache folder (dot files are not cache entries)

# variable -> (field, type, minimum) for the numeric settings
_NUMBERS: dict[str, tuple[str, type, float]] = {
    "FMP_RATE_LIMIT_PER_MIN": ("rate_limit", int, 1),
    "FMP_RATE_LIMIT_PERIOD_S": ("rate_period_s", float, 0.001),
    "FMP_MAX_CONCURRENCY": ("max_concurrency", int, 1),
    "FMP_TIMEOUT_S": ("timeout_s", float, 0.001),
    "FMP_MAX_RETRIES": ("max_retries", int, 0),
    "FMP_RETRY_BUDGET_S": ("retry_budget_s", float, 0),
    "FMP_BACKOFF_INITIAL_S": ("backoff_initial_s", float, 0.0),
    "FMP_CACHE_TTL_DAYS": ("cache_ttl_days", float, 0),
}


@dataclass(frozen=True)
class FmpSettings:
    """How to reach FMP and cache its answers. `rate_limit` requests per `rate_period_s` seconds
    (a sliding window; FMP plans count per minute); `max_concurrency` requests in flight."""

    base_url: str = DEFAULT_BASE_URL
    api: str = "stable"
    rate_limit: int = PLAN_RATE_LIMIT_PER_MIN
    rate_period_s: float = 60.0
    max_concurrency: int = 8
    timeout_s: float = 30.0
    max_retries: int = 6  # attempts after the first, for failures other than rate limits
    retry_budget_s: float = 300.0  # how long one call may keep retrying (rate limits: only this)
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    retry_after_max_s: float = 120.0
    cache_dir: Path | None = None  # None: <data dir>/cache/fmp
    cache_ttl_days: float = DEFAULT_TTL_DAYS
    finalized_ttl_days: float = DEFAULT_FINALIZED_TTL_DAYS
    index_etfs: tuple[str, ...] = ("SPY",)

    def __post_init__(self) -> None:
        if self.api not in APIS:
            raise SettingsError(f"FMP_API={self.api!r}: choose one of {', '.join(APIS)}")
        if not self.base_url.startswith(("http://", "https://")):
            raise SettingsError(f"FMP_BASE_URL={self.base_url!r}: expected an http(s) URL")
        if self.rate_limit < 1 or self.rate_period_s <= 0:
            raise SettingsError("FMP_RATE_LIMIT_PER_MIN: the rate limit must be at least one request per period")
        if self.max_concurrency < 1:
            raise SettingsError("FMP_MAX_CONCURRENCY must be at least 1")

    def cache_root(self, data_dir: Path) -> Path:
        """FMP_CACHE_DIR, else `<data dir>/cache/fmp`."""
        return self.cache_dir or Path(data_dir) / "cache" / "fmp"

    def rate_limit_file(self, data_dir: Path) -> Path:
        """The SQLite file of the rate window every process using this cache shares."""
        return self.cache_root(data_dir) / RATE_LIMIT_FILE

    def to_env(self) -> dict[str, str]:
        """The FMP_* variables that rebuild these settings with from_env (no key among them)."""
        values = asdict(self)
        env = {variable: str(values[name]) for variable, (name, _, _) in _NUMBERS.items()}
        env |= {"FMP_BASE_URL": self.base_url, "FMP_API": self.api, "FMP_INDEX_ETFS": ",".join(self.index_etfs)}
        if self.cache_dir is not None:
            env["FMP_CACHE_DIR"] = str(self.cache_dir)
        return env

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FmpSettings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for variable, (name, kind, minimum) in _NUMBERS.items():
            text = env.get(variable, "").strip()
            if not text:
                continue
            try:
                value = kind(text)
            except ValueError as exc:
                raise SettingsError(
                    f"{variable}={text!r}: expected a{'n' if kind is int else ''} "
                    f"{'integer' if kind is int else 'number'}"
                ) from exc
            if value < minimum:
                raise SettingsError(f"{variable}={text!r}: must be at least {minimum}")
            values[name] = value
        if text := env.get("FMP_BASE_URL", "").strip():
            values["base_url"] = text.rstrip("/")
        if text := env.get("FMP_API", "").strip().lower():
            values["api"] = text
        if text := env.get("FMP_CACHE_DIR", "").strip():
            values["cache_dir"] = Path(text).expanduser().resolve()
        if text := env.get("FMP_INDEX_ETFS", "").strip():
            values["index_etfs"] = tuple(t.strip().upper() for t in text.split(",") if t.strip())
        return cls(**values)  # type: ignore[arg-type]


def api_key(environ: Mapping[str, str] | None = None) -> str | None:
    """FMP_API_KEY, or None when it is unset or empty."""
    env = os.environ if environ is None else environ
    return env.get(API_KEY_VARIABLE, "").strip() or None


def require_api_key(environ: Mapping[str, str] | None = None) -> str:
    key = api_key(environ)
    if key is None:
        raise SettingsError(
            f"SMART_MONEY_SOURCE=fmp needs {API_KEY_VARIABLE}: set it to your Financial Modeling Prep API key"
        )
    return key
