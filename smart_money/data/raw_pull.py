"""Pulling raw monthly partitions from a source: windows, validation, quarantine, summaries.

A raw partition for month M holds the rows whose partition date (`known_at`, or `date` for
prices) falls in M. Two extensions keep every feature and label computable from stored
partitions alone:

- the first partition of the configured range also holds LOOKBACK_MONTHS of history before it
  (features look back up to a year, momentum 12 months, volatility 60 sessions), and for
  insider_trades INSIDER_LOOKBACK_MONTHS (the routine/opportunistic split of a trade reads the
  insider's trades of the three calendar years before it);
- a prices partition also holds the first PRICE_FORWARD_DAYS of the next month, so the 14-day
  labels of month M (whose end can fall on the 1st-3rd of M+1) and its 21-session excess-return
  labels (ending by the ~17th of M+1, plus a halted stock's stale days) resolve from partition M.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from smart_money.data import calendar as cal
from smart_money.data.quality import ValidationOutcome, validate_and_quarantine
from smart_money.data.schemas import TABLES, UNIVERSE, empty_frame
from smart_money.data.source import DataSource, FetchResult, Gap, QuarantinedFile

LOOKBACK_MONTHS = 13
INSIDER_LOOKBACK_MONTHS = 49  # 3 calendar years before the earliest trade a 90-day window can hold
PRICE_FORWARD_DAYS = 25


class UnknownSymbols(ValueError):
    """Configured tickers (SMART_MONEY_SYMBOLS, --symbols) that the source's universe lacks."""


class EmptyUniverse(ValueError):
    """The source lists no stock at all (e.g. every price file of a records folder set aside)."""


def lookback_months(table: str) -> int:
    """How far before the configured first month that month's partition of `table` reaches."""
    return INSIDER_LOOKBACK_MONTHS if table == "insider_trades" else LOOKBACK_MONTHS


@dataclass(frozen=True)
class PartitionWindow:
    """Where a month's raw rows may lie, by the table's partition column: [lower, upper)."""

    month: pd.Timestamp
    lower: pd.Timestamp
    upper: pd.Timestamp

    @property
    def key(self) -> str:
        return f"{self.month:%Y-%m-%d}"


def partition_window(table: str, month: pd.Timestamp, first_month: pd.Timestamp) -> PartitionWindow:
    month = cal.month_start(month)
    lower = cal.add_months(month, -lookback_months(table)) if month <= cal.month_start(first_month) else month
    upper = cal.add_months(month, 1)
    if table == "prices":
        upper = upper + pd.Timedelta(days=PRICE_FORWARD_DAYS)
    return PartitionWindow(month=month, lower=lower, upper=upper)


@dataclass
class RawPull:
    """One table over one or more consecutive months."""

    table: str
    windows: list[PartitionWindow]
    partitions: dict[str, pd.DataFrame]  # partition key -> valid rows
    outcome: ValidationOutcome
    gaps: list[Gap] = field(default_factory=list)
    stats: dict[str, float] = field(default_factory=dict)
    # the source's headline numbers (DataSource.summarize_rows), for the pull and per partition
    summary: dict[str, float] = field(default_factory=dict)
    summary_by_partition: dict[str, dict[str, float]] = field(default_factory=dict)
    quarantined_files: list[QuarantinedFile] = field(default_factory=list)

    def metadata(self) -> dict[str, object]:
        """Numbers a user wants to see for the pull (plain values; the edge wraps them)."""
        frame = self.outcome.valid
        column = TABLES[self.table].partition_column
        out: dict[str, object] = {
            "rows": int(len(frame)),
            "rows_per_partition": {k: int(len(v)) for k, v in self.partitions.items()},
            "symbols_covered": int(frame["symbol"].nunique()) if len(frame) else 0,
            "first_date": str(frame[column].min()) if len(frame) else "",
            "last_date": str(frame[column].max()) if len(frame) else "",
            **self.outcome.summary(),
            **quarantined_files_metadata(self.quarantined_files),
            "gaps": len(self.gaps),
        }
        out.update({f"source_{k}": v for k, v in self.stats.items()})
        if self.outcome.n_quarantined:
            keys = quarantine_keys(self.outcome.quarantined, self.table, self.windows)
            out["rows_quarantined_per_partition"] = {k: int(n) for k, n in keys.value_counts().sort_index().items()}
        out.update(self.summary)
        if any(self.summary_by_partition.values()):
            out["summary_per_partition"] = self.summary_by_partition
        return out

    def quarantine_by_partition(self) -> dict[str, pd.DataFrame]:
        """Quarantined rows per partition key (quarantine_keys), object columns as strings for
        storage."""
        rejected = self.outcome.quarantined
        if rejected.empty:
            return {}
        assigned = quarantine_keys(rejected, self.table, self.windows)
        text = rejected.astype({c: "string" for c in rejected.columns if rejected[c].dtype == object})
        return {key: rows.reset_index(drop=True) for key, rows in text.groupby(assigned)}


def quarantine_keys(rejected: pd.DataFrame, table: str, windows: Sequence[PartitionWindow]) -> pd.Series:
    """The partition key of each quarantined row: by its partition date when it parses and lies in
    a window (the earliest such window), else the run's last partition (rows a reader could not
    even date)."""
    column = TABLES[table].partition_column
    stamps = (
        pd.to_datetime(rejected[column], errors="coerce")
        if column in rejected
        else pd.Series(pd.NaT, index=rejected.index)
    )
    assigned = pd.Series(windows[-1].key, index=rejected.index)
    for window in reversed(windows):  # the earliest window containing the date wins
        assigned[(stamps >= window.lower) & (stamps < window.upper)] = window.key
    return assigned


def pull_raw(
    source: DataSource,
    table: str,
    symbols: Sequence[str],
    months: Sequence[pd.Timestamp],
    first_month: pd.Timestamp,
) -> RawPull:
    """Fetch `table` for consecutive `months` in one call, validate it against the schema and
    the partition windows, quarantine bad rows, and split the valid rows per partition."""
    spec = TABLES[table]
    windows = [partition_window(table, m, first_month) for m in months]
    lower, upper = windows[0].lower, windows[-1].upper
    result: FetchResult = source.fetch(table, list(symbols), lower, upper)
    frame = result.frame if len(result.frame) else empty_frame(spec)
    outcome = validate_and_quarantine(frame, spec, lower, upper)
    if result.rejected is not None and len(result.rejected):
        outcome.add_rejected(result.rejected)
    column = outcome.valid[spec.partition_column]
    partitions = {
        w.key: outcome.valid.loc[(column >= w.lower) & (column < w.upper)].reset_index(drop=True) for w in windows
    }
    summary = source.summarize_rows(table, outcome.valid, outcome.quarantined, result.stats)
    by_partition = {}
    if summary:
        keys = quarantine_keys(outcome.quarantined, table, windows)
        by_partition = {
            key: source.summarize_rows(table, rows, outcome.quarantined[keys == key])
            for key, rows in partitions.items()
        }
    return RawPull(
        table, windows, partitions, outcome, result.gaps, result.stats, summary, by_partition, result.quarantined_files
    )


def quarantined_files_metadata(files: Sequence[QuarantinedFile]) -> dict[str, object]:
    """The count and the list (file, table, reason) of files set aside whole, for metadata."""
    return {"files_quarantined": len(files), "quarantined_files": [f.as_dict() for f in files]}


def pull_universe(source: DataSource, symbols: int | tuple[str, ...]) -> tuple[pd.DataFrame, ValidationOutcome]:
    """The source's universe restricted to the configured symbols (stocks), ETFs kept."""
    frame = source.universe()
    outcome = validate_and_quarantine(frame, UNIVERSE)
    universe = outcome.valid
    stocks = universe[universe["asset_type"] == "stock"]
    if stocks.empty:
        raise EmptyUniverse(
            f"the {source.name} source lists no stocks ({len(frame)} universe rows, "
            f"{len(frame) - len(universe)} quarantined); a records folder lists a stock per readable price file"
        )
    if isinstance(symbols, int):
        chosen = stocks["symbol"].drop_duplicates().head(symbols)
    else:
        unknown = sorted(set(symbols) - set(stocks["symbol"]))
        if unknown:
            raise UnknownSymbols(
                f"symbols not in the {source.name} universe: {', '.join(unknown[:20])}"
                + (" ..." if len(unknown) > 20 else "")
            )
        chosen = pd.Series(symbols)
    keep = universe["symbol"].isin(set(chosen)) | (universe["asset_type"] == "etf")
    return universe[keep].reset_index(drop=True), outcome


def concat_partitions(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Monthly partitions of one asset, in the order given, as one frame (the empty ones left out,
    unless all are): how the io manager loads a range, and how the server rebuilds the same rows."""
    non_empty = [f for f in frames if len(f)]
    return pd.concat(non_empty, ignore_index=True) if non_empty else frames[0].copy()


def combine_partitions(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Rows loaded from several partitions, with the overlaps (prices' forward reach) removed."""
    spec = TABLES[table]
    return frame.drop_duplicates(list(spec.key), keep="last").reset_index(drop=True)
