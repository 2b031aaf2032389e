"""Where the tests find their own fixtures and the shared data that lives outside the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = TESTS_ROOT / "fixtures"
SNAPSHOTS = TESTS_ROOT / "snapshots"
SHARED = TESTS_ROOT.parents[1] / "shared"


def shared_path(*parts: str) -> Path:
    """A path inside ../shared, or a clean skip when the folder is not there (a user's clone)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not available (shared data lives outside the repository)")
    return path
