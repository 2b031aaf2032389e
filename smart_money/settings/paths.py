"""Where the project's own folders are: the checkout when the package is installed from one
(`pip install -e .`), else the current directory (a wheel in site-packages, e.g. the Docker image,
whose WORKDIR holds `deploy/`)."""

from __future__ import annotations

from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[2]


def project_root() -> Path:
    """The checkout holding this package (pyproject.toml beside `smart_money/`), or the cwd."""
    if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "smart_money").is_dir():
        return _CHECKOUT
    return Path.cwd()
