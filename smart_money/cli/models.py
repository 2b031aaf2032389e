"""`models list|export|promote|rollback`: the model registry."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from smart_money.cli.common import console, settings_from
from smart_money.cli.errors import expected

if TYPE_CHECKING:
    from smart_money.model.registry import Registry

app = typer.Typer(help="The model registry (models/smart-money-flow/registry.json).", no_args_is_help=True)


def registry() -> Registry:
    """The registry of the configured models location (SMART_MONEY_MODELS_URL or models/)."""
    # lazy: keeps --help and argument errors fast (the registry loads pandas and LightGBM)
    from smart_money.model.registry import Registry

    return Registry(settings_from().models_location)


@app.command("list")
def models_list() -> None:
    """Every registered version with its status, test metrics and gates."""
    index = registry().index()
    table = Table(title=f"{index['model_id']} (champion: {index['champion'] or 'none'})")
    for column in ("version", "status", "created", "test AUC", "ECE", "gates", "reasons"):
        table.add_column(column)
    for entry in index["versions"]:
        passed = sum(entry["gates"].values())
        table.add_row(
            entry["version"],
            entry["status"],
            entry["created_at"],
            f"{entry['metrics']['roc_auc']:.4f}",
            f"{entry['metrics']['ece']:.4f}",
            f"{passed}/{len(entry['gates'])}",
            "; ".join(entry["reasons"])[:80],
        )
    console.print(table)


@app.command("export")
def models_export(
    version: Annotated[str, typer.Argument(help="Registered version (e.g. 1.0.0), 'champion' or 'latest'.")],
    out: Annotated[Path, typer.Option(help="Folder for summary.md and the PNG plots.")],
    held_out: Annotated[
        Path | None,
        typer.Option(help="A `smart-money evaluate` result of this version to compare with its own metrics."),
    ] = None,
) -> None:
    """A registered model's evaluation as Markdown tables and plots (files verified by sha256
    first): what docs/real-data.md quotes."""
    models = registry()
    folder = models.verify(models.resolve(version))
    # lazy: keeps --help and argument errors fast (the report loads matplotlib and scikit-learn)
    from smart_money.reporting.study_report import export

    with expected(OSError, ValueError):  # an unreadable --held-out, or one of another version
        written = export(folder, out, held_out)
    for path in written:
        console.print(f"wrote {path}")


@app.command("promote")
def models_promote(version: Annotated[str, typer.Argument(help="Version to make champion, e.g. 1.0.2")]) -> None:
    """Make a registered (not rejected) version the champion."""
    entry = registry().promote(version.lstrip("v"))
    console.print(f"v{entry['version']} is now the champion")


@app.command("rollback")
def models_rollback() -> None:
    """Restore the previous champion."""
    entry = registry().rollback()
    console.print(f"rolled back: v{entry['version']} is the champion again")
