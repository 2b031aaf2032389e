"""Where Dagster keeps its run history: DAGSTER_HOME, by default `.dagster_home/` in the project,
configured from deploy/<profile>/dagster.yaml (SQLite for `local`, PostgreSQL for `postgres` and
`kubernetes`)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from smart_money.settings import Settings
from smart_money.settings.paths import project_root


def deploy_dir() -> Path:
    """deploy/ of the project (the checkout, or the working directory of an installed image)."""
    return project_root() / "deploy"


def instance_config(profile: str) -> Path:
    """deploy/<profile>/dagster.yaml."""
    return deploy_dir() / profile / "dagster.yaml"


def ensure_dagster_home(settings: Settings) -> Path:
    """Point DAGSTER_HOME (Dagster reads it) at the settings' instance folder and give that folder
    the profile's instance config."""
    home = settings.dagster_home
    os.environ["DAGSTER_HOME"] = str(home)
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    source = instance_config(settings.profile)
    if not config.exists() and source.exists():
        shutil.copyfile(source, config)
    return home
