"""Small, fast settings shared by the tests: a simulated market of a few dozen symbols."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from smart_money.settings import Settings

SMALL_UNIVERSE = 60
SMALL_HORIZON = pd.Timestamp("2024-09-01")
# A small evaluation for tests: one extra simulated world, few bootstrap draws.
FAST_EVALUATION = {"evaluation_report": {"bootstrap": 20, "independent_worlds": 1, "independent_symbols": 40}}


def small_settings_at(home: Path) -> Settings:
    """A year of months (enough for a 70/15/15 split by date) over 30 simulated symbols."""
    return Settings(source="simulated", start=date(2022, 10, 1), end=date(2023, 9, 1), symbols=30, seed=3, home=home)
