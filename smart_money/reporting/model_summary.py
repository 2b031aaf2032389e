"""The newest registry entry in a few lines: what `smart-money run` ends with (the CLI only renders
it). Read from the index and the version's metadata.json."""

from __future__ import annotations

import json
from dataclasses import dataclass

from smart_money.model.registry import Registry


@dataclass(frozen=True)
class GateResult:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class ModelSummary:
    """`metrics`: test ROC AUC against the best baseline (and the oracles where the source has
    them), ECE and Brier skill; `independent_universes`: the same on unseen simulated worlds, when
    measured; `reasons`: why the version is not champion, if it is not."""

    version: str
    status: str
    metrics: str
    independent_universes: str | None
    gates: tuple[GateResult, ...]
    reasons: tuple[str, ...]
    report: str


def latest_model_summary(registry: Registry) -> ModelSummary | None:
    """The newest registered version of `registry`, or None when nothing is registered."""
    versions = registry.index()["versions"]
    if not versions:
        return None
    entry = versions[-1]
    folder = registry.folder(entry["version"])
    metadata = json.loads((folder / "metadata.json").read_text())
    test = metadata["metrics"]["test"]
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
        independent = (
            f"independent universes ({iu['worlds']} worlds, {iu['n']:,} rows): AUC {iu['model_roc_auc']:.4f} vs "
            f"oracle_public {iu['oracle_public_roc_auc']:.4f} ({diff['difference']:+.4f} "
            f"[{diff['ci_low']:+.4f}, {diff['ci_high']:+.4f}]), ECE {iu['ece']:.4f}, "
            f"ECE vs oracle {iu['ece_vs_oracle_public']:.4f}"
        )
    return ModelSummary(
        version=entry["version"],
        status=entry["status"],
        metrics=metrics,
        independent_universes=independent,
        gates=tuple(GateResult(name, bool(gate["passed"]), gate["detail"]) for name, gate in metadata["gates"].items()),
        reasons=tuple(entry["reasons"]),
        report=str(folder / "report.html"),
    )
