"""The launchpad configs and the core objects they build agree on every field and default, so
a run from the UI with an empty config is the same as the core's defaults."""

from __future__ import annotations

import dataclasses

import pytest

from smart_money.dataset.splits import SplitSpec
from smart_money.defs.dataset.config import SplitConfig
from smart_money.defs.model.config import EvaluationConfig, RegistryConfig, TrainModelConfig
from smart_money.evaluation.flow_evaluation import EvalConfig
from smart_money.evaluation.gates import GateConfig
from smart_money.model.flow_model import TrainConfig


@pytest.mark.parametrize(
    ("config", "core"), [(SplitConfig, SplitSpec), (EvaluationConfig, EvalConfig), (RegistryConfig, GateConfig)]
)
def test_derived_configs_have_the_core_fields_and_defaults(config, core):
    assert config().model_dump() == dataclasses.asdict(core())
    changed = {field.name: field.default for field in dataclasses.fields(core)}
    first = next(iter(changed))
    assert core(**config(**{first: changed[first]}).model_dump()) == core()


def test_an_edited_launchpad_value_reaches_the_core_object():
    assert SplitSpec(**SplitConfig(embargo_days=5).model_dump()).embargo_days == 5
    assert GateConfig(**RegistryConfig(min_auc_margin=0.0).model_dump()).min_auc_margin == 0.0


def test_training_options_default_to_the_core_training_config():
    assert TrainModelConfig().train_config() == TrainConfig()
    assert TrainModelConfig(num_leaves=15).train_config().params["num_leaves"] == 15
