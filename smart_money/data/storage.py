"""Reading and writing tables on local disk or any fsspec URL (s3://, memory://, ...).

Local writes go to a temporary file first and are renamed into place, so a killed run never
leaves a half-written partition behind; object stores write whole objects anyway. A stored file
that cannot be read back (cut short by a full disk or a copy, damaged) raises UnreadableFile
naming it.
"""

from __future__ import annotations

import io
import json
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from upath import UPath

if TYPE_CHECKING:  # pandas loads with the first table read: `models list` only reads JSON
    import pandas as pd


def as_path(location: str | os.PathLike[str]) -> UPath:
    return UPath(location)


def join(location: str | os.PathLike[str], *parts: str) -> str:
    """`location`/part/... as a string, for local folders and URLs alike."""
    return str(as_path(location).joinpath(*parts))


def copy(source: str | os.PathLike[str], target: str | os.PathLike[str], durable: bool = False) -> None:
    """Copy one file between any two locations (local, s3://, ...)."""
    _write_bytes(as_path(target), as_path(source).read_bytes(), durable)


def write_text(path: str | os.PathLike[str], text: str, durable: bool = False) -> None:
    """`durable`: on local disk, flushed to the device (file and folder entry) before returning,
    so it survives a power cut as well as a killed process (what the model registry needs)."""
    _write_bytes(as_path(path), text.encode(), durable)


def _is_local(path: UPath) -> bool:
    return path.protocol in ("", "file", "local")


ASSETS_FOLDER = "assets"


def assets_location(data_location: str) -> str:
    """Where the materialized assets of a data location live (the io manager's base path)."""
    return join(data_location, ASSETS_FOLDER)


def asset_file(root: str | os.PathLike[str], asset: Sequence[str], partition_key: str | None, suffix: str) -> str:
    """The file of an asset (`<root>/<asset path>.<suffix>`) or of one of its partitions
    (`<root>/<asset path>/<partition key>.<suffix>`): the io manager's layout, which readers outside
    Dagster (the server) use too."""
    path = as_path(root).joinpath(*asset)
    return str(path / f"{partition_key}.{suffix}") if partition_key else str(path.with_suffix(f".{suffix}"))


def local_path(location: str | os.PathLike[str]) -> Path | None:
    """The location as a local file path, or None for object storage."""
    path = as_path(location)
    return Path(path.path) if _is_local(path) else None


TMP_SUFFIX = ".tmp"  # `.<name>.<uuid>.tmp`: a write that was interrupted leaves one behind


def is_temporary(name: str) -> bool:
    """Whether a file name is one of `_write_bytes`' temporary files."""
    return name.startswith(".") and name.endswith(TMP_SUFFIX)


def fsync_dir(folder: str | os.PathLike[str]) -> None:
    """Flush a local folder's entries (a rename or a new file in it) to the device."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_bytes(path: UPath, payload: bytes, durable: bool = False) -> None:
    if _is_local(path):
        local = Path(path.path)
        local.parent.mkdir(parents=True, exist_ok=True)
        tmp = local.with_name(f".{local.name}.{uuid.uuid4().hex}{TMP_SUFFIX}")
        with tmp.open("wb") as handle:
            handle.write(payload)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, local)
        if durable:
            fsync_dir(local.parent)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload)


def write_parquet(path: str | os.PathLike[str], frame: pd.DataFrame) -> None:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    _write_bytes(as_path(path), buffer.getvalue())


class UnreadableFile(ValueError):
    """A stored file that exists but cannot be read as what it should be; names the file."""

    def __init__(self, path: str | os.PathLike[str], kind: str, error: BaseException):
        self.path = str(path)
        self.detail = " ".join(f"{type(error).__name__}: {error}".split())[:300]
        super().__init__(f"{self.path} is not readable {kind} (truncated or damaged): {self.detail}")


def read_parquet(path: str | os.PathLike[str]) -> pd.DataFrame:
    import pandas as pd

    target = as_path(path)
    try:
        with target.open("rb") as handle:
            return pd.read_parquet(handle)
    except FileNotFoundError:
        raise
    except (ValueError, OSError) as error:  # pyarrow's ArrowInvalid is a ValueError, its IO errors OSErrors
        raise UnreadableFile(path, "Parquet", error) from error


def parquet_rows(path: str | os.PathLike[str]) -> int:
    """The row count of a stored Parquet file, from its footer (no column is read)."""
    import pyarrow.parquet as pq

    target = as_path(path)
    try:
        with target.open("rb") as handle:
            return pq.ParquetFile(handle).metadata.num_rows
    except FileNotFoundError:
        raise
    except (ValueError, OSError) as error:
        raise UnreadableFile(path, "Parquet", error) from error


def write_json(path: str | os.PathLike[str], payload: Any) -> None:
    _write_bytes(as_path(path), json.dumps(payload, indent=2, sort_keys=True, default=str).encode())


def read_json(path: str | os.PathLike[str]) -> Any:
    try:
        return json.loads(as_path(path).read_text())
    except FileNotFoundError:
        raise
    except (ValueError, OSError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise UnreadableFile(path, "JSON", error) from error


def exists(path: str | os.PathLike[str]) -> bool:
    return as_path(path).exists()
