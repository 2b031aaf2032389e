"""`docs`: the generated documentation."""

from __future__ import annotations

import typer

from smart_money.cli.common import console

app = typer.Typer()


@app.command()
def docs() -> None:
    """Regenerate the generated documentation (docs/features.md from the feature catalogue)."""
    # lazy: keeps --help and argument errors fast (the catalogue and schemas load pandas and pandera)
    from smart_money.reporting.generated_docs import write_docs

    for path in write_docs():
        console.print(f"wrote {path}")
