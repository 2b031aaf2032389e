"""Throw-away PostgreSQL and S3 servers on loopback, for trying the `postgres` profile and
object-storage data paths on one machine (tests, benchmarks, `smart-money services`).

Both are the real engines: Debian's PostgreSQL binaries (a private cluster in a temporary
folder, its own port, trust authentication on 127.0.0.1 only) and moto's S3 server (a separate
process speaking the S3 HTTP API). Production deployments point the same settings at their own
servers instead. No Dagster here.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

POSTGRES_USER = "smart_money"  # the database role; tests and benchmarks own the whole cluster
POSTGRES_DATABASE = "dagster"
OS_USER = "postgres"  # PostgreSQL refuses to run as root; Debian's package creates this user


class ServiceUnavailable(RuntimeError):
    """A binary or package the service needs is not installed; the message says which."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bin_dir() -> Path | None:
    """The folder holding initdb/pg_ctl: on PATH, or Debian's /usr/lib/postgresql/<version>/bin."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(os.path.realpath(on_path)).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(candidates[-1]).parent if candidates else None


@dataclass
class PostgresServer:
    """A private PostgreSQL cluster on 127.0.0.1:`port`, removed again by `stop()`."""

    port: int = field(default_factory=free_port)
    root: Path | None = None
    _bin: Path | None = None

    @property
    def url(self) -> str:
        """SQLAlchemy URL naming the psycopg2 driver dagster-postgres installs (SQLAlchemy 2.1
        maps a bare postgresql:// to psycopg 3, which is not installed)."""
        return f"postgresql+psycopg2://{POSTGRES_USER}@127.0.0.1:{self.port}/{POSTGRES_DATABASE}"

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess:
        assert self._bin is not None
        command = [str(self._bin / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", OS_USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed ({result.returncode}): {result.stderr.strip() or result.stdout.strip()}")
        return result

    def start(self) -> PostgresServer:
        self._bin = postgres_bin_dir()
        if self._bin is None:
            raise ServiceUnavailable("no PostgreSQL server binaries (initdb, pg_ctl): `apt-get install postgresql`")
        self.root = Path(tempfile.mkdtemp(prefix="smart-money-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.root, OS_USER, OS_USER)
        data = self.root / "data"
        self._run("initdb", "-D", str(data), "-U", POSTGRES_USER, "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c max_connections=200"
        self._run(
            "pg_ctl", "-D", str(data), "-l", str(self.root / "server.log"), "-o", options, "-w", "-t", "60", "start"
        )
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", POSTGRES_USER, POSTGRES_DATABASE)
        return self

    def stop(self) -> None:
        if self.root is None:
            return
        data = self.root / "data"
        if (data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@dataclass
class S3Server:
    """moto's S3-compatible server in its own process on 127.0.0.1:`port`."""

    port: int = field(default_factory=free_port)
    _process: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """What boto3/s3fs clients need to talk to this server (AWS_ENDPOINT_URL is honoured
        by botocore, hence by s3fs and UPath)."""
        return {**S3_CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint}

    def start(self) -> S3Server:
        try:
            import moto.server  # noqa: F401
        except ImportError as exc:
            raise ServiceUnavailable("moto's server mode is not installed: `pip install 'moto[server]'`") from exc
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"moto server exited with {self._process.returncode}")
            try:
                httpx.get(f"{self.endpoint}/moto-api/", timeout=1.0)
                return self
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("moto server did not answer within 30 s")

    def create_bucket(self, name: str) -> str:
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=S3_CREDENTIALS["AWS_DEFAULT_REGION"],
        )
        client.create_bucket(Bucket=name)
        return f"s3://{name}"

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

    def __enter__(self) -> S3Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
