"""Where the options engine's input for one trading day comes from: the synthetic market
(default) or files a user points at with SMART_MONEY_OPTIONS_DIR.

File layout under SMART_MONEY_OPTIONS_DIR (formats: docs/options-flow.md, "Scoring files"):
  prints/YYYY-MM-DD.{parquet,csv,jsonl}      required for a day with data
  quotes/YYYY-MM-DD.{parquet,csv,jsonl}      required with prints
  underlying/YYYY-MM-DD.{parquet,csv,jsonl}  optional (spot, moves)
  calendar.{parquet,csv,jsonl}               optional, the whole event calendar
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from smart_money.data.calendar import nyse_sessions
from smart_money.options.engine.frames import NormalizedTape, read_table
from smart_money.options.market.synthetic import MarketTape, generate_market
from smart_money.settings import Settings
from smart_money.settings.options import DEFAULT_SCENARIOS_PER_DAY, OptionsSettings

SUFFIXES = (".parquet", ".csv", ".jsonl")


@dataclass(frozen=True)
class OptionsSource:
    seed: int
    input_dir: Path | None = None
    scenarios_per_day: int = DEFAULT_SCENARIOS_PER_DAY

    @property
    def name(self) -> str:
        return "files" if self.input_dir else "synthetic"

    @classmethod
    def configured(cls, settings: Settings, options: OptionsSettings) -> OptionsSource:
        return cls(settings.seed, options.input_dir, options.scenarios_per_day)

    def day_seed(self, day: date) -> int:
        """A stable seed per (settings seed, day): the same day always gives the same market."""
        return zlib.crc32(f"{self.seed}:{day.isoformat()}".encode())

    def synthetic_day(self, day: date) -> tuple[MarketTape, pd.DataFrame] | None:
        """The synthetic market of a session (None on days the exchange is closed). The labels
        (second item) are for evaluation only."""
        if pd.Timestamp(day) not in nyse_sessions():
            return None
        return generate_market(self.scenarios_per_day, self.day_seed(day), day)

    def _file(self, kind: str, day: date | None) -> Path | None:
        assert self.input_dir is not None
        stem = self.input_dir / kind / day.isoformat() if day else self.input_dir / kind
        for suffix in SUFFIXES:
            if stem.with_suffix(suffix).exists():
                return stem.with_suffix(suffix)
        return None

    def raw_day(self, day: date) -> MarketTape | None:
        """The day's raw frames (None when there is no data for it)."""
        if self.input_dir is None:
            synthetic = self.synthetic_day(day)
            return None if synthetic is None else synthetic[0]
        prints, quotes = self._file("prints", day), self._file("quotes", day)
        if prints is None:
            return None
        if quotes is None:
            raise FileNotFoundError(f"{prints} has no quotes file for {day} under {self.input_dir / 'quotes'}")
        underlying, calendar = self._file("underlying", day), self._file("calendar", None)
        return MarketTape(
            read_table(prints),
            read_table(quotes),
            read_table(underlying) if underlying else None,  # type: ignore[arg-type]
            read_table(calendar) if calendar else None,  # type: ignore[arg-type]
        )

    def normalized_day(self, day: date) -> NormalizedTape | None:
        raw = self.raw_day(day)
        return None if raw is None else NormalizedTape.of(raw)
