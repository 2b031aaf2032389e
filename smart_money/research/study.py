"""The whole signal study in one call: events -> return panel -> event study, placebo, breakdowns,
coverage and calendar-time portfolios. Used by the `event_study` asset, `smart-money signals
study` and bench/signal_study.py."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from smart_money.data import calendar as cal
from smart_money.data.raw_pull import pull_raw, pull_universe
from smart_money.data.schemas import EVENT_TABLES
from smart_money.data.source import DataSource
from smart_money.research.calendar_time import HOLDING_SESSIONS, calendar_time
from smart_money.research.event_study import (
    BOOTSTRAP,
    breakdown_rows,
    coverage_rows,
    event_returns,
    placebo_events,
    study_rows,
)
from smart_money.research.events import build_events
from smart_money.research.panel import ReturnPanel

PLACEBO_CAP = 50_000
FORWARD_PRICE_MONTHS = 4  # prices after the window, so late events get their 63-session windows
Progress = Callable[[str], None]  # one line of progress (`smart_money.cli.progress.StepProgress`)


@dataclass(frozen=True)
class StudyConfig:
    bootstrap: int = BOOTSTRAP  # date-bootstrap draws per interval
    placebo_count: int | None = None  # None: as many as the real events with prices (capped)
    seed: int = 7
    holding_sessions: tuple[int, ...] = HOLDING_SESSIONS


@dataclass
class SignalStudy:
    event_study: list[dict]
    calendar_time: list[dict]
    breakdown: list[dict]
    coverage: list[dict]
    curves: pd.DataFrame  # family, benchmark, lag, mean, low, high, n
    calendar_series: pd.DataFrame  # family, holding_sessions, benchmark, month, excess
    returns: pd.DataFrame  # one row per event (and placebo event) with entry and abnormal returns
    info: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """Everything but the per-event table, JSON-ready (NaN -> null)."""
        return _clean(
            {
                "event_study": self.event_study,
                "calendar_time": self.calendar_time,
                "breakdown": self.breakdown,
                "coverage": self.coverage,
                "curves": self.curves.to_dict("records"),
                "calendar_series": self.calendar_series.assign(month=self.calendar_series["month"].astype(str)).to_dict(
                    "records"
                ),
                "info": self.info,
            }
        )


def _clean(value):
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        return _clean(value.item())
    return value


def run_signal_study(
    events: pd.DataFrame,
    prices: pd.DataFrame,
    stocks: Sequence[str] | None,
    market_index: str | None,
    config: StudyConfig | None = None,
    progress: Progress | None = None,
) -> SignalStudy:
    """Event study and calendar-time portfolios of every family in `events` over the price panel
    of `stocks` (default: every symbol of `prices` but the market index)."""
    config = config or StudyConfig()
    say = progress or (lambda _: None)
    panel = ReturnPanel(prices, list(stocks) if stocks is not None else None, market_index)
    say(f"return panel: {len(panel.dates)} sessions x {len(panel.symbols)} stocks")
    real = event_returns(panel, events)
    n_ok = int((real.frame["status"] == "ok").sum())
    count = config.placebo_count if config.placebo_count is not None else min(n_ok, PLACEBO_CAP)
    placebo = event_returns(panel, placebo_events(panel, real.frame, count, config.seed)) if count > 0 else None
    returns = pd.concat([real.frame, placebo.frame], ignore_index=True) if placebo else real.frame
    n_placebo = len(placebo.frame) if placebo else 0
    say(f"abnormal returns: {len(real.frame)} events ({n_ok} with prices), {n_placebo} placebo")
    rows = study_rows(returns, config.bootstrap, config.seed)
    say(f"event study: {len(rows)} rows")
    ct_rows, ct_series = calendar_time(panel, real.frame, config.holding_sessions)
    say(f"calendar time: {len(ct_rows)} rows")
    curves = pd.concat(
        [
            c.assign(family=f, benchmark=b)
            for (f, b), c in {**real.curves, **(placebo.curves if placebo else {})}.items()
        ],
        ignore_index=True,
    )
    info = {
        "sessions": [str(panel.dates.min().date()), str(panel.dates.max().date())] if len(panel.dates) else [],
        "stocks": int(len(panel.symbols)),
        "stocks_with_prices": int(panel.has_price.any(axis=0).sum()),
        "market_index": market_index if panel.market is not None else None,
        "events": int(len(real.frame)),
        "events_with_prices": n_ok,
        "placebo_events": n_placebo,
        "bootstrap": config.bootstrap,
    }
    return SignalStudy(
        rows,
        ct_rows,
        breakdown_rows(returns),
        coverage_rows(returns, len(panel.dates)),
        curves[["family", "benchmark", "lag", "mean", "low", "high", "n"]],
        ct_series,
        returns,
        info,
    )


@dataclass
class SourceTables:
    universe: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    prices: pd.DataFrame


def pull_tables(
    source: DataSource,
    symbols: int | tuple[str, ...],
    months: Sequence[pd.Timestamp],
    progress: Progress | None = None,
    forward_months: int = FORWARD_PRICE_MONTHS,
) -> SourceTables:
    """The universe and every raw table for `months` (with the raw layer's look-back), validated
    like the raw assets do; prices also for `forward_months` after the window where the source
    has them (outcomes of the window's last events, never an input to them)."""
    say = progress or (lambda _: None)
    universe, _ = pull_universe(source, symbols)
    stocks = universe.loc[universe["asset_type"] == "stock", "symbol"].tolist()
    tables = {}
    for table in (*EVENT_TABLES, "prices"):
        wanted = universe["symbol"].tolist() if table == "prices" else stocks
        if table == "prices" and forward_months:
            extended = [*months, *(cal.add_months(months[-1], i) for i in range(1, forward_months + 1))]
            try:
                pull = pull_raw(source, table, wanted, extended, months[0])
            except ValueError:  # the source ends before (the simulated world's horizon)
                pull = pull_raw(source, table, wanted, list(months), months[0])
        else:
            pull = pull_raw(source, table, wanted, list(months), months[0])
        frame = pd.concat(pull.partitions.values(), ignore_index=True)
        tables[table] = frame
        say(f"pulled {table}: {len(frame):,} rows")
    prices = tables.pop("prices")
    return SourceTables(universe, tables, prices.drop_duplicates(["symbol", "date"], keep="last"))


def study_from_source(
    source: DataSource,
    symbols: int | tuple[str, ...],
    first_month: pd.Timestamp,
    last_month: pd.Timestamp,
    hedge_funds: Sequence[str] | None = None,
    config: StudyConfig | None = None,
    progress: Progress | None = None,
) -> tuple[SignalStudy, pd.DataFrame, SourceTables]:
    """(study, events, the pulled tables) for the configured source and window: events public in
    [first_month, last_month + 1 month)."""
    months = cal.months_between(first_month, last_month)
    pulled = pull_tables(source, symbols, months, progress)
    funds = hedge_funds if hedge_funds is not None else source.default_hedge_funds()
    events = build_events(pulled.tables, funds, months[0], cal.add_months(months[-1], 1))
    if progress:
        progress(f"events: {len(events):,} in {events['family'].nunique()} families")
    stocks = pulled.universe.loc[pulled.universe["asset_type"] == "stock", "symbol"].drop_duplicates().tolist()
    study = run_signal_study(events, pulled.prices, stocks, source.market_index(), config, progress)
    study.info["source"] = source.name
    study.info["months"] = [f"{months[0]:%Y-%m}", f"{months[-1]:%Y-%m}"]
    study.info["hedge_funds"] = len(funds)
    return study, events, pulled


STUDY_FILES = {
    "event_study": "event_study.json",
    "calendar_time": "calendar_time.json",
    "breakdown": "event_study_breakdown.json",
    "coverage": "coverage.json",
}


def write_study(study: SignalStudy, out: Path) -> list[Path]:
    """The machine-readable results: event_study.json, calendar_time.json,
    event_study_breakdown.json, coverage.json and study.json (everything, with curves)."""
    out.mkdir(parents=True, exist_ok=True)
    payload = study.to_json()
    written = []
    for key, name in STUDY_FILES.items():
        path = out / name
        path.write_text(json.dumps(payload[key], indent=2))
        written.append(path)
    path = out / "study.json"
    path.write_text(json.dumps(payload, indent=2))
    written.append(path)
    return written
