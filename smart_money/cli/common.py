"""What the command modules share: the console, option types, settings from the environment with
the command's options over it, and writing an --out file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from smart_money.settings import Settings, parse_month
from smart_money.settings.source_check import check_source_settings

console = Console()

StartOption = Annotated[str | None, typer.Option(help="First month, YYYY-MM (default SMART_MONEY_START).")]
EndOption = Annotated[
    str | None, typer.Option(help="Last month, YYYY-MM (default SMART_MONEY_END or the last complete month).")
]
SymbolsOption = Annotated[
    str | None,
    typer.Option(
        help="Universe size (the source's first N stocks), comma-separated tickers, or @file (one ticker per "
        "line) (default SMART_MONEY_SYMBOLS)."
    ),
]
SourceOption = Annotated[
    str | None, typer.Option(help="simulated | fmp | public_records (default SMART_MONEY_SOURCE).")
]
QuietOption = Annotated[bool, typer.Option("--quiet", help="No progress lines on stderr (only the result).")]
DirOption = Annotated[
    Path | None, typer.Option("--dir", help="Folder of public records (default SMART_MONEY_PUBLIC_RECORDS_DIR).")
]


def settings_from(
    start: str | None = None,
    end: str | None = None,
    symbols: str | None = None,
    source: str | None = None,
    records_dir: Path | None = None,
    *,
    check_source: bool = False,
) -> Settings:
    """The environment's settings with the command's options over them, each read as if it were
    its SMART_MONEY_* variable (a --source brings that source's defaults). `check_source`: also
    check now what opening the source needs (a key, a folder), before any heavy import.
    Raises SettingsError (reported as a configuration error)."""
    for text, option in ((start, "--start"), (end, "--end")):
        if text:
            parse_month(text, option)  # a malformed month is named by its option, not its variable
    settings = Settings.from_env(
        overrides={
            "SMART_MONEY_START": start,
            "SMART_MONEY_END": end,
            "SMART_MONEY_SYMBOLS": symbols,
            "SMART_MONEY_SOURCE": source,
            "SMART_MONEY_PUBLIC_RECORDS_DIR": str(records_dir) if records_dir else None,
        }
    )
    if check_source:
        check_source_settings(settings)
    return settings


def check_out(out: Path, option: str = "--out") -> None:
    """A usage error now, before any work, when the `option` file cannot be written there."""
    from smart_money.cli.errors import usage_error

    folder = next((p for p in (out.parent, *out.parent.parents) if p.exists()), Path("."))
    if out.is_dir():
        raise usage_error(f"{option} {out} is a folder", fix=f"give {option} a file name")
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise usage_error(f"{option} {out}: {folder} is not a writable folder", fix=f"choose another {option}")


def write_text(out: Path, text: str) -> None:
    """Write an --out file, creating its folder."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)


def write_json(out: Path, payload: object) -> None:
    write_text(out, json.dumps(payload, indent=2, default=str))


def number(value: float | None, digits: int = 4) -> str:
    """A metric in a table cell ('-' when undefined)."""
    return "-" if value is None else f"{value:.{digits}f}"
