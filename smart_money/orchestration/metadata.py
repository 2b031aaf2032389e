"""Turning plain Python values into Dagster metadata (shared by every asset module)."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
import pandas as pd


def frame_preview(frame: pd.DataFrame, rows: int = 10) -> dg.MetadataValue:
    """First rows as a markdown table (what a user checks first in the UI)."""
    if frame.empty:
        return dg.MetadataValue.md("_no rows_")
    return dg.MetadataValue.md(frame.head(rows).to_markdown(index=False, floatfmt=".4g"))


def plain_metadata(values: Mapping[str, object]) -> dict[str, object]:
    """Dicts and lists become JSON metadata; scalars pass through."""
    return {
        key: dg.MetadataValue.json(value) if isinstance(value, (dict, list)) else value for key, value in values.items()
    }
