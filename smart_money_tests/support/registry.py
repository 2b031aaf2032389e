"""A model registry written by hand (index and metadata.json, no model files): for what reads a
registry without loading a model (version names, the run's closing summary, `models list`)."""

from __future__ import annotations

import json
from pathlib import Path

from smart_money.model.registry import Registry


def metadata_for(version: str, status: str, auc: float = 0.61) -> dict:
    """The parts of a version's metadata.json that summaries read."""
    return {
        "version": version,
        "status": status,
        "metrics": {"test": {"roc_auc": auc, "ece": 0.012, "brier_skill": 0.034}},
        "baselines": {"volatility_20d": {"test_roc_auc": 0.55}, "base_rate": {"test_roc_auc": 0.5}},
        "gates": {
            "beats_baselines": {"passed": True, "detail": "0.61 > 0.55 [bootstrap]"},
            "calibration": {"passed": status != "rejected", "detail": "ECE 0.012 <= 0.05"},
        },
    }


def write_registry(models_dir: Path, statuses: dict[str, str], metadata: dict[str, dict] | None = None) -> Registry:
    """A registry whose versions (in order) have the given statuses; `metadata` replaces a
    version's default metadata.json."""
    registry = Registry(models_dir)
    versions = []
    for version, status in statuses.items():
        meta = (metadata or {}).get(version) or metadata_for(version, status)
        registry.folder(version).mkdir(parents=True, exist_ok=True)
        (registry.folder(version) / "metadata.json").write_text(json.dumps(meta))
        versions.append(
            {
                "version": version,
                "status": status,
                "created_at": "2026-01-02T03:04:05+00:00",
                "metrics": {"roc_auc": meta["metrics"]["test"]["roc_auc"], "ece": meta["metrics"]["test"]["ece"]},
                "gates": {name: gate["passed"] for name, gate in meta["gates"].items()},
                "reasons": ["gate calibration: ECE too high [0.2]"] if status == "rejected" else [],
                "sha256": {},
            }
        )
    champion = next((v for v, s in statuses.items() if s == "champion"), None)
    index = {"model_id": "smart_money_flow", "champion": champion, "versions": versions, "champion_history": []}
    registry.index_path.write_text(json.dumps(index))
    return registry
