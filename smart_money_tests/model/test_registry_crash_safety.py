"""Registration killed at each point leaves a registry the next registration settles: the partial
state a kill leaves is made by stopping `register` at its pause points (nothing runs after a
kill, nor after the exception here: register has no cleanup code) or written by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smart_money.model import registry as registry_module
from smart_money.model.registry import CHAMPION, REGISTRATION, REJECTED, Registry

GATES_PASS = {"beats_baselines": {"passed": True, "detail": "ok", "value": 0.6, "threshold": 0.5}}
GATES_FAIL = {"beats_baselines": {"passed": False, "detail": "below", "value": 0.4, "threshold": 0.5}}


class Killed(BaseException):
    """Stands for SIGKILL at a pause point (a BaseException, so no `except Exception` runs)."""


def candidate(tmp_path: Path, text: str = "tree 1") -> tuple[Path, dict, dict]:
    folder = tmp_path / "candidate"
    folder.mkdir(exist_ok=True)
    (folder / "model.txt").write_text(text)
    (folder / "normalizer.json").write_text("{}")
    (folder / "report.html").write_text("<html></html>")
    metadata = {"features": ["a", "b"], "metrics": {"test": {"roc_auc": 0.6}}, "lineage": {"dataset_sha256": "d"}}
    return folder, metadata, {"report.html": folder / "report.html"}


def register(registry: Registry, tmp_path: Path, gates: dict = GATES_FAIL, text: str = "tree 1") -> dict:
    folder, metadata, extra = candidate(tmp_path, text)
    return registry.register(folder, metadata, gates, extra)


def kill_at(monkeypatch, point: str) -> None:
    def pause(name: str) -> None:
        if name == point:
            raise Killed(name)

    monkeypatch.setattr(registry_module, "pause_point", pause)


def listed(registry: Registry) -> list[str]:
    return [v["version"] for v in registry.index()["versions"]]


def test_a_kill_while_copying_leaves_only_a_temporary_folder_which_the_next_registration_sweeps(tmp_path, monkeypatch):
    registry = Registry(tmp_path / "models")
    kill_at(monkeypatch, "registry:smart-money-flow:copied")
    with pytest.raises(Killed):
        register(registry, tmp_path)
    leftovers = [p.name for p in registry.root.iterdir() if p.name.startswith(".tmp-")]
    assert len(leftovers) == 1 and not registry.folder("1.0.0").exists() and not registry.index_path.exists()

    monkeypatch.undo()
    entry = register(registry, tmp_path)
    assert entry["version"] == "1.0.0" and listed(registry) == ["1.0.0"]
    assert not [p for p in registry.root.iterdir() if p.name.startswith(".tmp-")]
    registry.verify("1.0.0")


def test_a_kill_between_the_rename_and_the_index_is_adopted_as_registered(tmp_path, monkeypatch):
    registry = Registry(tmp_path / "models")
    kill_at(monkeypatch, "registry:smart-money-flow:renamed")
    with pytest.raises(Killed):
        register(registry, tmp_path, GATES_PASS)
    assert registry.folder("1.0.0").exists() and not registry.index_path.exists()

    monkeypatch.undo()
    found = registry.recover()
    assert found.adopted == ["1.0.0"] and found.lines() == [
        "registry: adopted v1.0.0, registered by a run killed before it updated the index"
    ]
    assert registry.index()["champion"] == "1.0.0" and registry.entry("1.0.0")["status"] == CHAMPION
    assert registry.index()["champion_history"][-1]["version"] == "1.0.0"
    registry.verify("1.0.0")
    assert register(registry, tmp_path)["version"] == "1.0.1"  # the next one follows it


def test_a_version_folder_that_does_not_verify_is_removed_not_adopted(tmp_path, monkeypatch):
    registry = Registry(tmp_path / "models")
    kill_at(monkeypatch, "registry:smart-money-flow:renamed")
    with pytest.raises(Killed):
        register(registry, tmp_path)
    (registry.folder("1.0.0") / "model.txt").write_text("cut sh")  # e.g. a copy to an object store cut short
    monkeypatch.undo()
    entry = register(registry, tmp_path, text="tree 2")
    assert entry["version"] == "1.0.0" and entry["status"] == REJECTED
    assert (registry.folder("1.0.0") / "model.txt").read_text() == "tree 2"
    registry.verify("1.0.0")


def test_the_wedged_state_of_the_old_registry_no_longer_blocks(tmp_path):
    """Before atomic registration a kill left v1.0.0 without registration.json and every re-run
    failed with 'already exists'; now the folder is removed and the registration goes on."""
    registry = Registry(tmp_path / "models")
    registry.folder("1.0.0").mkdir(parents=True)
    (registry.folder("1.0.0") / "model.txt").write_text("tree 1")
    entry = register(registry, tmp_path)
    assert entry["version"] == "1.0.0" and json.loads((registry.folder("1.0.0") / REGISTRATION).read_text())


def test_an_orphan_registered_after_another_version_than_the_index_newest_is_removed(tmp_path, monkeypatch):
    registry = Registry(tmp_path / "models")
    register(registry, tmp_path)  # v1.0.0
    kill_at(monkeypatch, "registry:smart-money-flow:renamed")
    with pytest.raises(Killed):
        register(registry, tmp_path)  # v1.0.1, unlisted
    record = json.loads((registry.folder("1.0.1") / REGISTRATION).read_text())
    record["after"] = "0.9.9"
    (registry.folder("1.0.1") / REGISTRATION).write_text(json.dumps(record))
    monkeypatch.undo()
    assert registry.recover().removed == ["v1.0.1"] and listed(registry) == ["1.0.0"]


def test_temporary_files_of_interrupted_writes_are_swept(tmp_path):
    registry = Registry(tmp_path / "models")
    register(registry, tmp_path)
    index_before = registry.index_path.read_text()
    stray_index = registry.root / ".registry.json.0123abcd.tmp"  # a kill while the index was written
    stray_index.write_text('{"model_id": "cut')
    stray_file = registry.folder("1.0.0") / ".metadata.json.4567.tmp"
    stray_file.write_text("{")
    found = registry.recover()
    assert sorted(found.swept) == [".registry.json.0123abcd.tmp", "v1.0.0/.metadata.json.4567.tmp"]
    assert not stray_index.exists() and not stray_file.exists()
    assert registry.index_path.read_text() == index_before
    registry.verify("1.0.0")
