"""The newest registry entry in a few lines: what `smart-money run` ends with (the CLI only renders
it). Read from the index and the version's metadata.json."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from smart_money.evaluation.gates import worlds
from smart_money.model.registry import REJECTED, Registry

# the config key of each gate whose key does not depend on the source (calibration's does)
GATE_SETTINGS = {
    "beats_baselines": "min_auc_margin",
    "no_overfit": "max_val_minus_test_auc",
    "no_leakage": "leakage_auc",
}
MORE_DATA = (
    "more data: a larger universe or a longer window, e.g. the `make run` defaults "
    "(SMART_MONEY_SYMBOLS=500, SMART_MONEY_START=2022-01 to the last complete month), whose model passes every gate"
)


@dataclass(frozen=True)
class GateResult:
    """A gate of the version: `setting` is its threshold's `registered_model` config key (None in
    versions registered before gates recorded it)."""

    name: str
    passed: bool
    detail: str
    value: float | None = None
    threshold: float | None = None
    setting: str | None = None

    @property
    def lower_bound(self) -> bool:
        """Whether the threshold is a minimum (beats_baselines' margin) rather than a maximum."""
        return self.setting == "min_auc_margin"

    def rule(self) -> str:
        """e.g. '0.0123, max 0.02' ('' when the value or threshold is unknown)."""
        if self.value is None or self.threshold is None:
            return ""
        return f"{self.value:.4f}, {'min' if self.lower_bound else 'max'} {self.threshold:g}"


@dataclass(frozen=True)
class ModelSummary:
    """`metrics`: test ROC AUC against the best baseline (and the oracles where the source has
    them), ECE and Brier skill; `independent_universes`: the same on unseen simulated worlds, when
    measured; `reasons`: why the version is not champion beyond its failed gates (which `gates`
    shows), e.g. not better than the champion."""

    version: str
    status: str
    metrics: str
    independent_universes: str | None
    gates: tuple[GateResult, ...]
    reasons: tuple[str, ...]
    report: str
    interval_notes: tuple[str, ...] = ()  # intervals over fewer than two sample dates (no gate reads them)


def latest_model_summary(registry: Registry) -> ModelSummary | None:
    """The newest registered version of `registry`, or None when nothing is registered."""
    versions = registry.index()["versions"]
    if not versions:
        return None
    entry = versions[-1]
    folder = registry.folder(entry["version"])
    metadata = json.loads((folder / "metadata.json").read_text())
    test = metadata["metrics"]["test"]
    notes = tuple(metadata.get("interval_notes", ()))
    best_name, best = max(((n, b["test_roc_auc"]) for n, b in metadata["baselines"].items()), key=lambda nb: nb[1])
    metrics = f"test ROC AUC {test['roc_auc']:.4f} (best baseline {best_name} {best:.4f}"
    if "oracle" in metadata:
        oracle = metadata["oracle"]
        metrics += (
            f"; oracle_public {oracle['public_test_roc_auc']:.4f}, oracle_truth {oracle['truth_test_roc_auc']:.4f}"
        )
    metrics += f"), ECE {test['ece']:.4f}, Brier skill {test['brier_skill']:+.4f}"
    independent = None
    if "independent_universe" in metadata:
        iu = metadata["independent_universe"]
        diff = iu["model_minus_public_auc"]
        degenerate = " (1 date: no interval)" if any(n.startswith("the independent") for n in notes) else ""
        independent = (
            f"independent universes ({worlds(iu['worlds'])}, {iu['n']:,} rows): AUC {iu['model_roc_auc']:.4f} vs "
            f"oracle_public {iu['oracle_public_roc_auc']:.4f} ({diff['difference']:+.4f} "
            f"[{diff['ci_low']:+.4f}, {diff['ci_high']:+.4f}]{degenerate}), ECE {iu['ece']:.4f}, "
            f"ECE vs oracle {iu['ece_vs_oracle_public']:.4f}"
        )
    return ModelSummary(
        version=entry["version"],
        status=entry["status"],
        metrics=metrics,
        independent_universes=independent,
        gates=tuple(
            GateResult(
                name,
                bool(gate["passed"]),
                gate["detail"],
                gate.get("value"),
                gate.get("threshold"),
                gate.get("setting", GATE_SETTINGS.get(name)),
            )
            for name, gate in metadata["gates"].items()
        ),
        reasons=tuple(r for r in entry["reasons"] if not r.startswith("gate ")),
        report=str(folder / "report.html"),
        interval_notes=notes,
    )


def ways_forward(summary: ModelSummary) -> list[str]:
    """What to do when the version was rejected (nothing otherwise): more data, or for a demo
    only, the failed gates' thresholds relaxed through the `registered_model` config (a YAML
    snippet for `smart-money run --config FILE`, values just past this version's)."""
    if summary.status != REJECTED:
        return []
    relaxed = {
        gate.setting: _past(gate)
        for gate in summary.gates
        if not gate.passed and gate.setting and gate.value is not None and gate.threshold is not None
    }
    steps = [MORE_DATA]
    if relaxed:
        snippet = ", ".join(f"{key}: {value:g}" for key, value in relaxed.items())
        steps.append(
            "for a demo only, relax the failed gates (docs/deployment.md#gates) in a YAML file passed with "
            f"`smart-money run --config FILE`: registered_model: {{{snippet}}}"
        )
    else:
        steps.append("for a demo only, relax the failed gates' thresholds: docs/deployment.md#gates names their keys")
    return steps


def _past(gate: GateResult) -> float:
    """A threshold this gate's value would pass, rounded outward to three decimals."""
    assert gate.value is not None
    if gate.lower_bound:
        return math.floor(gate.value * 1000) / 1000
    return math.ceil(gate.value * 1000) / 1000
