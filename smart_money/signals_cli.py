"""`smart-money signals ...`: the signal study from the command line (a Typer sub-app; the CLI
registers it as `signals`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from smart_money.settings import SettingsError, settings_with_options

signals_app = typer.Typer(
    help="Smart-money disclosures in event time and calendar time.", no_args_is_help=True, add_completion=False
)


@signals_app.callback()
def signals() -> None:
    """Disclosure events measured the way the literature does (docs/signal-families.md)."""


@signals_app.command()
def study(
    out: Annotated[Path, typer.Option(help="Folder for event_study.json, calendar_time.json and the report.")],
    start: Annotated[str | None, typer.Option(help="First month, YYYY-MM (default SMART_MONEY_START).")] = None,
    end: Annotated[str | None, typer.Option(help="Last month, YYYY-MM (default SMART_MONEY_END).")] = None,
    symbols: Annotated[
        str | None, typer.Option(help="Universe size, comma-separated tickers or @file (default SMART_MONEY_SYMBOLS).")
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="simulated | fmp | public_records (default SMART_MONEY_SOURCE).")
    ] = None,
    records_dir: Annotated[
        Path | None, typer.Option("--dir", help="Folder of public records (default SMART_MONEY_PUBLIC_RECORDS_DIR).")
    ] = None,
    bootstrap: Annotated[int, typer.Option(min=0, help="Date-bootstrap draws per interval.")] = 1000,
    plant: Annotated[
        list[str] | None,
        typer.Option(
            help="FAMILY:BP, repeatable: also plant BP basis points over 21 sessions after that family's events "
            "and measure them (can the study see an effect of that size here?); writes DIR/planted.json."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No progress lines on stderr.")] = False,
) -> None:
    """Every family's event study (abnormal returns after the first close past the public time,
    against equal-weight, matched and market benchmarks, with a placebo) and calendar-time
    portfolios over the configured source and window; writes DIR/event_study.json,
    DIR/calendar_time.json, DIR/event_study_breakdown.json, DIR/coverage.json, DIR/study.json,
    DIR/events.parquet and DIR/signal_study.html."""
    import sys

    import pandas as pd  # lazy: keeps `smart-money --help` fast

    from smart_money.reporting.research_report import markdown_summary, write_research_report  # lazy: matplotlib
    from smart_money.research.study import StudyConfig, stderr_progress, study_from_source, write_study
    from smart_money.sources import open_source  # lazy: every source's dependencies

    try:
        settings = settings_with_options(None, start, end, symbols, source, records_dir)
        data_source = open_source(settings)
    except (SettingsError, FileNotFoundError) as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from exc
    progress = stderr_progress(quiet or not sys.stderr.isatty())
    progress(f"signals study: source={settings.source} months={settings.start:%Y-%m}..{settings.last_month():%Y-%m}")
    planted_specs = []
    for spec in plant or []:
        family, _, bp = spec.partition(":")
        try:
            planted_specs.append((family, float(bp)))
        except ValueError as exc:
            typer.echo(f"--plant {spec!r}: expected FAMILY:BP, e.g. congress_purchase:100", err=True)
            raise typer.Exit(2) from exc
    result, events, pulled = study_from_source(
        data_source,
        settings.symbols,
        pd.Timestamp(settings.start),
        pd.Timestamp(settings.last_month()),
        settings.hedge_funds,
        StudyConfig(bootstrap=bootstrap),
        progress,
    )
    written = write_study(result, out)
    events.to_parquet(out / "events.parquet", index=False)
    (out / "summary.md").write_text(markdown_summary(result.to_json()))
    written += [out / "events.parquet", out / "summary.md", Path(write_research_report(result, str(out)))]
    if planted_specs:
        import json

        from smart_money.research.planted import planted_check

        stocks = pulled.universe.loc[pulled.universe["asset_type"] == "stock", "symbol"].drop_duplicates().tolist()
        checks = []
        for family, bp in planted_specs:
            checks.append(planted_check(events, pulled.prices, stocks, data_source.market_index(), family, bp))
            progress(
                f"planted {bp:g} bp after {family}: recovered {checks[-1]['recovered_matched_bp']:.1f} bp (matched)"
            )
        (out / "planted.json").write_text(json.dumps(checks, indent=2))
        written.append(out / "planted.json")
    data_source.close()
    for path in written:
        typer.echo(f"wrote {path}")


if __name__ == "__main__":  # pragma: no cover  (python -m smart_money.signals_cli study ...)
    signals_app()
