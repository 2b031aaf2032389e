"""What a public-records folder holds (`smart-money records-coverage`), as Markdown: records per
table and year of their public date and how many have prices, then where the universe comes from."""

from __future__ import annotations

import pandas as pd

from smart_money.reporting.study_report import markdown_table
from smart_money.settings import Settings
from smart_money.sources import open_source
from smart_money.sources.public_records import PublicRecordsSource


def records_coverage_markdown(settings: Settings) -> str:
    """The coverage tables of the public-records folder of `settings` over its months; the
    universe table counts the first SMART_MONEY_SYMBOLS stocks a run takes (all when a list)."""
    source = open_source(settings)
    if not isinstance(source, PublicRecordsSource):
        raise TypeError(f"records coverage needs the public_records source, not {settings.source}")
    first = pd.Timestamp(settings.start)
    stop = pd.Timestamp(settings.last_month()) + pd.offsets.MonthBegin(1)
    run_size = settings.symbols if isinstance(settings.symbols, int) else None
    return "\n\n".join(
        [
            "## Records per table and year of their public date",
            markdown_table(source.coverage(first, stop)),
            f"## Universe: stocks with a price file, by price collection (a run takes the first {run_size or 'all'})",
            markdown_table(source.universe_summary(first, stop, run_size)),
        ]
    )
