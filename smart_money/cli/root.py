"""The root `smart-money` app: its callback (--debug), the command groups, and the one place
failures are reported (`errors.cli_errors` around every command).

Only typer, rich and settings load here and in the command modules at import, so `--help`,
settings errors and argument checks answer fast; each command imports what it runs when it runs."""

from __future__ import annotations

import warnings
from typing import Annotated

import click
import typer
from typer.core import TyperGroup

from smart_money.cli import cache, docs, models, options_flow, run, sec, serving, signals
from smart_money.cli.errors import cli_errors
from smart_money.settings.cli import DEBUG_VARIABLE, debug_enabled

warnings.filterwarnings("ignore", module=r"dagster\..*")
warnings.filterwarnings("ignore", message=r".*(beta|preview|superseded).*")


class _ReportingGroup(TyperGroup):
    """The root group: every command (and sub-group) runs inside `cli_errors`."""

    def invoke(self, ctx: click.Context):
        with cli_errors(debug=bool(ctx.params.get("debug")) or debug_enabled()):
            return super().invoke(ctx)


app = typer.Typer(
    cls=_ReportingGroup,
    help="Smart-money signals: pipeline runs and tools.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # --debug tracebacks never print local values (keys, tokens)
)


@app.callback()
def main(
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", help=f"Show the full traceback of a failure instead of one line (or set {DEBUG_VARIABLE}=1)."
        ),
    ] = False,
) -> None:
    """Smart-money signals: run the pipeline and manage its outputs. Configuration comes from
    SMART_MONEY_* environment variables (see the README); options override them."""


app.add_typer(run.app)  # run, evaluate, universe, records-coverage
app.add_typer(docs.app)
app.add_typer(serving.app)  # serve, predict
app.add_typer(options_flow.app)  # options-score, options-eval, options-calibrate
app.add_typer(models.app, name="models")
app.add_typer(cache.app, name="cache")
app.add_typer(sec.app, name="sec")
app.add_typer(signals.app, name="signals")
