"""Launchpad configs of the research group (derived from the core dataclasses)."""

from __future__ import annotations

from smart_money.orchestration.config import launchpad_config
from smart_money.research.study import StudyConfig

EventStudyConfig = launchpad_config(
    StudyConfig,
    "EventStudyConfig",
    "Signal study options (research.study.StudyConfig): date-bootstrap draws, placebo events (default: as many "
    "as the real events with prices) and seed; the calendar-time holding windows are the core's (21 and 63 sessions).",
    exclude=("holding_sessions",),
)
