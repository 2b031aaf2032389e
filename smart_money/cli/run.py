"""`run`, `evaluate`, `universe`, `records-coverage`: the pipeline and the data it reads."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import yaml
from rich.markup import escape
from rich.table import Table

from smart_money.cli.common import (
    DirOption,
    EndOption,
    QuietOption,
    SourceOption,
    StartOption,
    SymbolsOption,
    check_out,
    console,
    number,
    settings_from,
    write_json,
    write_text,
)
from smart_money.cli.errors import USAGE, CliError, debug_requested, expected, failure, known_failure, usage_error
from smart_money.cli.progress import RunProgress, StepProgress

if TYPE_CHECKING:
    from smart_money.orchestration.runner import RunSummary
    from smart_money.reporting.model_summary import ModelSummary

app = typer.Typer()

RunConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", help="YAML file of asset configs, e.g. 'dataset_splits: {walk_forward_through_test: true}'."
    ),
]
HomeWaitOption = Annotated[
    float | None,
    typer.Option(
        "--wait-for-home",
        min=0,
        help="Seconds to wait while another run holds the same home (0: stop at once; default: wait until it ends).",
    ),
]
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
    wait_for_home: HomeWaitOption = None,
    quiet: QuietOption = False,
) -> None:
    """Materialize the whole monthly graph for the configured range (one in-process run, or
    --chunk-months at a time, then the model) and print where the outputs are. One run at a time
    per home: it first cleans up after runs that were killed (docs/operations.md)."""
    settings = settings_from(start, end, symbols, source, records_dir, check_source=True)
    op_config = asset_configs(config) if config else None
    # lazy: keeps --help and argument errors fast (Dagster and the whole pipeline load here)
    import dagster as dg

    from smart_money.data import storage
    from smart_money.definitions import CODE_LOCATION
    from smart_money.model.registry import Registry
    from smart_money.orchestration.home import HomeBusy, home_lock, recover_home
    from smart_money.orchestration.instance import ensure_dagster_home
    from smart_money.orchestration.runner import run_monthly_graph
    from smart_money.reporting.model_summary import latest_model_summary

    last = settings.last_month()
    count = settings.symbols if isinstance(settings.symbols, int) else len(settings.symbols)
    title = f"smart-money run: source={settings.source} months={settings.start:%Y-%m}..{last:%Y-%m} symbols={count}"
    dagster_home = ensure_dagster_home(settings)
    instance = dg.DagsterInstance.get()

    def waiting(message: str) -> None:
        console.print(f"[yellow]{escape(message)}; waiting for it to end[/yellow] (--wait-for-home SECONDS gives up)")

    # Dagster's own log lines (a stack per failed step) only with --debug; a failure is one line
    log_level = "WARNING" if debug_requested() else "CRITICAL"
    with (
        expected(HomeBusy, fix="wait for that run to end, or stop it (docs/operations.md)"),
        home_lock(dagster_home, wait_for_home, waiting, instance),
    ):
        for line in recover_home(instance, settings.data_location).lines():
            console.print(line)
        for line in recover_registries(settings.models_location):
            console.print(line)
        with (
            StepProgress(title, quiet=quiet) as progress,
            expected(dg.DagsterInvalidConfigError, exit_code=USAGE, context=f"configuration error in {config}"),
        ):
            summary = run_monthly_graph(
                CODE_LOCATION,
                settings,
                instance=instance,
                log_level=log_level,
                op_config=op_config,
                chunk_months=chunk_months,
                observer=RunProgress(progress),
            )
        recover_home(instance, settings.data_location)  # the run's own run-scoped copies, now it has ended
    if not summary.success:
        raise run_failure(summary)

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
    console.print(f"runs:       {dagster_home} (open them with `make ui`)")
    model = latest_model_summary(Registry(settings.models_location))
    if model is not None:
        print_model_summary(model)


@app.command()
def recover(
    failed_run: Annotated[
        list[str] | None,
        typer.Option(
            "--failed-run",
            help="Also mark this Dagster run failed and free its pool slots (a run known to be dead whose "
            "process this machine cannot see, e.g. on another machine). Repeatable.",
        ),
    ] = None,
    wait_for_home: Annotated[
        float,
        typer.Option(
            "--wait-for-home", min=0, help="Seconds to wait while a run holds the home (default: stop at once)."
        ),
    ] = 0,
) -> None:
    """Clean up a home after killed runs, as `smart-money run` does before it starts: runs whose
    process is gone marked failed and their smart_money_source slots freed, run copies of ended
    runs removed, interrupted registrations settled (docs/operations.md)."""
    settings = settings_from()
    # lazy: keeps --help and argument errors fast (Dagster loads here)
    import dagster as dg

    from smart_money.orchestration.home import HomeBusy, fail_run, home_lock, recover_home
    from smart_money.orchestration.instance import ensure_dagster_home

    dagster_home = ensure_dagster_home(settings)
    instance = dg.DagsterInstance.get()
    with (
        expected(HomeBusy, fix="a run is going on; it cleans up by itself"),
        home_lock(dagster_home, wait_for_home, instance=instance, command="smart-money recover"),
    ):
        with expected(ValueError, exit_code=USAGE):
            lines = [fail_run(instance, run_id) for run_id in failed_run or []]
        lines += recover_home(instance, settings.data_location).lines()
        lines += recover_registries(settings.models_location)
    for line in lines or [f"nothing to recover in {dagster_home} and {settings.models_location}"]:
        console.print(escape(line))


def recover_registries(models_location: str) -> list[str]:
    """What settling interrupted registrations did, in the plan's registry and the excess-target
    model's beside it."""
    from smart_money.evaluation.excess_target import EXCESS_MODEL_ID, EXCESS_REGISTRY_FOLDER
    from smart_money.model.registry import Registry

    lines = Registry(models_location).recover().lines()
    excess = Registry(models_location, EXCESS_REGISTRY_FOLDER, EXCESS_MODEL_ID).recover().lines()
    return lines + [f"{line} ({EXCESS_REGISTRY_FOLDER})" for line in excess]


def run_failure(summary: RunSummary) -> CliError:
    """The one line a failed run ends with: a known cause (unknown symbols, an empty records
    folder, an unreadable file ...) with its fix, else the failed step and its error."""
    from smart_money.orchestration.failures import user_causes

    causes = user_causes(summary.causes)
    known = known_failure((c.type_name, c.message) for c in causes)
    if known is not None:
        return known
    where = f"step {causes[0].step}: " if causes and causes[0].step else ""
    what = f"{causes[0].type_name.rpartition('.')[2]}: {causes[0].message}" if causes else summary.error
    return failure(
        f"run {summary.run_id} failed: {where}{what}",
        fix="`smart-money --debug run ...` shows the traceback; the run's step logs are in the Dagster UI (`make ui`)",
    )


def print_model_summary(model: ModelSummary) -> None:
    """The newest registered version in a few lines (what a run ends with): each gate once, and
    for a rejected version why it is not served and the two ways forward."""
    from smart_money.reporting.model_summary import ways_forward

    console.print(f"\nmodel v{model.version}: [bold]{model.status}[/bold]")
    console.print(f"  {escape(model.metrics)}")
    if model.independent_universes:
        console.print(f"  {escape(model.independent_universes)}")
    for gate in model.gates:
        mark = "[green]pass[/green]" if gate.passed else "[red]FAIL[/red]"
        rule = f" ({gate.rule()})" if gate.rule() else ""
        console.print(f"  gate {gate.name:16s} {mark}  {escape(gate.detail)}{escape(rule)}")
    for reason in model.reasons:
        console.print(f"  [yellow]{escape(reason)}[/yellow]")
    for note in model.interval_notes:
        console.print(f"  [yellow]intervals: {escape(note)}[/yellow]")
    console.print(f"  report: {escape(model.report)}")
    steps = ways_forward(model)
    if steps:
        console.print(
            "[yellow]rejected: `smart-money serve` predicts only with a champion (it answers 503 until there "
            "is one).[/yellow] Ways forward:"
        )
        for step in steps:
            console.print(f"  - {escape(step)}")


def asset_configs(path: Path) -> dict[str, dict]:
    """{asset name: config} from the --config YAML file (a usage error if it is not one)."""
    try:
        loaded = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise usage_error(f"cannot read {path}: {exc}") from exc
    if not isinstance(loaded, dict) or not all(isinstance(k, str) and isinstance(v, dict) for k, v in loaded.items()):
        raise usage_error(
            f"{path} must map asset names to config mappings",
            fix="e.g. 'dataset_splits: {walk_forward_through_test: true}'",
        )
    return loaded


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
    quiet: QuietOption = False,
) -> None:
    """Score a registered model on any source, universe and period without retraining; writes
    the keys of metadata.json's metrics.test plus n_samples, n_symbols and baselines scored on
    the same samples."""
    settings = settings_from(start, end, symbols, source, records_dir, check_source=True)
    check_out(out)
    # lazy: keeps --help and argument errors fast (the model, the dataset and the source load here)
    from smart_money.evaluation.score_registered import SCORING_STEPS, NothingToScore, score_registered_version

    title = f"evaluate {model}: source={settings.source} months={settings.start:%Y-%m}..{settings.last_month():%Y-%m}"
    with StepProgress(title, quiet=quiet, total=SCORING_STEPS) as progress, expected(NothingToScore):
        result = score_registered_version(settings, model, bootstrap, progress.advance)
    write_json(out, result)
    table = Table(
        title=f"v{result['model_version']} on {settings.source}: {result['n_samples']:,} samples, "
        f"{result['n_symbols']} symbols, {result['n_dates']} dates -> {out}"
    )
    for column in ("scores", "ROC AUC", "per-date AUC", "Brier skill", "top-decile precision", "Rank IC"):
        table.add_column(column, justify="left" if column == "scores" else "right", no_wrap=column == "scores")
    keys = ("roc_auc", "per_date_auc", "brier_skill", "top_decile_precision", "rank_ic_mean")
    table.add_row("model", *(number(result[key]) for key in keys))
    for name, baseline in result["baselines"].items():
        table.add_row(name, *(number(baseline.get(key)) for key in keys))
    console.print(table)
    if result["n_dates"] < 2:
        console.print(
            f"[yellow]warning:[/yellow] {result['n_dates']} sample date: the date-bootstrap intervals are "
            "degenerate (e.g. [x, x]), not a measure of uncertainty; widen --start/--end for several dates"
        )
    direction = result["direction"]
    console.print(
        f"base rate {result['base_rate']:.3f} (training {result['reference_base_rate']:.3f}); ECE {result['ece']:.4f}; "
        f"per-date AUC on rises {direction['score_per_date_auc_on_rises']:.4f} "
        f"vs falls {direction['score_per_date_auc_on_falls']:.4f}"
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
    settings = settings_from(source=source, records_dir=records_dir, check_source=True)
    # lazy: keeps --help and argument errors fast (the sources load pandas and the simulated market)
    from smart_money.sources import universe_stocks

    stocks = universe_stocks(settings, skip, limit)
    if out:
        write_text(out, "\n".join(stocks) + "\n")
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
    settings = settings_from(start, end, source="public_records", records_dir=records_dir, check_source=True)
    # lazy: keeps --help and argument errors fast (the records reader and the report load pandas)
    from smart_money.reporting.records_coverage import records_coverage_markdown

    text = records_coverage_markdown(settings)
    print(text)
    if out:
        write_text(out, text + "\n")
