"""Shared fixtures: a small simulated market, settings rooted in a temporary folder, a whole-graph
run, and the local PostgreSQL/S3 servers (constants and builders live in `support/`)."""

from __future__ import annotations

import os
import warnings
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pytest

from smart_money.definitions import CODE_LOCATION
from smart_money.orchestration.runner import run_monthly_graph
from smart_money.settings import Settings
from smart_money.sources.simulated import SimulatedSource
from smart_money_tests.support.local_services import PostgresServer, S3Server, ServiceUnavailable
from smart_money_tests.support.serving import register_model, serve_settings
from smart_money_tests.support.settings import (
    FAST_EVALUATION,
    SMALL_HORIZON,
    SMALL_UNIVERSE,
    small_settings_at,
)

warnings.filterwarnings("ignore", message=r".*(beta|preview|superseded).*")


@pytest.fixture(scope="session")
def small_source() -> SimulatedSource:
    return SimulatedSource(n_symbols=SMALL_UNIVERSE, seed=3, horizon=SMALL_HORIZON)


@pytest.fixture
def small_settings(tmp_path: Path) -> Settings:
    return small_settings_at(tmp_path)


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory):
    """One in-process run of the whole monthly graph over the small settings (shared, read-only)."""
    settings = small_settings_at(tmp_path_factory.mktemp("pipeline"))
    summary = run_monthly_graph(
        CODE_LOCATION, settings, instance=dg.DagsterInstance.ephemeral(), op_config=FAST_EVALUATION
    )
    return settings, summary


def service_unavailable(reason: str) -> None:
    """Skip locally when a server's binaries are missing; fail on CI, which must run these tests
    (.ci/run installs PostgreSQL)."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must provide it: see .ci/run)")
    pytest.skip(reason)


@contextmanager
def running(server):
    """A local service (support/local_services.py) started for the block and stopped after;
    skipped locally, failed on CI, when its binaries are missing."""
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
    with running(PostgresServer()) as server:
        yield server


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server in its own process on loopback for the session."""
    with running(S3Server()) as server:
        yield server


@pytest.fixture(scope="session")
def served_settings(tmp_path_factory) -> Settings:
    """Settings whose registry holds a champion trained on a small simulated panel (serving tests
    copy its models into their own home)."""
    settings = serve_settings(tmp_path_factory.mktemp("served"))
    register_model(settings)
    return settings
