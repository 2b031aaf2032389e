"""The one interface every data source implements.

A source answers two questions, for any symbol batch and time window, with normalized tables
(`smart_money.data.schemas`) and no pagination leaking out:

- `universe(as_of)`: which symbols exist, with membership intervals;
- `fetch(table, symbols, start, end)`: the rows of `table` whose partition date (`known_at` for
  event tables, `date` for prices) lies in [start, end).

Fetches report what they could not get (`gaps`, e.g. a plan that does not cover an endpoint for
a symbol) and how they got it (`stats`, e.g. HTTP calls and cache hits) so the assets can show
it; `summarize_rows` says what the returned rows hold in the source's own terms (e.g. rows from
the SEC's files, amendments applied), for the whole pull and for each partition. Sources never
drop rows silently: cleaning belongs to `data.quality`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Gap:
    """Something the source could not provide (and why)."""

    symbol: str
    table: str
    reason: str


@dataclass(frozen=True)
class QuarantinedFile:
    """A file the source could not read (malformed, truncated, wrongly encoded) and set aside
    whole; the rest of the pull goes on without it. `file` is relative to the source's folder."""

    file: str
    table: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"file": self.file, "table": self.table, "reason": self.reason}


@dataclass
class FetchResult:
    table: str
    frame: pd.DataFrame
    gaps: list[Gap] = field(default_factory=list)
    stats: dict[str, float] = field(default_factory=dict)
    # Rows the source could not even read into the table's columns (as received, with a
    # `quarantine_reason`); quarantined and counted with the schema failures.
    rejected: pd.DataFrame | None = None
    # Whole files the source could not read for this table (named in the asset metadata).
    quarantined_files: list[QuarantinedFile] = field(default_factory=list)


class DataSource(ABC):
    """Base class of the simulated, FMP and public-records sources."""

    name: str = "abstract"

    @abstractmethod
    def universe(self, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
        """Universe rows (UniverseSchema) with membership intervals; `as_of` limits to what was
        known by then where the source can tell."""

    @abstractmethod
    def fetch(self, table: str, symbols: Sequence[str], start: pd.Timestamp, end: pd.Timestamp) -> FetchResult:
        """Rows of `table` for `symbols` whose partition date is in [start, end)."""

    def describe(self) -> dict[str, str]:
        """What to show in asset metadata about this source."""
        return {"source": self.name}

    def summarize_rows(
        self,
        table: str,
        rows: pd.DataFrame,
        quarantined: pd.DataFrame,
        stats: Mapping[str, float] | None = None,
    ) -> dict[str, float]:
        """Headline numbers, named by the source, of rows of `table` it returned (`rows` valid,
        `quarantined` set aside), for the raw assets' metadata: called for a whole pull with the
        fetch's `stats` (for what only the fetch knows) and for each partition without them.
        Nothing by default."""
        return {}

    def market_index(self) -> str:
        """Symbol (in the prices table) whose returns stand for the market."""
        return "SPY"

    def default_hedge_funds(self) -> list[str]:
        """13F filer CIKs treated as hedge funds when SMART_MONEY_HEDGE_FUNDS is not set."""
        return []

    def quarantined_files(self) -> list[QuarantinedFile]:
        """Every file set aside so far as unreadable (sources reading files; others: none)."""
        return []

    def close(self) -> None:  # noqa: B027 - a hook: most sources hold nothing to release
        """Release connections and generated state (a no-op unless the source holds some)."""


class ListedUniverseSource(DataSource):
    """A source whose universe is one table of membership intervals, built once on first use
    (from a vendor's listings or from local files), then cut at `as_of`."""

    _universe: pd.DataFrame | None = None

    @abstractmethod
    def _build_universe(self) -> pd.DataFrame:
        """Every member with `member_from` (and `member_to`), as UniverseSchema rows."""

    def universe(self, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
        if self._universe is None:
            self._universe = self._build_universe()
        frame = self._universe
        if as_of is not None:
            frame = frame[frame["member_from"] <= pd.Timestamp(as_of)].reset_index(drop=True)
        return frame


class OracleSource(DataSource):
    """A source that knows the truth behind its data (only the simulated market)."""

    @abstractmethod
    def oracle(self, samples: pd.DataFrame, mirror: bool = False) -> pd.DataFrame:
        """For rows (symbol, sample_date): `oracle_truth` = P(label | latent state) and
        `oracle_public` = P(label | everything public at the sample date's close)."""

    @abstractmethod
    def independent_twin(self, index: int, n_symbols: int, horizon: pd.Timestamp) -> OracleSource:
        """Another universe of the same generative model (its own seed and market paths), the
        `index`-th of a fixed sequence: a fresh sample on which a model trained here is scored."""

    @abstractmethod
    def seed_label(self) -> int:
        """The number that names this universe in result tables (`world` column)."""

    def generator_key(self) -> str | None:
        """Everything this universe's data depends on (generator, seed, parameters, size,
        horizon) as one string, so derived tables can be cached under it; None: do not cache."""
        return None
