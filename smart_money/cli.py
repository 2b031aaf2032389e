"""The `smart-money` command line."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from smart_money.data import storage
from smart_money.settings import Settings, SettingsError, parse_month, parse_symbols

warnings.filterwarnings("ignore", module=r"dagster\..*")
warnings.filterwarnings("ignore", message=r".*(beta|preview|superseded).*")
app = typer.Typer(help="Smart-money signals: pipeline runs and tools.", no_args_is_help=True, add_completion=False)
console = Console()

StartOption = Annotated[str | None, typer.Option(help="First month, YYYY-MM (default SMART_MONEY_START).")]
EndOption = Annotated[
    str | None, typer.Option(help="Last month, YYYY-MM (default SMART_MONEY_END or the last complete month).")
]
SymbolsOption = Annotated[
    str | None, typer.Option(help="Universe size or comma-separated tickers (default SMART_MONEY_SYMBOLS).")
]
SourceOption = Annotated[
    str | None, typer.Option(help="simulated | fmp | public_records (default SMART_MONEY_SOURCE).")
]
DirOption = Annotated[
    Path | None, typer.Option("--dir", help="Folder of public records (default SMART_MONEY_PUBLIC_RECORDS_DIR).")
]
RunConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", help="YAML file of asset configs, e.g. 'dataset_splits: {walk_forward_through_test: true}'."
    ),
]


@app.callback()
def main() -> None:
    """Smart-money signals: run the pipeline and manage its outputs. Configuration comes from
    SMART_MONEY_* environment variables (see the README); options override them."""


def settings_from(
    start: str | None = None,
    end: str | None = None,
    symbols: str | None = None,
    source: str | None = None,
    records_dir: Path | None = None,
) -> Settings:
    """Environment settings with command-line overrides; exits with a clear message if invalid.
    A source given here is read as if it were SMART_MONEY_SOURCE (its defaults follow it)."""
    try:
        environ = dict(os.environ)
        if source:
            environ["SMART_MONEY_SOURCE"] = source
        if records_dir:
            environ["SMART_MONEY_PUBLIC_RECORDS_DIR"] = str(records_dir)
        settings = Settings.from_env(environ)
        changes: dict[str, object] = {}
        if start:
            changes["start"] = parse_month(start, "--start")
        if end:
            changes["end"] = parse_month(end, "--end")
        if symbols:
            changes["symbols"] = parse_symbols(symbols)
        return settings.with_overrides(**changes) if changes else settings
    except SettingsError as exc:
        console.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc


def asset_configs(path: Path) -> dict[str, dict]:
    """{asset name: config} from a YAML file; exits with a clear message if it is not one."""
    import yaml

    try:
        loaded = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        console.print(f"[red]cannot read {path}:[/red] {exc}")
        raise typer.Exit(2) from exc
    if not isinstance(loaded, dict) or not all(isinstance(k, str) and isinstance(v, dict) for k, v in loaded.items()):
        console.print(
            f"[red]{path} must map asset names to config mappings[/red], e.g. 'dataset_splits: {{walk_forward_through_test: true}}'"
        )
        raise typer.Exit(2)
    return loaded


ChunkOption = Annotated[
    int | None,
    typer.Option(
        min=1, help="Run the monthly assets this many months at a time (bounds memory by history length; same results)."
    ),
]


@app.command()
def run(
    start: StartOption = None,
    end: EndOption = None,
    symbols: SymbolsOption = None,
    source: SourceOption = None,
    records_dir: DirOption = None,
    config: RunConfigOption = None,
    chunk_months: ChunkOption = None,
) -> None:
    """Materialize the whole monthly graph for the configured range (one in-process run, or
    --chunk-months at a time, then the model) and print where the outputs are."""
    import dagster as dg

    from smart_money.definitions import CODE_LOCATION
    from smart_money.orchestration.runner import run_monthly_graph

    settings = settings_from(start, end, symbols, source, records_dir)
    op_config = asset_configs(config) if config else None
    last = settings.last_month()
    console.print(
        f"smart-money run: source={settings.source} months={settings.start:%Y-%m}..{last:%Y-%m} "
        f"symbols={settings.symbols if isinstance(settings.symbols, int) else len(settings.symbols)}"
    )
    try:
        summary = run_monthly_graph(CODE_LOCATION, settings, op_config=op_config, chunk_months=chunk_months)
    except dg.DagsterInvalidConfigError as exc:
        console.print(f"[red]configuration error in {config}:[/red] {exc}")
        raise typer.Exit(2) from exc

    table = Table(title=f"run {summary.run_id} ({summary.first_partition} .. {summary.last_partition})")
    table.add_column("asset")
    table.add_column("rows", justify="right")
    table.add_column("quarantined", justify="right")
    for outcome in summary.assets:
        quarantined = outcome.metadata.get("rows_quarantined")
        table.add_row(
            outcome.asset,
            "" if outcome.rows is None else f"{outcome.rows:,}",
            "" if quarantined is None else str(quarantined),
        )
    console.print(table)
    passed = sum(1 for c in summary.checks if c[2])
    console.print(f"checks: {passed}/{len(summary.checks)} passed")
    for asset, check, _, severity in summary.failed_checks:
        console.print(f"  [yellow]{severity}[/yellow] {asset}:{check}")
    console.print(f"data:       {storage.join(settings.data_location, 'assets')}")
    console.print(f"quarantine: {storage.join(settings.data_location, 'quarantine')}")
    console.print(f"runs:       {os.environ.get('DAGSTER_HOME')} (open them with `make ui`)")
    if not summary.success:
        console.print(f"[red]run failed:[/red] {summary.error}")
        raise typer.Exit(1)
    print_model_summary(settings)


def print_model_summary(settings: Settings) -> None:
    """The latest registry entry in a few lines (what a run ends with)."""
    import json

    from smart_money.model.registry import Registry

    registry = Registry(settings.models_location)
    versions = registry.index()["versions"]
    if not versions:
        return
    entry = versions[-1]
    metadata = json.loads((registry.folder(entry["version"]) / "metadata.json").read_text())
    test = metadata["metrics"]["test"]
    best_name, best = max(((n, b["test_roc_auc"]) for n, b in metadata["baselines"].items()), key=lambda nb: nb[1])
    console.print(f"\nmodel v{entry['version']}: [bold]{entry['status']}[/bold]")
    line = f"  test ROC AUC {test['roc_auc']:.4f} (best baseline {best_name} {best:.4f}"
    if "oracle" in metadata:
        line += f"; oracle_public {metadata['oracle']['public_test_roc_auc']:.4f}, oracle_truth {metadata['oracle']['truth_test_roc_auc']:.4f}"
    console.print(line + f"), ECE {test['ece']:.4f}, Brier skill {test['brier_skill']:+.4f}")
    if "independent_universe" in metadata:
        iu = metadata["independent_universe"]
        diff = iu["model_minus_public_auc"]
        console.print(
            f"  independent universes ({iu['worlds']} worlds, {iu['n']:,} rows): AUC {iu['model_roc_auc']:.4f} vs oracle_public "
            f"{iu['oracle_public_roc_auc']:.4f} ({diff['difference']:+.4f} [{diff['ci_low']:+.4f}, {diff['ci_high']:+.4f}]), "
            f"ECE {iu['ece']:.4f}, ECE vs oracle {iu['ece_vs_oracle_public']:.4f}"
        )
    for name, gate in metadata["gates"].items():
        mark = "[green]pass[/green]" if gate["passed"] else "[red]FAIL[/red]"
        console.print(f"  gate {name:16s} {mark}  {gate['detail']}")
    for reason in entry["reasons"]:
        console.print(f"  [yellow]{reason}[/yellow]")
    console.print(f"  report: {registry.folder(entry['version']) / 'report.html'}")


def registry_version(registry, name: str) -> str:
    """'1.0.2' / 'v1.0.2' / 'champion' / 'latest' -> a registered version (RegistryError if none)."""
    from smart_money.model.registry import RegistryError

    index = registry.index()
    chosen = {
        "champion": index["champion"],
        "latest": index["versions"][-1]["version"] if index["versions"] else None,
    }.get(name, name.lstrip("v"))
    if not chosen:
        raise RegistryError(f"no {name} version in {registry.index_path}")
    return chosen


def data_source(settings: Settings):
    """The configured source, built outside a Dagster run."""
    from smart_money.sources import open_source

    try:
        return open_source(settings)
    except (SettingsError, FileNotFoundError) as exc:
        console.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc


@app.command()
def evaluate(
    model: Annotated[str, typer.Option(help="Registered version (e.g. 1.0.0), 'champion' or 'latest'.")],
    start: Annotated[str, typer.Option(help="First month of sample dates, YYYY-MM.")],
    end: Annotated[str, typer.Option(help="Last month of sample dates, YYYY-MM.")],
    out: Annotated[Path, typer.Option(help="Where to write the metrics (JSON).")],
    source: SourceOption = None,
    records_dir: DirOption = None,
    symbols: Annotated[
        str | None, typer.Option(help="Universe size, comma-separated tickers or @file (default SMART_MONEY_SYMBOLS).")
    ] = None,
    bootstrap: Annotated[int, typer.Option(min=0, help="Date-bootstrap draws for the intervals.")] = 200,
) -> None:
    """Score a registered model on any source, universe and period without retraining; writes
    the keys of metadata.json's metrics.test plus n_samples, n_symbols and baselines scored on
    the same samples."""
    import json

    import pandas as pd

    from smart_money.dataset.features import UniverseRules
    from smart_money.dataset.pipeline import dataset_from_source
    from smart_money.evaluation.score_registered import score_registered_model
    from smart_money.model.registry import Registry, RegistryError, TamperedArtifact

    settings = settings_from(start, end, symbols, source, records_dir)
    registry = Registry(settings.models_dir)
    try:
        flow_model, metadata = registry.load_model(registry_version(registry, model))
        evaluation = json.loads((registry.folder(metadata["version"]) / "evaluation.json").read_text())
    except (RegistryError, TamperedArtifact, FileNotFoundError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    data = dataset_from_source(
        data_source(settings),
        settings.symbols,
        pd.Timestamp(settings.start),
        pd.Timestamp(settings.last_month()),
        rules=UniverseRules(settings.min_inst_ownership_pct, settings.require_insider_activity),
        hedge_funds=settings.hedge_funds,
    )
    try:
        result = score_registered_model(flow_model, evaluation, data.dataset, bootstrap)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    result = {
        "model_version": metadata["version"],
        "model_status": metadata["status"],
        "model_data": metadata["data"],
        "source": settings.source,
        "months": [f"{settings.start:%Y-%m}", f"{settings.last_month():%Y-%m}"],
        **result,
        "dataset_counts": data.counts,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    table = Table(
        title=f"v{metadata['version']} on {settings.source}: {result['n_samples']:,} samples, {result['n_symbols']} symbols, {result['n_dates']} dates -> {out}"
    )
    for column in ("scores", "ROC AUC", "per-date AUC", "Brier skill", "top-decile precision", "Rank IC"):
        table.add_column(column, justify="left" if column == "scores" else "right", no_wrap=column == "scores")
    fmt = lambda v: "-" if v is None else f"{v:.4f}"  # noqa: E731
    table.add_row(
        "model",
        fmt(result["roc_auc"]),
        fmt(result["per_date_auc"]),
        fmt(result["brier_skill"]),
        fmt(result["top_decile_precision"]),
        fmt(result["rank_ic_mean"]),
    )
    for name, b in result["baselines"].items():
        table.add_row(
            name,
            fmt(b.get("roc_auc")),
            fmt(b.get("per_date_auc")),
            fmt(b.get("brier_skill")),
            fmt(b.get("top_decile_precision")),
            fmt(b.get("rank_ic_mean")),
        )
    console.print(table)
    console.print(
        f"base rate {result['base_rate']:.3f} (training {result['reference_base_rate']:.3f}); ECE {result['ece']:.4f}; "
        f"per-date AUC on rises {result['direction']['score_per_date_auc_on_rises']:.4f} vs falls {result['direction']['score_per_date_auc_on_falls']:.4f}"
    )


@app.command()
def universe(
    source: SourceOption = None,
    records_dir: DirOption = None,
    skip: Annotated[int, typer.Option(min=0, help="Leave out the first N stocks (e.g. the N a run trained on).")] = 0,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many stocks.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the tickers here, one per line (default: print them).")
    ] = None,
) -> None:
    """The source's stocks in universe order (SMART_MONEY_SYMBOLS=N takes the first N), e.g. to
    write the held-out symbols of a run for `smart-money evaluate --symbols @file`."""
    settings = settings_from(source=source, records_dir=records_dir)
    frame = data_source(settings).universe()
    stocks = frame.loc[frame["asset_type"] == "stock", "symbol"].drop_duplicates().tolist()[skip:]
    stocks = stocks[:limit] if limit else stocks
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(stocks) + "\n")
        console.print(f"wrote {len(stocks)} tickers to {out}")
    else:
        print("\n".join(stocks))


@app.command("records-coverage")
def records_coverage(
    start: Annotated[str, typer.Option(help="First month, YYYY-MM.")],
    end: Annotated[str, typer.Option(help="Last month, YYYY-MM.")],
    records_dir: DirOption = None,
    out: Annotated[Path | None, typer.Option(help="Also write the table here (Markdown).")] = None,
) -> None:
    """What a public-records folder holds per table and year (by public date), and how much of it
    has prices (the rest is out of reach: survivorship); then where the universe comes from (price
    collections, delisted and renamed names, the first SMART_MONEY_SYMBOLS of a run)."""
    import pandas as pd

    from smart_money.reporting.study_report import markdown_table

    settings = settings_from(start, end, source="public_records", records_dir=records_dir)
    first, stop = pd.Timestamp(settings.start), pd.Timestamp(settings.last_month()) + pd.offsets.MonthBegin(1)
    source = data_source(settings)
    run_size = settings.symbols if isinstance(settings.symbols, int) else None
    text = "\n\n".join(
        [
            "## Records per table and year of their public date",
            markdown_table(source.coverage(first, stop)),  # type: ignore[attr-defined]
            f"## Universe: stocks with a price file, by price collection (a run takes the first {run_size or 'all'})",
            markdown_table(source.universe_summary(first, stop, run_size)),  # type: ignore[attr-defined]
        ]
    )
    print(text)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")


models_app = typer.Typer(help="The model registry (models/smart-money-flow/registry.json).", no_args_is_help=True)
app.add_typer(models_app, name="models")


def _registry():
    from smart_money.model.registry import Registry

    return Registry(settings_from().models_location)


@models_app.command("list")
def models_list() -> None:
    """Every registered version with its status, test metrics and gates."""
    index = _registry().index()
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


@models_app.command("export")
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
    from smart_money.model.registry import RegistryError, TamperedArtifact
    from smart_money.reporting.study_report import export

    registry = _registry()
    try:
        folder = registry.verify(registry_version(registry, version))
    except (RegistryError, TamperedArtifact) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    try:
        written = export(folder, out, held_out)
    except (OSError, ValueError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    for path in written:
        console.print(f"wrote {path}")


@models_app.command("promote")
def models_promote(version: Annotated[str, typer.Argument(help="Version to make champion, e.g. 1.0.2")]) -> None:
    """Make a registered (not rejected) version the champion."""
    from smart_money.model.registry import RegistryError, TamperedArtifact

    try:
        entry = _registry().promote(version.lstrip("v"))
    except (RegistryError, TamperedArtifact) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"v{entry['version']} is now the champion")


@models_app.command("rollback")
def models_rollback() -> None:
    """Restore the previous champion."""
    from smart_money.model.registry import RegistryError, TamperedArtifact

    try:
        entry = _registry().rollback()
    except (RegistryError, TamperedArtifact) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"rolled back: v{entry['version']} is the champion again")


@app.command()
def docs() -> None:
    """Regenerate the generated documentation (docs/features.md from the feature catalogue)."""
    from smart_money.reporting.generated_docs import write_docs

    for path in write_docs():
        console.print(f"wrote {path}")


# --- serving -------------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    warm: Annotated[
        bool,
        typer.Option(
            help="Compute the latest close's features and start the event reader at start-up, not on first use."
        ),
    ] = True,
) -> None:
    """Start the HTTP service: predictions, registry, feature toggle, stock analysis, smart-money
    events and the web page (http://HOST:PORT/, OpenAPI docs at /docs)."""
    import uvicorn

    from smart_money.serve.app import create_app

    settings = settings_from()
    console.print(
        f"smart-money serve: source={settings.source}, models in {settings.models_dir}, http://{host}:{port}/ (docs: /docs)"
    )
    uvicorn.run(create_app(settings, warm=warm), host=host, port=port, log_level="info")


@app.command()
def predict(
    symbol: Annotated[str | None, typer.Argument(help="Ticker (omit with --jsonl).")] = None,
    date: Annotated[str | None, typer.Option(help="Session date YYYY-MM-DD (default: the latest close).")] = None,
    features: Annotated[
        str | None, typer.Option(help="The 27 smart-money features as a JSON list (null where undefined).")
    ] = None,
    jsonl: Annotated[
        bool,
        typer.Option(
            "--jsonl",
            help="Read one JSON request per stdin line, write one JSON answer per line; the model is loaded once.",
        ),
    ] = False,
) -> None:
    """Predict with the champion model from the command line, or as a long-running JSON-lines
    worker for programs in other languages (requests and answers have the API's shape)."""
    import json
    import sys

    from smart_money.model.registry import Registry
    from smart_money.serve.feature_provider import FeatureProvider
    from smart_money.serve.jsonlines import answer_line, serve_lines
    from smart_money.serve.prediction import ChampionModel, PredictionService

    settings = settings_from()
    provider = FeatureProvider(settings)
    service = PredictionService(ChampionModel(Registry(settings.models_dir)), provider)
    try:
        if jsonl:
            for answer in serve_lines(service, sys.stdin):
                sys.stdout.write(answer + "\n")
                sys.stdout.flush()
            return
        if not symbol:
            console.print("[red]give a SYMBOL, or --jsonl to read requests from stdin[/red]")
            raise typer.Exit(2)
        request = {
            "symbol": symbol,
            **({"date": date} if date else {}),
            **({"features": json.loads(features)} if features else {}),
        }
        result = answer_line(service, json.dumps(request))
        print(json.dumps(result, indent=2))
        if "error" in result:
            raise typer.Exit(1)
    finally:
        provider.close()


cache_app = typer.Typer(help="The FMP disk cache (FMP_CACHE_DIR, default data/cache/fmp).", no_args_is_help=True)
app.add_typer(cache_app, name="cache")


def _fmp_cache():
    from smart_money.settings.fmp import FmpSettings
    from smart_money.sources.fmp import DiskCache

    try:
        fmp = FmpSettings.from_env()
        return DiskCache(fmp.cache_root(settings_from().data_dir), fmp.cache_ttl_days, fmp.finalized_ttl_days)
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
    for key in (
        "entries",
        "fresh",
        "expired",
        "symbols",
        "bytes",
        "calls_stored",
        "ttl_days",
        "finalized_ttl_days",
        "temporary_files",
    ):
        table.add_row(key, f"{summary[key]:,}" if isinstance(summary[key], int) else f"{summary[key]:g}")
    for data_type, count in summary["per_data_type"].items():
        table.add_row(f"  {data_type}", f"{count:,}")
    console.print(table)


@cache_app.command("clear")
def cache_clear(
    symbol: Annotated[str | None, typer.Option(help="Only this ticker's entries (default: everything).")] = None,
) -> None:
    """Delete cached FMP responses (all, or one symbol's); the next run fetches them again."""
    removed = _fmp_cache().clear(symbol.upper() if symbol else None)
    console.print(f"removed {removed} cache entries" + (f" for {symbol.upper()}" if symbol else ""))


sec_app = typer.Typer(
    help="The SEC's bulk data sets (Forms 3/4/5 and 13F) for the public-records source.", no_args_is_help=True
)
app.add_typer(sec_app, name="sec")


@sec_app.command("download")
def sec_download(
    first: Annotated[str, typer.Option("--from", help="First quarter of filing dates, e.g. 2019q1.")],
    last: Annotated[str, typer.Option("--to", help="Last quarter of filing dates, e.g. 2022q4.")],
    folder: Annotated[
        Path, typer.Option("--dir", help="Where the ZIPs go: <records>/sec (insider/ and 13f/ beneath it).")
    ],
    only: Annotated[str | None, typer.Option(help="Only this data set: insider or 13f (default both).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress output, only the summary.")] = False,
) -> None:
    """Download the SEC's Insider Transactions and Form 13F data sets (User-Agent from
    SMART_MONEY_SEC_USER_AGENT, at most 8 requests in any 1.25 s, retries, verified ZIPs, SHA256SUMS)."""
    from smart_money.sources.public_records.sec.download import (
        describe_report,
        download_datasets,
        parse_quarter_range,
        planned_files,
    )
    from smart_money.settings.sec import SecSettings

    datasets = (only,) if only else ("insider", "13f")
    try:
        settings = SecSettings.from_env()
        quarters = parse_quarter_range(first, last)
        planned_files(*quarters, datasets)
    except ValueError as exc:  # SettingsError is one
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    report = download_datasets(
        *quarters, folder, settings.user_agent, datasets=datasets, base_url=settings.base_url, quiet=quiet
    )
    for line in describe_report(report, folder):
        typer.echo(line)
    if not report.ok:
        raise typer.Exit(1)


# --- options flow --------------------------------------------------------------------------


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
    scenarios: Annotated[
        int, typer.Option(min=50, help="Synthetic scenarios (one event each; >= 2,100 gives >= 2,000 events).")
    ] = 2400,
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
    console.print(
        f"noise abstention {result['abstention_rate_noise']:.3f} | live-vs-replay ID agreement {result['live_vs_replay']['id_agreement']:.3f} | {result['throughput']['prints_per_second']:,.0f} prints/s"
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
    from smart_money.options.engine.rules import load_rules
    from smart_money.options.evaluation import refit_calibration

    path = refit_calibration(load_rules(), scenarios, seed)
    console.print(f"wrote {path}")


if __name__ == "__main__":  # pragma: no cover
    app()
