"""Where Dagster keeps its run history: DAGSTER_HOME, by default `.dagster_home/` in the project."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from smart_money.core.settings import PROJECT_ROOT, Settings

LOCAL_INSTANCE_CONFIG = PROJECT_ROOT / "deploy" / "local" / "dagster.yaml"


def ensure_dagster_home(settings: Settings) -> Path:
    """Set DAGSTER_HOME (unless the user did) and give it the local instance config."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(settings.dagster_home)))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() and LOCAL_INSTANCE_CONFIG.exists():
        shutil.copyfile(LOCAL_INSTANCE_CONFIG, config)
    return home
