"""FMP settings from the environment (read when Definitions are built, never at import).

The key itself is not read here: the Dagster resource takes it from `FMP_API_KEY` through
`EnvVar` at run time, so it never lands in definitions, run config or the UI.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from smart_money.settings import SettingsError
from smart_money.sources.fmp.cache import DEFAULT_FINALIZED_TTL_DAYS, DEFAULT_TTL_DAYS, DiskCache
from smart_money.sources.fmp.client import APIS, DEFAULT_BASE_URL, PLAN_RATE_LIMIT_PER_MIN

API_KEY_VARIABLE = "FMP_API_KEY"


@dataclass(frozen=True)
class FmpSettings:
    base_url: str = DEFAULT_BASE_URL
    api: str = "stable"
    rate_limit: int = PLAN_RATE_LIMIT_PER_MIN  # FMP_RATE_LIMIT_PER_MIN
    rate_period_s: float = 60.0
    max_concurrency: int = 8
    timeout_s: float = 30.0
    max_retries: int = 6
    backoff_initial_s: float = 1.0
    cache_dir: Path | None = None  # None: <data dir>/cache/fmp
    cache_ttl_days: float = DEFAULT_TTL_DAYS
    finalized_ttl_days: float = DEFAULT_FINALIZED_TTL_DAYS
    index_etfs: tuple[str, ...] = ("SPY",)

    def cache_root(self, data_dir: Path) -> Path:
        """FMP_CACHE_DIR, else `<data dir>/cache/fmp`."""
        return self.cache_dir or Path(data_dir) / "cache" / "fmp"

    def disk_cache(self, data_dir: Path) -> DiskCache:
        return DiskCache(self.cache_root(data_dir), self.cache_ttl_days, self.finalized_ttl_days)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FmpSettings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}

        def number(variable: str, kind: type, field: str, minimum: float) -> None:
            text = env.get(variable, "").strip()
            if not text:
                return
            try:
                value = kind(text)
            except ValueError as exc:
                raise SettingsError(f"{variable}={text!r}: expected a {kind.__name__}") from exc
            if value < minimum:
                raise SettingsError(f"{variable}={text!r}: must be at least {minimum}")
            values[field] = value

        if text := env.get("FMP_BASE_URL", "").strip():
            if not text.startswith(("http://", "https://")):
                raise SettingsError(f"FMP_BASE_URL={text!r}: expected an http(s) URL")
            values["base_url"] = text.rstrip("/")
        if text := env.get("FMP_API", "").strip().lower():
            if text not in APIS:
                raise SettingsError(f"FMP_API={text!r}: choose one of {', '.join(APIS)}")
            values["api"] = text
        number("FMP_RATE_LIMIT_PER_MIN", int, "rate_limit", 1)
        number("FMP_RATE_LIMIT_PERIOD_S", float, "rate_period_s", 0.001)
        number("FMP_MAX_CONCURRENCY", int, "max_concurrency", 1)
        number("FMP_TIMEOUT_S", float, "timeout_s", 0.001)
        number("FMP_MAX_RETRIES", int, "max_retries", 0)
        number("FMP_BACKOFF_INITIAL_S", float, "backoff_initial_s", 0.0)
        number("FMP_CACHE_TTL_DAYS", float, "cache_ttl_days", 0)
        if text := env.get("FMP_CACHE_DIR", "").strip():
            values["cache_dir"] = Path(text).expanduser().resolve()
        if text := env.get("FMP_INDEX_ETFS", "").strip():
            values["index_etfs"] = tuple(t.strip().upper() for t in text.split(",") if t.strip())
        return cls(**values)  # type: ignore[arg-type]


def has_api_key(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return bool(env.get(API_KEY_VARIABLE, "").strip())
