"""The `smart-money` command line."""

from __future__ import annotations

import os
import warnings
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


cache_app = typer.Typer(help="The FMP disk cache (FMP_CACHE_DIR, default data/cache/fmp).", no_args_is_help=True)
app.add_typer(cache_app, name="cache")


def _fmp_cache():
    from smart_money.sources.fmp.config import FmpSettings

    try:
        return FmpSettings.from_env().disk_cache(settings_from().data_dir)
    except SettingsError as exc:
        console.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc


@cache_app.command("stats")
def cache_stats() -> None:
    """Entries, size, fresh/expired, and the HTTP calls the stored entries stand for."""
    summary = _fmp_cache().summary()
    table = Table(title=f"FMP cache {summary['location']}")
    table.add_column("what")
    table.add_column("value", justify="right")
    for key in ("entries", "fresh", "expired", "symbols", "bytes", "calls_stored", "ttl_days", "finalized_ttl_days", "temporary_files"):
        table.add_row(key, f"{summary[key]:,}" if isinstance(summary[key], int) else f"{summary[key]:g}")
    for data_type, count in summary["per_data_type"].items():
        table.add_row(f"  {data_type}", f"{count:,}")
    console.print(table)


@cache_app.command("clear")
def cache_clear(symbol: Annotated[str | None, typer.Option(help="Only this ticker's entries (default: everything).")] = None) -> None:
    """Delete cached FMP responses (all, or one symbol's); the next run fetches them again."""
    removed = _fmp_cache().clear(symbol.upper() if symbol else None)
    console.print(f"removed {removed} cache entries" + (f" for {symbol.upper()}" if symbol else ""))


if __name__ == "__main__":  # pragma: no cover
    app()
