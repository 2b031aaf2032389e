"""Per-profile calibration of raw rule scores into probabilities.

For each profile an isotonic regression (scikit-learn) maps the raw score to the observed
frequency of "this event really is that profile" on a labelled history (the synthetic market,
drawn with a seed different from any evaluation). The fitted breakpoints are stored as JSON
next to the rules config (`config/calibration-v*.json`), never pickled, and applied with linear
interpolation. A profile with fewer than MIN_POSITIVES labelled positives stays uncalibrated.
Fitting (scikit-learn) lives in `calibration_fit`, so applying a calibration imports no sklearn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.stats import binomtest

from smart_money.options.engine.rules import RulesConfig, config_dir

MIN_POSITIVES = 300
CALIBRATION_SEED = 20_240_601  # the evaluation defaults to other seeds; options-eval warns on reuse
CALIBRATION_SCENARIOS = 6_000
CONFIDENCE = 0.95
SYNTHETIC_SOURCE = "smart_money.options.market.synthetic"


@dataclass(frozen=True)
class TopStep:
    """The highest step of a profile's isotonic map and the calibration events it rests on.

    On the synthetic market the families are separable, so the top step is often 1.0: every
    calibration event that scored that high was the profile. That is a count, not a certainty;
    `lower` is the exact (Clopper-Pearson) 95 % lower bound of the step's true rate, the most a
    probability on the top step can honestly claim."""

    probability: float
    events: int
    positives: int

    @property
    def lower(self) -> float:
        return float(binomtest(self.positives, self.events).proportion_ci(CONFIDENCE, method="exact").low)

    def label(self) -> str:
        """How a probability on this step is shown: '> 99.4 %' (the bound, rounded down)."""
        return f"> {np.floor(1000 * self.lower) / 10:.1f} %"


@dataclass(frozen=True)
class Calibration:
    """Per-profile monotone maps raw score -> probability (isotonic breakpoints)."""

    version: str
    points: dict[str, tuple[list[float], list[float]]]
    tops: dict[str, TopStep] = field(default_factory=dict)
    source: str = ""  # what the calibration was fitted on (fitted_on.source)
    events: int | None = None  # how many calibration events (fitted_on.events)

    @property
    def synthetic(self) -> bool:
        return self.source.startswith(SYNTHETIC_SOURCE)

    def apply(self, profile: str, raw: np.ndarray) -> np.ndarray:
        if profile not in self.points:
            return raw
        xs, ys = self.points[profile]
        return np.interp(raw, xs, ys)


UNCALIBRATED = Calibration("uncalibrated", {})


def calibration_path(rules: RulesConfig) -> Path:
    return config_dir() / f"calibration-{rules.version}.json"


def load_calibration(rules: RulesConfig, path: Path | None = None) -> Calibration:
    target = path or calibration_path(rules)
    if not target.exists():
        return UNCALIBRATED
    payload = json.loads(target.read_text())
    if payload["rules_version"] != rules.version:
        raise ValueError(f"{target} was fitted for rules {payload['rules_version']}, not {rules.version}")
    points = {p: (v["raw"], v["probability"]) for p, v in payload["profiles"].items() if v.get("raw")}
    tops = {
        p: TopStep(max(v["probability"]), v["top"]["events"], v["top"]["positives"])
        for p, v in payload["profiles"].items()
        if v.get("raw") and v.get("top", {}).get("events")
    }
    fitted_on = payload.get("fitted_on", {})
    return Calibration(payload["version"], points, tops, fitted_on.get("source", ""), fitted_on.get("events"))


def write_calibration(payload: dict, rules: RulesConfig, path: Path | None = None) -> Path:
    target = path or calibration_path(rules)
    target.write_text(json.dumps(payload, indent=1) + "\n")
    return target
