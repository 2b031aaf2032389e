"""The prediction service (no web framework inside): the registry's champion model applied to
point-in-time features, read through `rules.py`, with a cache and recorded latencies.

Where the inputs come from:
- by default every model input (the plan's 27 smart-money features, the price context and the
  missingness indicators) comes from the configured source as of the date's close
  (`features.FeatureProvider`, the same computation as the `features` asset);
- when the caller sends the 27 smart-money features, those replace the source's, the source
  still supplies the price context (the model's volatility prior needs it), and each source's
  missingness indicator is derived from the caller's values (1 when every feature of that
  family is null, as a missing source would leave them).

Cache: (symbol, date, model version) -> response, plus a digest of the caller's features when
given; entries live as long as the Cache-Control max-age the API sends.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
from cachetools import TTLCache

from smart_money.dataset.catalogue import BY_NAME, PLAN_FEATURES
from smart_money.model.flow_model import FlowModel
from smart_money.model.registry import Registry, RegistryError, TamperedArtifact
from smart_money.model.safe_load import UnloadableModel, load_checked
from smart_money.serve import rules
from smart_money.serve.feature_provider import (
    DayFeatures,
    FeatureProvider,
    FeaturesUnavailable,
    InvalidDate,
    resolve_day,
)

CACHE_TTL_S = 300  # = the Cache-Control max-age of prediction responses
CACHE_SIZE = 50_000
LATENCY_WINDOW = 10_000
FAMILY_INDICATOR = {
    "insider": "insider_missing",
    "institutional": "institutional_missing",
    "congress": "congress_missing",
    "etf": "etf_missing",
}


class PredictionError(Exception):
    """An error whose message is safe to show to the caller, with its HTTP status."""

    status = 500


class InvalidRequest(PredictionError):
    status = 400


class ImpossibleDate(PredictionError):
    """A date that cannot have features: not a session, before the data, after the latest close."""

    status = 422


class UnknownSymbol(PredictionError):
    status = 404


class Unavailable(PredictionError):
    """The model or the data cannot be had right now (retrying later may help)."""

    status = 503


@dataclass(frozen=True)
class LoadedModel:
    version: str
    model: FlowModel
    metadata: dict

    @property
    def info(self) -> dict:
        """{version, accuracy, roc_auc} on the model's registered test split (accuracy at 0.5 is
        reported because the plan asks for it; at a ~25 % base rate it says little)."""
        test = self.metadata.get("metrics", {}).get("test", {})
        return {
            "version": self.version,
            "accuracy": _plain(test.get("accuracy")),
            "roc_auc": _plain(test.get("roc_auc")),
        }


class ChampionModel:
    """The registry's champion, loaded once (sha256-verified, its LightGBM texts parsed in a
    child process first: model/safe_load.py) and reloaded when registry.json names another
    champion (promote, rollback, a new run). A corrupt registry.json or an unloadable model is
    `Unavailable` (503) with a message naming the file; the process stays up."""

    def __init__(self, registry: Registry):
        self.registry = registry
        self._loaded: LoadedModel | None = None
        self._stamp: int | None = None
        self._lock = threading.Lock()

    def get(self) -> LoadedModel:
        try:
            stamp = self.registry.index_path.stat().st_mtime_ns
        except FileNotFoundError:
            raise Unavailable("no model is registered yet: run `smart-money run` to train and register one") from None
        if self._loaded is not None and stamp == self._stamp:
            return self._loaded
        with self._lock:
            try:
                index = self.registry.index()
            except RegistryError as exc:  # a corrupt registry.json: the message names it
                raise Unavailable(f"{exc}; no model can be served until it is repaired") from None
            champion = index.get("champion")
            if not champion:
                raise Unavailable(
                    "the registry has no champion model (every version was rejected by its gates; see `smart-money "
                    "models list`)"
                )
            if self._loaded is None or self._loaded.version != champion:
                try:
                    model, metadata = load_checked(self.registry, champion)
                except UnloadableModel as exc:
                    raise Unavailable(f"champion model v{champion} could not be loaded: {exc}") from None
                except (TamperedArtifact, RegistryError, OSError, ValueError) as exc:
                    raise Unavailable(
                        f"champion model v{champion} could not be loaded: its files failed verification "
                        f"({type(exc).__name__})"
                    ) from exc
                self._loaded = LoadedModel(champion, model, metadata)
            self._stamp = stamp
            return self._loaded


@dataclass(frozen=True)
class Query:
    symbol: str
    features: tuple[float | None, ...] | None = None  # the plan's 27, in PLAN_FEATURES order

    def digest(self) -> str | None:
        if self.features is None:
            return None
        return hashlib.blake2b(repr(self.features).encode(), digest_size=12).hexdigest()


@dataclass
class LatencyLog:
    """Recent latencies of prediction calls (milliseconds): calls that ran the model and calls
    answered from the cache alone, kept apart."""

    computed: deque = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW))
    cached: deque = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW))
    counts: dict[str, int] = field(default_factory=lambda: {"predictions": 0, "cache_hits": 0, "errors": 0})

    def summary(self) -> dict:
        def pct(values: deque) -> dict:
            if not values:
                return {"n": 0}
            arr = np.fromiter(values, float)
            return {
                "n": len(arr),
                "p50_ms": round(float(np.percentile(arr, 50)), 3),
                "p95_ms": round(float(np.percentile(arr, 95)), 3),
                "p99_ms": round(float(np.percentile(arr, 99)), 3),
            }

        return {**self.counts, "computed": pct(self.computed), "cached": pct(self.cached)}


def _plain(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


class PredictionService:
    def __init__(
        self,
        models: ChampionModel,
        features: FeatureProvider,
        cache_ttl_s: float = CACHE_TTL_S,
        cache_size: int = CACHE_SIZE,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.models = models
        self.features = features
        self.now = now
        self.latency = LatencyLog()
        self._cache: TTLCache = TTLCache(cache_size, cache_ttl_s) if cache_size > 0 else None  # type: ignore[assignment]
        self._lock = threading.Lock()

    # -- inputs ------------------------------------------------------------------------------
    def day(self, requested: date | None) -> pd.Timestamp:
        """The session a request is served as of (422 for dates that cannot have features,
        before any work starts)."""
        try:
            return resolve_day(requested, self.now(), getattr(self.features, "first_day", None))
        except InvalidDate as exc:
            raise ImpossibleDate(str(exc)) from None

    def day_features(self, day: pd.Timestamp) -> DayFeatures:
        try:
            return self.features.get(day)
        except FeaturesUnavailable as exc:
            raise Unavailable(str(exc)) from None

    async def aday_features(
        self, day: pd.Timestamp, disconnected: Callable[[], Awaitable[bool]] | None = None
    ) -> DayFeatures:
        """The day's features for a request (`disconnected`: whether its client went away, so
        that nobody waits for work nobody wants)."""
        try:
            return await self.features.aget(day, disconnected)
        except FeaturesUnavailable as exc:
            raise Unavailable(str(exc)) from None

    # -- predictions ---------------------------------------------------------------------------
    def predict(self, queries: Sequence[Query], data: DayFeatures) -> list[dict | PredictionError]:
        """One response (or error) per query, in order; the uncached ones in one model call."""
        started = time.perf_counter()
        loaded = self.models.get()
        results: list[dict | PredictionError | None] = [None] * len(queries)
        pending: list[int] = []
        day_key = f"{data.day:%Y-%m-%d}"
        for i, query in enumerate(queries):
            key = (query.symbol, day_key, loaded.version, query.digest())
            hit = self._cache_get(key)
            if hit is not None:
                results[i] = {**hit, "cached": True}
                continue
            error = self._check(query, data)
            if error is not None:
                results[i] = error
            else:
                pending.append(i)
        if pending:
            computed = self._compute([queries[i] for i in pending], data, loaded)
            for i, response in zip(pending, computed):
                results[i] = response
                self._cache_put((queries[i].symbol, day_key, loaded.version, queries[i].digest()), response)
        elapsed_ms = (time.perf_counter() - started) * 1e3
        stamp = self.now().isoformat(timespec="milliseconds").replace("+00:00", "Z")
        out: list[dict | PredictionError] = []
        with self._lock:
            # one latency per call: a call that ran the model counts as computed
            (self.latency.computed if pending else self.latency.cached).append(elapsed_ms)
            for result in results:
                assert result is not None
                if isinstance(result, PredictionError):
                    self.latency.counts["errors"] += 1
                    out.append(result)
                    continue
                self.latency.counts["predictions"] += 1
                self.latency.counts["cache_hits"] += int(bool(result.get("cached")))
                out.append({**result, "timestamp": stamp, "latency_ms": round(elapsed_ms, 3)})
        return out

    def _check(self, query: Query, data: DayFeatures) -> PredictionError | None:
        if not data.has(query.symbol):
            return UnknownSymbol(
                f"unknown symbol {query.symbol}: not in the configured {data.source} universe on {data.day:%Y-%m-%d}"
            )
        if data.frame.at[query.symbol, "prices_missing"] == 1:
            return UnknownSymbol(
                f"{query.symbol} has no close on {data.day:%Y-%m-%d} or fewer than 20 sessions of price history "
                "before it"
            )
        if query.features is None and data.smart_money_error:
            return Unavailable(
                f"smart-money features for {data.day:%Y-%m-%d} are unavailable: {data.smart_money_error}; send the "
                "27 features to predict from the price context alone"
            )
        return None

    def _inputs(self, queries: Sequence[Query], data: DayFeatures) -> pd.DataFrame:
        frame = data.inputs([q.symbol for q in queries])
        for i, query in enumerate(queries):
            if query.features is None:
                continue
            values = np.array([np.nan if v is None else v for v in query.features], dtype=float)
            frame.loc[i, list(PLAN_FEATURES)] = values
            for family, indicator in FAMILY_INDICATOR.items():
                members = [j for j, name in enumerate(PLAN_FEATURES) if BY_NAME[name].family == family]
                frame.loc[i, indicator] = float(np.isnan(values[members]).all())
        return frame

    def _compute(self, queries: Sequence[Query], data: DayFeatures, loaded: LoadedModel) -> list[dict]:
        inputs = self._inputs(queries, data)
        scored = loaded.model.predict_frame(inputs)
        probability = scored["probability"].to_numpy()
        if "prior" in scored:
            neutral = loaded.model.calibrator.apply(scored["prior"].to_numpy())
        else:  # a model trained without the volatility prior: the registered test base rate
            neutral = np.full(len(scored), float(loaded.metadata["metrics"]["test"]["base_rate"]))
        plan = inputs[list(PLAN_FEATURES)].to_numpy()
        out = []
        for i, query in enumerate(queries):
            features = {name: _plain(v) for name, v in zip(PLAN_FEATURES, plan[i])}
            reading = rules.conviction(float(probability[i]), float(neutral[i]))
            signals = rules.signals(features)
            excluded = data.frame.at[query.symbol, "excluded_reason"] if "excluded_reason" in data.frame else ""
            out.append(
                {
                    "symbol": query.symbol,
                    "as_of": f"{data.day:%Y-%m-%d}",
                    "predicted_conviction": reading.predicted_conviction,
                    "conviction_score": reading.conviction_score,
                    "confidence": reading.confidence,
                    "probability": round(float(probability[i]), 6),
                    "neutral_probability": round(float(neutral[i]), 6),
                    "features": features,
                    "signals": {name: s.value for name, s in signals.items()},
                    "signal_reasons": {name: s.reason for name, s in signals.items()},
                    "model": loaded.info,
                    "feature_source": "request" if query.features is not None else data.source,
                    "universe_note": f"outside the model's training universe on this date ({excluded})"
                    if isinstance(excluded, str) and excluded
                    else "",
                    "cached": False,
                }
            )
        return out

    # -- cache ----------------------------------------------------------------------------------
    def _cache_get(self, key: tuple) -> dict | None:
        if self._cache is None:
            return None
        with self._lock:
            return self._cache.get(key)

    def _cache_put(self, key: tuple, value: dict) -> None:
        if self._cache is None:
            return
        with self._lock:
            self._cache[key] = value

    def stats(self) -> dict:
        with self._lock:
            summary = self.latency.summary()
            summary["cache_entries"] = len(self._cache) if self._cache is not None else 0
        summary["feature_dates_computed"] = self.features.computed
        summary["feature_dates_from_asset"] = getattr(self.features, "materialized", 0)
        summary["feature_dates_pending"] = self.features.pending() if hasattr(self.features, "pending") else 0
        return summary
