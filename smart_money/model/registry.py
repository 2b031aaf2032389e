"""The model registry: versioned folders under models/smart-money-flow/ and one JSON index.

Each version folder holds the model (LightGBM text), its JSON normalizer, calibrator and prior,
metadata.json, report.html and the stored test predictions; the index records a sha256 per
file and loading refuses any file whose hash changed. A candidate becomes champion only if its
gates pass and, when a champion exists, it beats the champion on the same test rows. Nothing is
pickled.

Registration survives a kill at any point: the version is written into a temporary folder
(`.tmp-v<version>-<id>`, files fsynced) with `registration.json`, the index entry it is about to
add; the folder is renamed into place and the index replaced last (atomically, fsynced). So the
index only ever lists complete versions. Before each registration (under a lock file, so two
processes never register at once) `recover` sweeps the temporary folders and files that
interrupted writes left, and settles each version folder the index does not list: adopted when
its registration.json verifies (every sha256) and still follows the index (the kill fell
between the rename and the index update), removed otherwise.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from filelock import FileLock
from upath import UPath

from smart_money.data import storage
from smart_money.data.pause_points import pause_point
from smart_money.model.identity import MODEL_ARTIFACTS, MODEL_ID

if TYPE_CHECKING:
    import pandas as pd

    from smart_money.model.flow_model import FlowModel

REGISTRY_FOLDER = "smart-money-flow"
INDEX = "registry.json"
REGISTRATION = "registration.json"  # in a version folder: the index entry it was registered with
TMP_PREFIX = ".tmp-"
LOCK = ".registry.lock"
CHAMPION, CANDIDATE, REJECTED, ARCHIVED = "champion", "candidate", "rejected", "archived"


class TamperedArtifact(RuntimeError):
    """A registered file no longer matches the sha256 recorded when it was registered."""


class RegistryError(RuntimeError):
    pass


class CorruptIndex(RegistryError):
    """registry.json cannot be read as the registry's index; the message names the file."""


def sha256_of(path: UPath) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def frame_hash(frame: pd.DataFrame) -> str:
    import pandas as pd  # lazy: `models list` reads only the JSON index

    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).values.tobytes()).hexdigest()


def _write_json_atomic(path: UPath, payload: object) -> None:
    storage.write_text(path, json.dumps(payload, indent=2, sort_keys=False, default=str), durable=True)


@dataclass
class Recovery:
    """What `Registry.recover` found and did."""

    adopted: list[str] = field(default_factory=list)  # versions added to the index
    removed: list[str] = field(default_factory=list)  # incomplete or stray version folders
    swept: list[str] = field(default_factory=list)  # temporary folders and files

    def lines(self) -> list[str]:
        return (
            [f"registry: adopted v{v}, registered by a run killed before it updated the index" for v in self.adopted]
            + [f"registry: removed {name}, left incomplete by a killed registration" for name in self.removed]
            + [f"registry: removed {len(self.swept)} temporary file(s) of interrupted writes"] * bool(self.swept)
        )


def read_index(path: UPath) -> dict:
    """The parsed registry.json at `path`; CorruptIndex naming the file when it is not a JSON
    object with the index's keys (a hand edit, a disk that filled up mid-write)."""
    try:
        index = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptIndex(f"the registry index {path} is corrupt (not valid JSON: {exc})") from None
    if not isinstance(index, dict):
        raise CorruptIndex(f"the registry index {path} is corrupt (a JSON {type(index).__name__}, not an object)")
    missing = [k for k in ("champion", "versions", "champion_history") if k not in index]
    if missing:
        raise CorruptIndex(f"the registry index {path} is corrupt (missing {', '.join(missing)})")
    return index


def bump(version: str | None, label: str, features: list[str], previous: dict | None) -> str:
    """MAJOR when the label changes, MINOR when the feature list changes, PATCH otherwise."""
    if version is None or previous is None:
        return "1.0.0"
    major, minor, patch = (int(x) for x in version.split("."))
    if previous.get("label") != label:
        return f"{major + 1}.0.0"
    if previous.get("features") != features:
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


class Registry:
    """The registry under `models_dir`: a local folder or an fsspec URL (s3://bucket/models).
    `folder` and `model_id` name another model's registry beside it (e.g. the flow model trained on
    the excess-return target, evaluation/excess_target.py); the defaults are the plan's model."""

    def __init__(self, models_dir: str | os.PathLike[str], folder: str = REGISTRY_FOLDER, model_id: str = MODEL_ID):
        self.root = storage.as_path(models_dir) / folder
        self.index_path = self.root / INDEX
        self.model_id = model_id

    # -- index ---------------------------------------------------------------------------------
    def index(self) -> dict:
        if self.index_path.exists():
            return read_index(self.index_path)
        return {"model_id": self.model_id, "champion": None, "versions": [], "champion_history": []}

    def _save(self, index: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        _write_json_atomic(self.index_path, index)

    def _local(self) -> bool:
        return self.root.protocol in ("", "file", "local")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time on a local registry (a kernel lock, released if the process dies);
        object stores have no such lock: one run at a time writes them (the home lock)."""
        if self._local():
            self.root.mkdir(parents=True, exist_ok=True)
            lock = FileLock(self.root.path + "/" + LOCK, thread_local=False)
        else:
            lock = nullcontext()
        with lock:
            yield

    def entry(self, version: str) -> dict:
        for item in self.index()["versions"]:
            if item["version"] == version:
                return item
        raise RegistryError(f"no version {version} in {self.index_path}")

    def champion(self) -> dict | None:
        index = self.index()
        return self.entry(index["champion"]) if index["champion"] else None

    def resolve(self, name: str) -> str:
        """'1.0.2', 'v1.0.2', 'champion' or 'latest' -> a version string (RegistryError when the
        registry has no champion or no version yet; a version number is checked when it is used)."""
        index = self.index()
        chosen = {
            CHAMPION: index["champion"],
            "latest": index["versions"][-1]["version"] if index["versions"] else None,
        }.get(name, name.lstrip("v"))
        if not chosen:
            raise RegistryError(f"no {name} version in {self.index_path}")
        return chosen

    # -- artifacts ------------------------------------------------------------------------------
    def folder(self, version: str) -> UPath:
        return self.root / f"v{version}"

    def verify(self, version: str) -> UPath:
        """The version's folder, after checking every registered file's sha256."""
        entry = self.entry(version)
        folder = self.folder(version)
        for name, expected in entry["sha256"].items():
            path = folder / name
            if not path.exists():
                raise TamperedArtifact(f"v{version}: {name} is missing")
            actual = sha256_of(path)
            if actual != expected:
                raise TamperedArtifact(
                    f"v{version}: {name} changed since registration (sha256 {actual[:12]}... != {expected[:12]}...)"
                )
        return folder

    def load_model(self, version: str | None = None) -> tuple[FlowModel, dict]:
        """The champion (or a given version), verified; returns (model, metadata)."""
        index = self.index()
        version = version or index["champion"]
        if not version:
            raise RegistryError("no champion model is registered yet; run `smart-money run`")
        folder = self.verify(version)
        from smart_money.model.flow_model import FlowModel  # lazy: LightGBM loads only to load a model

        return FlowModel.load(folder), json.loads((folder / "metadata.json").read_text())

    # -- registration -----------------------------------------------------------------------------
    def register(
        self,
        candidate_dir: str | os.PathLike[str],
        metadata: dict,
        gates: dict,
        extra_files: dict[str, str | os.PathLike[str]],
        champion_comparison: dict | None = None,
    ) -> dict:
        """Copy a candidate into a new version folder, record hashes, decide its status: rejected
        when a gate failed; champion when there is none yet or `champion_comparison` (the
        candidate's and the champion's AUC on the same rows, see evaluation.registration) says
        it is better; a candidate otherwise."""
        with self._locked():
            self._recover()
            index = self.index()
            previous = index["versions"][-1] if index["versions"] else None
            label = metadata.get("label", "label")
            version = bump(previous["version"] if previous else None, label, metadata["features"], previous)
            failed = [name for name, gate in gates.items() if not gate["passed"]]
            status, reasons = (
                (REJECTED, [f"gate {n}: {gates[n]['detail']}" for n in failed]) if failed else (CANDIDATE, [])
            )
            comparison = champion_comparison
            if not failed:
                champion = self.champion()
                if champion is None:
                    status = CHAMPION
                elif comparison is None or comparison.get("champion_version") != champion["version"]:
                    raise RegistryError(
                        f"a candidate that passed its gates needs a comparison with champion v{champion['version']}"
                    )
                elif comparison["candidate_auc"] > comparison["champion_auc"]:
                    status = CHAMPION
                else:
                    reasons.append(
                        f"not better than champion v{champion['version']} on the same test rows "
                        f"({comparison['candidate_auc']:.4f} <= {comparison['champion_auc']:.4f})"
                    )

            final = self.folder(version)
            if final.exists():
                raise RegistryError(
                    f"{final} already exists but the index does not list it: remove it (docs/operations.md)"
                )
            folder = self.root / f"{TMP_PREFIX}v{version}-{uuid.uuid4().hex[:12]}"
            folder.mkdir(parents=True, exist_ok=True)
            candidate = storage.as_path(candidate_dir)
            for name in MODEL_ARTIFACTS:
                if (candidate / name).exists():
                    storage.copy(candidate / name, folder / name, durable=True)
            for name, path in extra_files.items():
                storage.copy(path, folder / name, durable=True)

            metadata = {
                **metadata,
                "version": version,
                "status": status,
                "gates": gates,
                "status_reasons": reasons,
                "champion_comparison": comparison,
            }
            _write_json_atomic(folder / "metadata.json", metadata)
            entry = {
                "version": version,
                "status": status,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "label": label,
                "features": metadata["features"],
                "metrics": {
                    k: metadata["metrics"]["test"].get(k)
                    for k in ("roc_auc", "per_date_auc", "ece", "brier_skill", "top_decile_precision")
                },
                "gates": {k: v["passed"] for k, v in gates.items()},
                "reasons": reasons,
                "lineage": metadata.get("lineage", {}),
                "sha256": {p.name: sha256_of(p) for p in sorted(folder.iterdir()) if p.is_file()},
            }
            _write_json_atomic(
                folder / REGISTRATION,
                {
                    "entry": entry,
                    "after": previous["version"] if previous else None,
                    "champion_before": index["champion"],
                },
            )
            pause_point(f"registry:{self.root.name}:copied")
            self._move_into_place(folder, final)
            pause_point(f"registry:{self.root.name}:renamed")
            self._append(index, entry)
            return entry

    def _append(self, index: dict, entry: dict) -> None:
        """The commit point: the index lists the new version (and its champion, if it is one)."""
        index["versions"].append(entry)
        if entry["status"] == CHAMPION:
            self._crown(index, entry["version"])
        self._save(index)

    def _move_into_place(self, folder: UPath, final: UPath) -> None:
        """Rename the finished temporary folder to the version's (atomic on local disk; on object
        stores a copy, which `recover` removes if it was cut short)."""
        if self._local():
            os.rename(folder.path, final.path)
            storage.fsync_dir(self.root.path)
            return
        for path in folder.iterdir():
            storage.copy(path, final / path.name)
        folder.fs.rm(folder.path, recursive=True)

    def recover(self) -> Recovery:
        """Settle what interrupted registrations left (see the module's docstring); `register`
        does it too, and `smart-money run` before it starts. A registry not yet created is left
        uncreated (no lock file either)."""
        if not self.root.exists():
            return Recovery()
        with self._locked():
            return self._recover()

    def _recover(self) -> Recovery:
        found = Recovery()
        if not self.root.exists():
            return found
        index = self.index()
        listed = {f"v{item['version']}" for item in index["versions"]}
        for path in sorted(self.root.iterdir(), key=lambda p: p.name):
            if path.name.startswith(TMP_PREFIX) or storage.is_temporary(path.name):
                path.fs.rm(path.path, recursive=path.is_dir())
                found.swept.append(path.name)
            elif path.is_dir() and path.name.startswith("v") and path.name not in listed:
                entry = self._adoptable(path, index)
                if entry is None:
                    path.fs.rm(path.path, recursive=True)
                    found.removed.append(path.name)
                else:
                    self._append(index, entry)
                    listed.add(path.name)
                    found.adopted.append(entry["version"])
            elif path.is_dir() and path.name in listed:
                for stray in path.iterdir():
                    if storage.is_temporary(stray.name):
                        stray.fs.rm(stray.path)
                        found.swept.append(f"{path.name}/{stray.name}")
        return found

    def _adoptable(self, folder: UPath, index: dict) -> dict | None:
        """The index entry of an unlisted version folder when it is complete (every sha256
        matches) and was registered right after the index's newest version; else None."""
        try:
            record = json.loads((folder / REGISTRATION).read_text())
            entry = record["entry"]
            newest = index["versions"][-1]["version"] if index["versions"] else None
            if folder.name != f"v{entry['version']}" or record["after"] != newest:
                return None
            if entry["status"] == CHAMPION and record["champion_before"] != index["champion"]:
                return None
            for name, expected in entry["sha256"].items():
                if not (folder / name).exists() or sha256_of(folder / name) != expected:
                    return None
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return entry

    def _crown(self, index: dict, version: str, push: bool = True) -> None:
        """Make `version` champion; `champion_history` is a stack (rollback pops it)."""
        for item in index["versions"]:
            if item["status"] == CHAMPION and item["version"] != version:
                item["status"] = ARCHIVED
            if item["version"] == version:
                item["status"] = CHAMPION
        index["champion"] = version
        if push:
            index["champion_history"].append(
                {"version": version, "at": datetime.now(UTC).isoformat(timespec="seconds")}
            )

    def promote(self, version: str) -> dict:
        """Make a registered version champion (its files verified); rejected ones stay rejected."""
        with self._locked():
            return self._promote(version)

    def _promote(self, version: str) -> dict:
        index = self.index()
        entry = next((v for v in index["versions"] if v["version"] == version), None)
        if entry is None:
            raise RegistryError(f"no version {version}")
        if entry["status"] == REJECTED:
            raise RegistryError(f"v{version} was rejected by its gates: {'; '.join(entry['reasons'])}")
        self.verify(version)
        self._crown(index, version)
        self._save(index)
        return entry

    def rollback(self) -> dict:
        """Restore the previous champion in one step (repeatable down the history)."""
        with self._locked():
            return self._rollback()

    def _rollback(self) -> dict:
        index = self.index()
        history = index["champion_history"]
        if len(history) < 2:
            raise RegistryError("there is no previous champion to roll back to")
        previous = history[-2]["version"]
        self.verify(previous)
        history.pop()
        self._crown(index, previous, push=False)
        self._save(index)
        return self.entry(previous)
