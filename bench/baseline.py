"""The project as it was at a git revision, extracted into a folder, for benchmarks that time the
code before a change side by side with today's (same machine, same load, one run)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def extract(revision: str, into: Path) -> Path:
    """The tree of `revision` (the whole project: package, deploy/, pyproject.toml) under `into`;
    running Python with PYTHONPATH=<that folder> imports the old `smart_money`."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", revision], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def revision_name(revision: str) -> str:
    """`revision` as a short commit hash (what results.json records)."""
    return subprocess.run(
        ["git", "rev-parse", "--short", revision], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
