"""`options-score`, `options-eval`, `options-calibrate`: the options-flow engine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from smart_money.cli.common import QuietOption, check_out, console, number
from smart_money.cli.errors import USAGE, expected
from smart_money.cli.progress import StepProgress

app = typer.Typer()


@app.command("options-score")
def options_score(
    prints: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="Option prints (CSV, Parquet or JSON lines).")
    ],
    quotes: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="Option NBBO quotes.")],
    out: Annotated[Path, typer.Option(help="Where to write the SmartMoneyEvents (JSON lines).")],
    underlying: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="Underlying quotes (spot, moves).")
    ] = None,
    calendar: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="Event calendar (earnings, M&A ...).")
    ] = None,
    store: Annotated[
        bool, typer.Option(help="Also insert the events into smart_money_events (chDB or SMART_MONEY_CLICKHOUSE_URL).")
    ] = False,
) -> None:
    """Score option prints into smart-money events (file formats: docs/options-flow.md, "Scoring
    files"). Unusable rows are quarantined into <out>.rejected.csv; an unusable file is one error."""
    check_out(out)
    # lazy: keeps --help and argument errors fast; the scoring path itself is import-light
    from smart_money.options.score_files import OptionsInputError, configured_store_url, score_files

    with expected(OptionsInputError, exit_code=USAGE, fix="docs/options-flow.md lists the columns of each file"):
        summary = score_files(prints, quotes, out, underlying, calendar, configured_store_url() if store else None)
    table = Table(title=f"{summary['events']} events from {summary['prints']} prints -> {out}")
    table.add_column("primary profile")
    table.add_column("events", justify="right")
    for profile, count in summary["by_profile"].items():
        table.add_row(profile, str(count))
    console.print(table)
    if summary["rejected_file"]:
        reasons = ", ".join(f"{reason} {count}" for reason, count in summary["rejected_reasons"].items())
        console.print(f"quarantined rows: {summary['rejected']} ({reasons}) -> {summary['rejected_file']}")
    if summary.get("stored") is not None:
        console.print(f"stored {summary['stored']} new events in {summary['store']}")


@app.command("options-eval")
def options_eval(
    out: Annotated[Path, typer.Option(help="Where to write the metrics (JSON).")],
    scenarios: Annotated[
        int, typer.Option(min=50, help="Synthetic scenarios (one event each; >= 2,100 gives >= 2,000 events).")
    ] = 2400,
    seed: Annotated[int, typer.Option(help="Seed of the evaluation market (not the calibration seed).")] = 7,
    quiet: QuietOption = False,
) -> None:
    """Evaluate the engine on a labelled synthetic market: precision/recall, abstention,
    calibration (ECE, Brier), risk-coverage, direction, live-vs-replay agreement, throughput."""
    check_out(out)
    # lazy: keeps --help and argument errors fast (the engine loads numba kernels)
    from smart_money.options.evaluation import EVALUATION_STEPS
    from smart_money.options.runs import evaluate_to_file

    title = f"options-eval: {scenarios:,} scenarios, seed {seed}"
    with StepProgress(title, quiet=quiet, total=EVALUATION_STEPS) as progress:
        result = evaluate_to_file(out, scenarios, seed, progress.advance)
    if result.get("warning"):
        console.print(f"[yellow]warning:[/yellow] {result['warning']}")
    table = Table(title=f"options-eval: {result['events']} events, seed {seed} -> {out}")
    for column in ("profile", "precision", "recall", "ECE", "Brier"):
        table.add_column(column, justify="right" if column != "profile" else "left")
    for profile, pr in result["per_profile"].items():
        cal = result["calibration"][profile]
        table.add_row(
            profile, number(pr["precision"], 3), number(pr["recall"], 3), number(cal["ece"], 3), number(cal["brier"], 3)
        )
    console.print(table)
    console.print(
        f"noise abstention {result['abstention_rate_noise']:.3f} | "
        f"live-vs-replay ID agreement {result['live_vs_replay']['id_agreement']:.3f} | "
        f"{result['throughput']['prints_per_second']:,.0f} prints/s"
    )
    failed = [name for name, ok in result["gates"].items() if not ok]
    console.print("gates: all passed" if not failed else f"[red]gates failed:[/red] {', '.join(failed)}")


@app.command("options-calibrate")
def options_calibrate(
    scenarios: Annotated[
        int | None, typer.Option(min=500, help="Scenarios in the labelled calibration history (default 6,000).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed of the calibration history (default: the fixed calibration seed).")
    ] = None,
) -> None:
    """Refit the per-profile calibrators and store them next to the rules config."""
    # lazy: keeps --help and argument errors fast (the engine and the synthetic market load here)
    from smart_money.options.engine.rules import load_rules
    from smart_money.options.evaluation import refit_calibration

    path = refit_calibration(load_rules(), scenarios, seed)
    console.print(f"wrote {path}")
