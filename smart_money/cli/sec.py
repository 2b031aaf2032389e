"""`sec download`: the SEC's bulk data sets for the public-records source."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from smart_money.cli.errors import USAGE, expected, failure
from smart_money.settings.sec import SecSettings

app = typer.Typer(
    help="The SEC's bulk data sets (Forms 3/4/5 and 13F) for the public-records source.", no_args_is_help=True
)


@app.command("download")
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
    settings = SecSettings.from_env()
    # lazy: keeps --help and argument errors fast (httpx, the limiter and pandas load here)
    from smart_money.sources.public_records.sec.download import (
        describe_report,
        download_datasets,
        parse_quarter_range,
        planned_files,
    )

    datasets = (only,) if only else ("insider", "13f")
    with expected(ValueError, exit_code=USAGE):  # the messages name the value and the expected form
        quarters = parse_quarter_range(first, last)
        planned_files(*quarters, datasets)
    report = download_datasets(
        *quarters, folder, settings.user_agent, datasets=datasets, base_url=settings.base_url, quiet=quiet
    )
    for line in describe_report(report, folder):
        typer.echo(line)
    if not report.ok:
        raise failure("some files were not downloaded (see above); run the command again to resume")
