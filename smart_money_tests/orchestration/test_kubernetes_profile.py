"""The `kubernetes` profile's files pass Dagster's and dagster-k8s's own validation offline (no
cluster here): the instance config loads into a real K8sRunLauncher, and the example run config
validates against monthly_refresh_job under the k8s_job_executor."""

from __future__ import annotations

from dataclasses import replace

import dagster as dg
import pytest
import yaml

from smart_money.definitions import build_definitions
from smart_money.orchestration.instance import deploy_dir, instance_config
from smart_money.orchestration.names import MONTHLY_JOB
from smart_money_tests.support.settings import small_settings_at

KUBECONFIG = """
apiVersion: v1
kind: Config
clusters: [{name: offline, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: offline, user: {token: offline}}]
contexts: [{name: offline, context: {cluster: offline, user: offline, namespace: smart-money}}]
current-context: offline
"""


def test_the_instance_config_builds_a_k8s_run_launcher_and_a_run_queue(postgres_server, tmp_path, monkeypatch):
    from dagster._core.run_coordinator import QueuedRunCoordinator
    from dagster_k8s import K8sRunLauncher

    config = yaml.safe_load(instance_config("kubernetes").read_text())
    # outside a cluster the launcher reads a kubeconfig instead of the pod's service account
    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    config["run_launcher"]["config"] |= {
        "load_incluster_config": False,
        "kubeconfig_file": str(tmp_path / "kubeconfig"),
    }
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", postgres_server.url)
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        launcher = instance.run_launcher
        assert isinstance(launcher, K8sRunLauncher)
        assert launcher.job_namespace == "smart-money" and launcher.env_secrets == ["smart-money-secrets"]
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)


def test_a_misspelt_launcher_key_is_rejected(postgres_server, tmp_path, monkeypatch):
    config = yaml.safe_load(instance_config("kubernetes").read_text())
    config["run_launcher"]["config"]["job_namespce"] = "typo"
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", postgres_server.url)
    with pytest.raises(dg.DagsterInvalidConfigError, match="job_namespce"):
        with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
            instance.run_launcher  # noqa: B018


def test_the_example_run_config_validates_against_the_k8s_job_executor(tmp_path):
    job = build_definitions(replace(small_settings_at(tmp_path), profile="kubernetes")).resolve_job_def(MONTHLY_JOB)
    run_config = yaml.safe_load((deploy_dir() / "kubernetes" / "run_config.yaml").read_text())
    assert dg.validate_run_config(job, run_config)["execution"]["k8s"]["job_namespace"] == "smart-money"
    run_config["execution"]["config"]["max_concurent"] = 8
    with pytest.raises(dg.DagsterInvalidConfigError, match="max_concurent"):
        dg.validate_run_config(job, run_config)
