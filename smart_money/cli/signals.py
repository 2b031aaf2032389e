"""`signals study`: every disclosure family in event time and calendar time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from smart_money.cli.common import (
    DirOption,
    EndOption,
    QuietOption,
    SourceOption,
    StartOption,
    SymbolsOption,
    settings_from,
)
from smart_money.cli.errors import usage_error
from smart_money.cli.progress import StepProgress

app = typer.Typer(help="Smart-money disclosures in event time and calendar time.", no_args_is_help=True)


def planted_specs(specs: list[str]) -> list[tuple[str, float]]:
    """FAMILY:BP options as (family, basis points); a malformed one is a usage error."""
    parsed = []
    for spec in specs:
        family, _, bp = spec.partition(":")
        try:
            parsed.append((family, float(bp)))
        except ValueError as exc:
            raise usage_error(f"--plant {spec!r}: expected FAMILY:BP, e.g. congress_purchase:100") from exc
    return parsed


@app.command()
def study(
    out: Annotated[Path, typer.Option(help="Folder for event_study.json, calendar_time.json and the report.")],
    start: StartOption = None,
    end: EndOption = None,
    symbols: SymbolsOption = None,
    source: SourceOption = None,
    records_dir: DirOption = None,
    bootstrap: Annotated[int, typer.Option(min=0, help="Date-bootstrap draws per interval.")] = 1000,
    plant: Annotated[
        list[str] | None,
        typer.Option(
            help="FAMILY:BP, repeatable: also plant BP basis points over 21 sessions after that family's events "
            "and measure them (can the study see an effect of that size here?); writes DIR/planted.json."
        ),
    ] = None,
    quiet: QuietOption = False,
) -> None:
    """Every family's event study (abnormal returns after the first close past the public time,
    against equal-weight, matched and market benchmarks, with a placebo) and calendar-time
    portfolios over the configured source and window; writes DIR/event_study.json,
    DIR/calendar_time.json, DIR/event_study_breakdown.json, DIR/coverage.json, DIR/study.json,
    DIR/events.parquet, DIR/summary.md and DIR/signal_study.html."""
    settings = settings_from(start, end, symbols, source, records_dir, check_source=True)
    planted = planted_specs(plant or [])
    # lazy: keeps --help and argument errors fast (pandas, statsmodels, matplotlib, the sources)
    import pandas as pd

    from smart_money.reporting.research_report import markdown_summary, write_research_report
    from smart_money.research.planted import planted_check
    from smart_money.research.study import StudyConfig, study_from_source, write_study
    from smart_money.sources import open_source

    data_source = open_source(settings)
    title = f"signals study: source={settings.source} months={settings.start:%Y-%m}..{settings.last_month():%Y-%m}"
    first, last = pd.Timestamp(settings.start), pd.Timestamp(settings.last_month())
    try:
        with StepProgress(title, quiet=quiet) as progress:
            result, events, pulled = study_from_source(
                data_source,
                settings.symbols,
                first,
                last,
                settings.hedge_funds,
                StudyConfig(bootstrap=bootstrap),
                progress,
            )
            written = write_study(result, out)
            events.to_parquet(out / "events.parquet", index=False)
            (out / "summary.md").write_text(markdown_summary(result.to_json()))
            written += [out / "events.parquet", out / "summary.md", Path(write_research_report(result, str(out)))]
            if planted:
                stocks = (
                    pulled.universe.loc[pulled.universe["asset_type"] == "stock", "symbol"].drop_duplicates().tolist()
                )
                checks = []
                for family, bp in planted:
                    checks.append(planted_check(events, pulled.prices, stocks, data_source.market_index(), family, bp))
                    recovered = checks[-1]["recovered_matched_bp"]
                    progress(f"planted {bp:g} bp after {family}: recovered {recovered:.1f} bp (matched)")
                (out / "planted.json").write_text(json.dumps(checks, indent=2))
                written.append(out / "planted.json")
    finally:
        data_source.close()
    for path in written:
        typer.echo(f"wrote {path}")
