"""What the CLI commands do, without the command line: score files, evaluate to a file."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import numpy as np

from smart_money.options.engine.batch import (
    score_frames,
    smart_money_events,
    storage_rows,
    to_json_lines,
)
from smart_money.options.engine.calibration import CALIBRATION_SEED, load_calibration
from smart_money.options.engine.frames import NormalizedTape
from smart_money.options.engine.rules import load_rules
from smart_money.options.evaluation import evaluate_synthetic
from smart_money.options.store import EventStore, describe_url
from smart_money.settings import Settings
from smart_money.settings.options import OptionsSettings


def score_files(
    prints: Path,
    quotes: Path,
    out: Path,
    underlying: Path | None = None,
    calendar: Path | None = None,
    settings: Settings | None = None,
) -> dict:
    """Score the files, write SmartMoneyEvents as JSON lines to `out`; with `settings`, also
    insert them into the configured store. Returns a summary."""
    rules = load_rules()
    tape = NormalizedTape.from_files(prints, quotes, underlying, calendar)
    batch = score_frames(tape.prints, tape.quotes, tape.underlying, tape.calendar, rules, load_calibration(rules))
    events = batch.with_membership()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(to_json_lines(smart_money_events(events, rules)))
    summary = {
        "prints": len(tape.prints),
        "events": len(events),
        "by_profile": dict(Counter(events["primary_profile_id"].fillna("(abstained)")).most_common()),
        "dropped": batch.reconstruction.dropped,
    }
    if settings is not None:
        url = OptionsSettings.from_env().store_url(settings.data_dir)
        with EventStore(url) as store:
            summary["stored"] = store.insert(storage_rows(events, rules, run_mode="replay"))
        summary["store"] = describe_url(url)
    return summary


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


def evaluate_to_file(out: Path, scenarios: int, seed: int) -> dict:
    """Run the synthetic evaluation and write its metrics as JSON."""
    rules = load_rules()
    calibration = load_calibration(rules)
    result = _plain(evaluate_synthetic(scenarios, seed, rules, calibration))
    if seed == CALIBRATION_SEED:
        result["warning"] = f"seed {seed} is the calibration seed: calibration metrics are in-sample"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result
