"""The flow model's id and artifact files: what the registry needs without importing the model
(and LightGBM) itself, so `smart-money models list` answers at once."""

from __future__ import annotations

MODEL_ID = "smart_money_flow"
MODEL_ARTIFACTS = ("model.txt", "volatility_model.txt", "normalizer.json", "calibrator.json", "prior.json")
