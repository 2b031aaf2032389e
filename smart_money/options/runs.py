"""The engine's synthetic evaluation written to a file (what `smart-money options-eval` does)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from smart_money.options.engine.calibration import CALIBRATION_SEED, load_calibration
from smart_money.options.engine.rules import load_rules
from smart_money.options.evaluation import evaluate_synthetic


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def evaluate_to_file(out: Path, scenarios: int, seed: int, progress: Callable[[str], None] | None = None) -> dict:
    """Run the synthetic evaluation and write its metrics as JSON (`progress`: each step's end)."""
    rules = load_rules()
    calibration = load_calibration(rules)
    result = _plain(evaluate_synthetic(scenarios, seed, rules, calibration, progress))
    if seed == CALIBRATION_SEED:
        result["warning"] = f"seed {seed} is the calibration seed: calibration metrics are in-sample"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result
