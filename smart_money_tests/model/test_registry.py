"""Registry version names: a number (with or without v), 'champion', 'latest'."""

from __future__ import annotations

import pytest

from smart_money.model.registry import Registry, RegistryError
from smart_money_tests.support.registry import write_registry


def test_version_names_resolve_to_registered_versions(tmp_path):
    registry = write_registry(tmp_path, {"1.0.0": "archived", "1.0.1": "champion", "1.0.2": "rejected"})
    assert registry.resolve("champion") == "1.0.1"
    assert registry.resolve("latest") == "1.0.2"
    assert registry.resolve("v1.0.0") == registry.resolve("1.0.0") == "1.0.0"


def test_an_empty_registry_has_no_champion_nor_latest(tmp_path):
    registry = Registry(tmp_path)
    for name in ("champion", "latest"):
        with pytest.raises(RegistryError, match=f"no {name} version"):
            registry.resolve(name)
