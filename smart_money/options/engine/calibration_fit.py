"""Fitting the per-profile isotonic calibrators (scikit-learn); applying them is `calibration`."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression

from smart_money.options.engine.calibration import MIN_POSITIVES
from smart_money.options.engine.contracts import PROFILES
from smart_money.options.engine.rules import RulesConfig


def fit_calibration(scored: pd.DataFrame, truth: pd.Series, rules: RulesConfig, provenance: dict) -> dict:
    """Isotonic maps per profile from raw scores of `scored` and the true profile per event
    (`truth`, aligned; None/'' for events of no profile). Returns the JSON payload."""
    profiles: dict[str, dict] = {}
    labels = truth.fillna("").to_numpy()
    for p in PROFILES:
        raw = scored[f"{p}__raw"].to_numpy(dtype=float)
        y = (labels == p).astype(float)
        positives = int(y.sum())
        if positives < MIN_POSITIVES:
            profiles[p] = {"positives": positives, "raw": [], "probability": []}
            continue
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y)
        # the top plateau's support: how many calibration events its probability rests on
        top = raw >= iso.X_thresholds_[int(np.argmax(iso.y_thresholds_))]
        profiles[p] = {
            "positives": positives,
            "events": len(y),
            "raw": [round(float(x), 8) for x in iso.X_thresholds_],
            "probability": [round(float(v), 8) for v in iso.y_thresholds_],
            "top": {"events": int(top.sum()), "positives": int(y[top].sum())},
        }
    return {
        "version": f"{rules.version}+iso-{provenance.get('seed')}",
        "rules_version": rules.version,
        "method": "isotonic (scikit-learn), per profile, raw score -> P(true profile)",
        "fitted_on": provenance,
        "profiles": profiles,
    }
