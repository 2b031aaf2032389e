"""Live processing: micro-batches in arrival order in, finished scored events out.

The engine keeps the prints that are not yet part of a finished event and the recent quotes.
An event is finished once the watermark (latest event time seen minus the allowed lateness)
passes its anchor print plus the burst and leg windows: no later print can join it any more.
Finished events are scored with exactly the batch functions, so live and replay agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from smart_money.options.engine.batch import ScoredBatch, score_frames
from smart_money.options.engine.calibration import Calibration
from smart_money.options.engine.event_features import MOVE_HORIZONS_S
from smart_money.options.engine.frames import empty_underlying
from smart_money.options.engine.rules import RulesConfig

QUOTE_RETENTION_NS = 120 * 1_000_000_000
# the underlying's move looks back up to the longest horizon, and takes a quote up to one
# horizon older than that
UNDERLYING_RETENTION_NS = (2 * max(MOVE_HORIZONS_S.values()) + 120) * 1_000_000_000
PRUNE_AT_ROWS = 20_000


class LiveEngine:
    def __init__(
        self, rules: RulesConfig, calibration: Calibration, calendar: pd.DataFrame | None = None, lateness_ms: int = 100
    ):
        self.rules, self.calibration, self.calendar = rules, calibration, calendar
        self.lateness_ns = lateness_ms * 1_000_000
        self.close_delay_ns = rules.reconstruction().close_delay_ns
        self.prints: list[pd.DataFrame] = []
        self.quotes: list[pd.DataFrame] = []
        self.underlying: list[pd.DataFrame] = []
        self.latest_ns = np.iinfo(np.int64).min

    def _observe(self, frame: pd.DataFrame) -> None:
        if len(frame):
            self.latest_ns = max(self.latest_ns, int(frame["ts"].to_numpy(dtype="datetime64[ns]").view(np.int64).max()))

    @staticmethod
    def _concat(parts: list[pd.DataFrame], empty: pd.DataFrame | None = None) -> pd.DataFrame:
        parts = [p for p in parts if len(p)]
        if not parts:
            return empty if empty is not None else pd.DataFrame()
        return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)

    def push(self, prints: pd.DataFrame, quotes: pd.DataFrame, underlying: pd.DataFrame) -> list[ScoredBatch]:
        """Add a micro-batch of normalized frames (see `frames`; rows in any order) and
        return the events it finished."""
        for frame, store in ((prints, self.prints), (quotes, self.quotes), (underlying, self.underlying)):
            if len(frame):
                store.append(frame)
                self._observe(frame)
        watermark = self.latest_ns - self.lateness_ns
        if not self._something_finished(watermark):
            return []
        return self._emit(watermark)

    def _something_finished(self, watermark: int) -> bool:
        earliest = min(
            (int(p["ts"].to_numpy(dtype="datetime64[ns]").view(np.int64).min()) for p in self.prints if len(p)),
            default=None,
        )
        return earliest is not None and earliest <= watermark - self.close_delay_ns

    def flush(self) -> list[ScoredBatch]:
        """End of stream: finish everything still open."""
        return self._emit(np.iinfo(np.int64).max)

    def _emit(self, watermark: int) -> list[ScoredBatch]:
        pending = self._concat(self.prints)
        if not len(pending):
            return []
        quotes = self._concat(self.quotes)
        underlying = self._concat(self.underlying, empty_underlying())
        batch = score_frames(pending, quotes, underlying, self.calendar, self.rules, self.calibration)
        first = batch.events["first_ts_ns"].to_numpy()
        finished = (
            first <= watermark - self.close_delay_ns
            if watermark != np.iinfo(np.int64).max
            else np.ones(len(first), bool)
        )
        if not finished.any():
            return []
        rec = batch.reconstruction
        done = np.isin(rec.event_of_print, np.flatnonzero(finished))
        done_ids = rec.prints.loc[done, "print_id"]
        # keep everything but the emitted events' prints, minus old records that belong to no
        # event (applied cancels, late reports); cancels of prints whose event has already
        # been emitted are left to batch replay
        recent = pending["ts"].to_numpy(dtype="datetime64[ns]").view(np.int64) >= watermark - self.close_delay_ns
        in_open_event = pending["print_id"].isin(rec.prints.loc[~done, "print_id"]).to_numpy()
        keep = ~pending["print_id"].isin(done_ids).to_numpy() & (in_open_event | recent)
        self.prints = [pending[keep]]
        self._prune(watermark)
        return [batch.subset(finished)]

    def _prune(self, watermark: int) -> None:
        """Drop quotes older than the retention, keeping each instrument's last one (as-of
        joins of late prints still see it, so staleness is judged the same way)."""
        if watermark == np.iinfo(np.int64).max:
            return
        for name, keys, retention in (
            ("quotes", ["underlying", "expiry", "strike", "right"], QUOTE_RETENTION_NS),
            ("underlying", ["underlying"], UNDERLYING_RETENTION_NS),
        ):
            cutoff = watermark - retention
            frame = self._concat(getattr(self, name))
            if not len(frame):
                continue
            ts = frame["ts"].to_numpy(dtype="datetime64[ns]").view(np.int64)
            old = ts < cutoff
            if old.sum() < PRUNE_AT_ROWS:  # pruning early changes nothing; batch it
                setattr(self, name, [frame])
                continue
            last_old = frame[old].sort_values("ts", kind="stable").groupby(keys, sort=False, observed=True).tail(1)
            setattr(self, name, [pd.concat([last_old, frame[~old]], ignore_index=True)])
