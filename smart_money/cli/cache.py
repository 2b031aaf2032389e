"""`cache stats|clear`: the FMP disk cache."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from smart_money.cli.common import console, settings_from
from smart_money.settings.fmp import FmpSettings

if TYPE_CHECKING:
    from smart_money.sources.fmp import DiskCache

app = typer.Typer(help="The FMP disk cache (FMP_CACHE_DIR, default data/cache/fmp).", no_args_is_help=True)

SUMMARY_KEYS = (
    "entries",
    "fresh",
    "expired",
    "corrupt",
    "symbols",
    "bytes",
    "calls_stored",
    "ttl_days",
    "finalized_ttl_days",
    "set_aside_as_corrupt",
    "temporary_files",
)


def fmp_cache() -> DiskCache:
    """The FMP disk cache of the configured settings (FMP_* checked before the heavy import)."""
    settings, fmp = settings_from(), FmpSettings.from_env()
    # lazy: keeps --help and argument errors fast (the sources load pandas and the simulated market)
    from smart_money.sources import fmp_disk_cache

    return fmp_disk_cache(settings, fmp)


@app.command("stats")
def cache_stats() -> None:
    """Entries, size, fresh/expired, and the HTTP calls the stored entries stand for."""
    summary = fmp_cache().summary()
    table = Table(title=f"FMP cache {summary['location']}")
    table.add_column("what")
    table.add_column("value", justify="right")
    for key in SUMMARY_KEYS:
        table.add_row(key, f"{summary[key]:,}" if isinstance(summary[key], int) else f"{summary[key]:g}")
    for data_type, count in summary["per_data_type"].items():
        table.add_row(f"  {data_type}", f"{count:,}")
    console.print(table)


@app.command("clear")
def cache_clear(
    symbol: Annotated[str | None, typer.Option(help="Only this ticker's entries (default: everything).")] = None,
) -> None:
    """Delete cached FMP responses (all, or one symbol's); the next run fetches them again."""
    removed = fmp_cache().clear(symbol.upper() if symbol else None)
    console.print(f"removed {removed} cache entries" + (f" for {symbol.upper()}" if symbol else ""))
