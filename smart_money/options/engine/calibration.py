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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from smart_money.options.engine.rules import RulesConfig, config_dir

MIN_POSITIVES = 300
CALIBRATION_SEED = 20_240_601  # the evaluation defaults to other seeds; options-eval warns on reuse
CALIBRATION_SCENARIOS = 6_000


@dataclass(frozen=True)
class Calibration:
    """Per-profile monotone maps raw score -> probability (isotonic breakpoints)."""

    version: str
    points: dict[str, tuple[list[float], list[float]]]

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
    return Calibration(payload["version"], points)


def write_calibration(payload: dict, rules: RulesConfig, path: Path | None = None) -> Path:
    target = path or calibration_path(rules)
    target.write_text(json.dumps(payload, indent=1) + "\n")
    return target
