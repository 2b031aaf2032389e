"""Launchpad configs of the model group: evaluation and gates derived from the core
dataclasses; training options as a flat view of TrainConfig (a test keeps their defaults equal)."""

from __future__ import annotations

import dagster as dg

from smart_money.evaluation.flow_evaluation import EvalConfig
from smart_money.evaluation.gates import GateConfig
from smart_money.model.flow_model import PLAN_PARAMS, TrainConfig
from smart_money.orchestration.config import launchpad_config


class TrainModelConfig(dg.Config):
    """Training options (defaults: the plan's LightGBM parameters, unweighted, calibrated)."""

    calibration: str = "anchored_platt"  # anchored_platt | platt | isotonic | none
    class_weight: str | None = None
    use_prior: bool = True
    learning_rate: float = PLAN_PARAMS["learning_rate"]
    num_leaves: int = PLAN_PARAMS["num_leaves"]
    n_estimators: int = PLAN_PARAMS["n_estimators"]
    min_child_samples: int = PLAN_PARAMS["min_child_samples"]
    search: bool = False  # grid search over the classifier's parameters (walk-forward CV, purged)
    winsorize: float | None = None  # e.g. 0.01: clip inputs to the training 1st/99th percentiles

    def train_config(self) -> TrainConfig:
        params = {
            **PLAN_PARAMS,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "n_estimators": self.n_estimators,
            "min_child_samples": self.min_child_samples,
        }
        return TrainConfig(
            params=params,
            calibration=self.calibration,
            class_weight=self.class_weight,
            use_prior=self.use_prior,
            winsorize=self.winsorize,
        )


EvaluationConfig = launchpad_config(
    EvalConfig,
    "EvaluationConfig",
    "Evaluation options (evaluation.flow_evaluation.EvalConfig): bootstrap draws, walk-forward folds, and on "
    "the simulated source the independent universes scored out of sample.",
)
RegistryConfig = launchpad_config(
    GateConfig,
    "RegistryConfig",
    "Publication gates (evaluation.gates.GateConfig): a candidate failing any is registered as rejected.",
)
