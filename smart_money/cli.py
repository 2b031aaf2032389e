"""The `smart-money` command line."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from smart_money.core.settings import Settings, SettingsError, parse_month, parse_symbols

warnings.filterwarnings("ignore", module=r"dagster\..*")
warnings.filterwarnings("ignore", message=r".*(beta|preview|superseded).*")
app = typer.Typer(help="Smart-money signals: pipeline runs and tools.", no_args_is_help=True, add_completion=False)
console = Console()

StartOption = Annotated[str | None, typer.Option(help="First month, YYYY-MM (default SMART_MONEY_START).")]
EndOption = Annotated[str | None, typer.Option(help="Last month, YYYY-MM (default SMART_MONEY_END or the last complete month).")]
SymbolsOption = Annotated[str | None, typer.Option(help="Universe size or comma-separated tickers (default SMART_MONEY_SYMBOLS).")]
SourceOption = Annotated[str | None, typer.Option(help="simulated | fmp | public_records (default SMART_MONEY_SOURCE).")]


@app.callback()
def main() -> None:
    """Smart-money signals: run the pipeline and manage its outputs. Configuration comes from
    SMART_MONEY_* environment variables (see the README); options override them."""


def settings_from(start: str | None = None, end: str | None = None, symbols: str | None = None, source: str | None = None) -> Settings:
    """Environment settings with command-line overrides; exits with a clear message if invalid."""
    try:
        settings = Settings.from_env()
        changes: dict[str, object] = {}
        if start:
            changes["start"] = parse_month(start, "--start")
        if end:
            changes["end"] = parse_month(end, "--end")
        if symbols:
            changes["symbols"] = parse_symbols(symbols)
        if source:
            changes["source"] = source
        return settings.with_overrides(**changes) if changes else settings
    except SettingsError as exc:
        console.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc


@app.command()
def run(start: StartOption = None, end: EndOption = None, symbols: SymbolsOption = None, source: SourceOption = None) -> None:
    """Materialize the whole monthly graph for the configured range (one in-process run) and
    print where the outputs are."""
    from smart_money.runner import run_monthly_graph

    settings = settings_from(start, end, symbols, source)
    last = settings.last_month()
    console.print(
        f"smart-money run: source={settings.source} months={settings.start:%Y-%m}..{last:%Y-%m} "
        f"symbols={settings.symbols if isinstance(settings.symbols, int) else len(settings.symbols)}"
    )
    summary = run_monthly_graph(settings)

    table = Table(title=f"run {summary.run_id} ({summary.first_partition} .. {summary.last_partition})")
    table.add_column("asset")
    table.add_column("rows", justify="right")
    table.add_column("quarantined", justify="right")
    for outcome in summary.assets:
        quarantined = outcome.metadata.get("rows_quarantined")
        table.add_row(outcome.asset, "" if outcome.rows is None else f"{outcome.rows:,}", "" if quarantined is None else str(quarantined))
    console.print(table)
    passed = sum(1 for c in summary.checks if c[2])
    console.print(f"checks: {passed}/{len(summary.checks)} passed")
    for asset, check, _, severity in summary.failed_checks:
        console.print(f"  [yellow]{severity}[/yellow] {asset}:{check}")
    console.print(f"data:       {settings.data_dir / 'assets'}")
    console.print(f"quarantine: {settings.data_dir / 'quarantine'}")
    console.print(f"runs:       {os.environ.get('DAGSTER_HOME')} (open them with `make ui`)")
    if not summary.success:
        console.print(f"[red]run failed:[/red] {summary.error}")
        raise typer.Exit(1)


# --- options flow --------------------------------------------------------------------------

@app.command("options-score")
def options_score(
    prints: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="Option prints (CSV, Parquet or JSON lines).")],
    quotes: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="Option NBBO quotes.")],
    out: Annotated[Path, typer.Option(help="Where to write the SmartMoneyEvents (JSON lines).")],
    underlying: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="Underlying quotes (spot, moves).")] = None,
    calendar: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="Event calendar (earnings, M&A ...).")] = None,
    store: Annotated[bool, typer.Option(help="Also insert the events into smart_money_events (chDB or SMART_MONEY_CLICKHOUSE_URL).")] = False,
) -> None:
    """Score option prints into smart-money events (file formats: README, "Options flow")."""
    from smart_money.options.runs import score_files

    summary = score_files(prints, quotes, out, underlying, calendar, settings_from() if store else None)
    table = Table(title=f"{summary['events']} events from {summary['prints']} prints -> {out}")
    table.add_column("primary profile")
    table.add_column("events", justify="right")
    for profile, count in summary["by_profile"].items():
        table.add_row(profile, str(count))
    console.print(table)
    if summary.get("stored") is not None:
        console.print(f"stored {summary['stored']} new events in {summary['store']}")


@app.command("options-eval")
def options_eval(
    out: Annotated[Path, typer.Option(help="Where to write the metrics (JSON).")],
    scenarios: Annotated[int, typer.Option(min=50, help="Synthetic scenarios (one event each; >= 2,100 gives >= 2,000 events).")] = 2400,
    seed: Annotated[int, typer.Option(help="Seed of the evaluation market (not the calibration seed).")] = 7,
) -> None:
    """Evaluate the engine on a labelled synthetic market: precision/recall, abstention,
    calibration (ECE, Brier), risk-coverage, direction, live-vs-replay agreement, throughput."""
    from smart_money.options.runs import evaluate_to_file

    result = evaluate_to_file(out, scenarios, seed)
    if result.get("warning"):
        console.print(f"[yellow]warning:[/yellow] {result['warning']}")
    table = Table(title=f"options-eval: {result['events']} events, seed {seed} -> {out}")
    for column in ("profile", "precision", "recall", "ECE", "Brier"):
        table.add_column(column, justify="right" if column != "profile" else "left")
    for profile, pr in result["per_profile"].items():
        cal = result["calibration"][profile]
        fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
        table.add_row(profile, fmt(pr["precision"]), fmt(pr["recall"]), fmt(cal["ece"]), fmt(cal["brier"]))
    console.print(table)
    console.print(f"noise abstention {result['abstention_rate_noise']:.3f} | live-vs-replay ID agreement {result['live_vs_replay']['id_agreement']:.3f} | {result['throughput']['prints_per_second']:,.0f} prints/s")
    failed = [name for name, ok in result["gates"].items() if not ok]
    console.print("gates: all passed" if not failed else f"[red]gates failed:[/red] {', '.join(failed)}")


@app.command("options-calibrate")
def options_calibrate(
    scenarios: Annotated[int | None, typer.Option(min=500, help="Scenarios in the labelled calibration history (default 6,000).")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the calibration history (default: the fixed calibration seed).")] = None,
) -> None:
    """Refit the per-profile calibrators and store them next to the rules config."""
    from smart_money.options.evaluation import refit_calibration
    from smart_money.options.scoring import load_rules

    path = refit_calibration(load_rules(), scenarios, seed)
    console.print(f"wrote {path}")


if __name__ == "__main__":  # pragma: no cover
    app()
