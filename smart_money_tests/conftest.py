"""Shared fixtures: a small simulated market and settings rooted in a temporary folder."""

from __future__ import annotations

import os
import warnings
from contextlib import contextmanager
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


def small_settings_at(home: Path) -> Settings:
    """A year of months (enough for a 70/15/15 split by date) over 30 simulated symbols."""
    return Settings(source="simulated", start=date(2022, 10, 1), end=date(2023, 9, 1), symbols=30, seed=3, home=home)


@pytest.fixture
def small_settings(tmp_path: Path) -> Settings:
    return small_settings_at(tmp_path)


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory):
    """One in-process run of the whole monthly graph over the small settings (shared, read-only)."""
    import dagster as dg

    from smart_money.runner import run_monthly_graph

    settings = small_settings_at(tmp_path_factory.mktemp("pipeline"))
    summary = run_monthly_graph(settings, instance=dg.DagsterInstance.ephemeral(), op_config=FAST_EVALUATION)
    return settings, summary


# A small evaluation for tests: one extra simulated world, few bootstrap draws.
FAST_EVALUATION = {"evaluation_report": {"bootstrap": 20, "independent_worlds": 1, "independent_symbols": 40}}


def shared_path(*parts: str) -> Path:
    """A path inside ../shared, or a clean skip when the folder is not there (a user's clone)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not available (shared data lives outside the repository)")
    return path


def service_unavailable(reason: str) -> None:
    """Skip locally when a server's binaries are missing; fail on CI, which must run these tests
    (.ci/run installs PostgreSQL)."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must provide it: see .ci/run)")
    pytest.skip(reason)


@contextmanager
def running(server):
    """A local service (smart_money/local_services.py) started for the block and stopped after;
    skipped locally, failed on CI, when its binaries are missing."""
    from smart_money.local_services import ServiceUnavailable

    try:
        server.start()
    except ServiceUnavailable as exc:
        service_unavailable(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server():
    """A private PostgreSQL cluster on loopback for the session."""
    from smart_money.local_services import PostgresServer

    with running(PostgresServer()) as server:
        yield server


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server in its own process on loopback for the session."""
    from smart_money.local_services import S3Server

    with running(S3Server()) as server:
        yield server


@pytest.fixture(scope="session")
def served_settings(tmp_path_factory) -> Settings:
    """Settings whose registry holds a champion trained on a small simulated panel (serving tests
    copy its models into their own home)."""
    from smart_money_tests.serve_helpers import register_model, serve_settings

    settings = serve_settings(tmp_path_factory.mktemp("served"))
    register_model(settings)
    return settings
