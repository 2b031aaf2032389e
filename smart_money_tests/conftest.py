"""Shared fixtures: a small simulated market and settings rooted in a temporary folder."""

from __future__ import annotations

import warnings
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from smart_money.core.settings import Settings
from smart_money.sources.simulated import SimulatedSource

warnings.filterwarnings("ignore", message=r".*(beta|preview|superseded).*")

SHARED = Path(__file__).resolve().parents[2] / "shared"
SMALL_UNIVERSE = 60
SMALL_HORIZON = pd.Timestamp("2024-09-01")


@pytest.fixture(scope="session")
def small_source() -> SimulatedSource:
    return SimulatedSource(n_symbols=SMALL_UNIVERSE, seed=3, horizon=SMALL_HORIZON)


@pytest.fixture
def small_settings(tmp_path: Path) -> Settings:
    return Settings(
        source="simulated",
        start=date(2023, 1, 1),
        end=date(2023, 3, 1),
        symbols=30,
        seed=3,
        home=tmp_path,
    )


def shared_path(*parts: str) -> Path:
    """A path inside ../shared, or a clean skip when the folder is not there (a user's clone)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not available (shared data lives outside the repository)")
    return path
