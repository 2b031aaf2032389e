"""`GET /api/signals/latest`: the newest disclosure events per family with the family's measured
historical abnormal return (research/latest.py), from the stored `disclosure_events` and
`event_study` assets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from smart_money.research.families import FAMILY_NAMES
from smart_money.serve.dependencies import Signals

router = APIRouter(tags=["signals"])


@router.get("/api/signals/latest")
def latest_signals(
    signals: Signals,
    family: Annotated[str | None, Query(description=f"One of: {', '.join(FAMILY_NAMES)}.")] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Newest events per family.")] = 10,
) -> dict:
    """Newest events per family (newest first), each with `history`: the family's mean abnormal
    return over 21 sessions against the matched benchmark, its t-statistics, interval and event
    count, from the stored study (null before the study has run)."""
    if family is not None and family not in FAMILY_NAMES:
        raise HTTPException(422, f"unknown family {family!r}; expected one of {', '.join(FAMILY_NAMES)}")
    return {"families": list(FAMILY_NAMES), "events": signals.latest(family, limit)}
