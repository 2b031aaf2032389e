"""The `smart-money` command line (`smart_money.cli:app`): the root app in `root.py`, one module
per command group, failures reported in one place (`errors.py`)."""

from smart_money.cli.root import app

__all__ = ["app"]
