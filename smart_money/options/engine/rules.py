"""The versioned rules config (`options/config/rules-v*.json`): thresholds of reconstruction,
features and the six profiles, and the names of directions, penalties and suppressions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from smart_money.options.engine.event_features import FeatureConfig
from smart_money.options.engine.reconstruction import ReconstructionConfig

DIRECTIONS = ("bullish", "bearish", "neutral", "mixed", "unknown")
BULLISH, BEARISH, NEUTRAL, MIXED, UNKNOWN = range(5)
PENALTIES = (
    "stale_quotes", "low_coverage", "wide_option_spread", "retail_wide_spread", "wide_underlying_spread",
    "inside_market", "special_prints", "small_premium", "weak_direction", "retail_frenzy", "negotiated_block",
    "arbitrage_structure", "no_event", "spot_moving", "no_spot_context", "event_soon",
)  # fmt: skip
SUPPRESSIONS = (
    "stale_quotes", "low_coverage", "top_score_low", "fit_low", "evidence_low", "margin_low",
    "competing_profiles", "penalty_high", "calibration_disagrees",
)  # fmt: skip
DEFAULT_RULES = "rules-v2.json"  # rules-v1.json stays loadable (load_rules(path))


@dataclass(frozen=True)
class RulesConfig:
    """The one versioned threshold config (JSON next to this module)."""

    values: dict
    source: str

    @property
    def version(self) -> str:
        return self.values["version"]

    def reconstruction(self) -> ReconstructionConfig:
        return ReconstructionConfig(**self.values["reconstruction"])

    def features(self) -> FeatureConfig:
        return FeatureConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in self.values["features"].items()})

    def profile(self, name: str) -> dict:
        return self.values["profiles"][name]


def config_dir() -> Path:
    return Path(str(resources.files("smart_money.options") / "config"))


@lru_cache(maxsize=8)
def load_rules(path: str | None = None) -> RulesConfig:
    target = Path(path) if path else config_dir() / DEFAULT_RULES
    return RulesConfig(json.loads(target.read_text()), str(target))
