"""Driving the installed `smart-money` command in a subprocess, in a clean environment, and
reading its one-line errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

SETTINGS_PREFIXES = ("SMART_MONEY_", "FMP_", "DAGSTER_HOME")


def clean_env(home: Path, **values: str) -> dict[str, str]:
    """The test process's environment without SMART_MONEY_* and FMP_* settings, rooted in `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS_PREFIXES)}
    return env | {"SMART_MONEY_HOME": str(home)} | values


def runner_env(home: Path, **values: str) -> dict[str, str | None]:
    """The same for CliRunner, which sets its `env` over the process's (None unsets)."""
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith(SETTINGS_PREFIXES)}
    return unset | {"SMART_MONEY_HOME": str(home)} | values


def smart_money(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    """The installed `smart-money` script (the [project.scripts] entry point)."""
    script = Path(sys.executable).with_name("smart-money")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "smart_money.cli"]
    return subprocess.run([*command, *args], env=env, capture_output=True, text=True, timeout=timeout)


PROGRESS_LINE = re.compile(r"^\[ *\d+\.\d s\] ")  # `smart_money.cli.progress` on a non-terminal


def progress_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if PROGRESS_LINE.match(line)]


def assert_one_error(stderr: str, *names: str, after_progress: bool = False) -> str:
    """stderr is `error: ...` naming every one of `names`, maybe followed by `fix: ...`, and
    nothing else (no traceback; with `after_progress`, progress lines before it); returns the
    error line."""
    lines = stderr.strip().splitlines()
    if after_progress:
        shown = len(progress_lines(stderr))
        assert all(PROGRESS_LINE.match(line) for line in lines[:shown]), stderr
        lines = lines[shown:]
    assert "Traceback" not in stderr and 1 <= len(lines) <= 2, stderr
    assert lines[0].startswith("error: ") and all(name in lines[0] for name in names), lines
    assert len(lines) == 1 or lines[1].startswith("fix: "), lines
    return lines[0]


def files_written(home: Path, *, besides: tuple[str, ...] = (".dagster_home",)) -> list[Path]:
    """Every file under `home` except the run history (a failed run is recorded there)."""
    return sorted(
        p for p in home.rglob("*") if p.is_file() and not any(part in besides for part in p.relative_to(home).parts)
    )
