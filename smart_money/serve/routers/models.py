"""The model registry as the service sees it: every version, the champion and its history."""

from __future__ import annotations

import json

from fastapi import APIRouter, Response

from smart_money.model.registry import Registry
from smart_money.serve.dependencies import Service

REGISTRY_MAX_AGE_S = 60

router = APIRouter(tags=["registry"])


def listing(registry: Registry) -> dict:
    """The registry index for the API: each version without its file hashes and feature list,
    with the gates of its metadata.json (value, threshold, detail) where that file exists."""
    index = registry.index()
    versions = []
    for entry in index["versions"]:
        metadata_path = registry.folder(entry["version"]) / "metadata.json"
        gates = json.loads(metadata_path.read_text()).get("gates", {}) if metadata_path.exists() else {}
        versions.append(
            {k: v for k, v in entry.items() if k not in ("sha256", "features")} | {"gates": gates or entry["gates"]}
        )
    return {
        "model_id": index["model_id"],
        "champion": index["champion"],
        "versions": versions,
        "champion_history": index["champion_history"],
    }


@router.get("/api/ml/models")
async def models(response: Response, service: Service) -> dict:
    """The registry: every version with status, test metrics, gates (value, threshold,
    detail) and reasons, the champion and its history."""
    response.headers["Cache-Control"] = f"public, max-age={REGISTRY_MAX_AGE_S}"
    return listing(service.models.registry)
