"""What is happening now: the newest disclosure events per family, each beside its family's
measured historical abnormal return (read from the stored study, never hard-coded), and the
readers of the stored events and study (the asset files under <data>/assets/)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from smart_money.data import storage
from smart_money.research.families import FAMILY_NAMES

DEFAULT_BENCHMARK = "matched"
DEFAULT_HORIZON = 21
RECENT_MONTHS = 3


def _number(value: object) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def family_measurements(
    study_rows: list[dict], benchmark: str = DEFAULT_BENCHMARK, horizon: int = DEFAULT_HORIZON
) -> dict[str, dict]:
    """family -> its measured CAR (bp), t-statistics, interval and event count at `horizon`."""
    out = {}
    for row in study_rows:
        if (
            row.get("benchmark") == benchmark
            and row.get("horizon_sessions") == horizon
            and row.get("window", "post_entry") == "post_entry"
        ):
            out[row["family"]] = {
                "benchmark": benchmark,
                "horizon_sessions": horizon,
                "car_bp": _number(row.get("mean_car_bp")),
                "t_date": _number(row.get("t_date")),
                "t_two_way": _number(row.get("t_two_way")),
                "ci_low_bp": _number(row.get("ci_low_bp")),
                "ci_high_bp": _number(row.get("ci_high_bp")),
                "n_events": int(row.get("n_events") or 0),
            }
    return out


def latest_signals(
    events: pd.DataFrame,
    study_rows: list[dict],
    family: str | None = None,
    limit: int = 10,
    benchmark: str = DEFAULT_BENCHMARK,
    horizon: int = DEFAULT_HORIZON,
) -> list[dict]:
    """The `limit` newest events of each family (or of `family`), newest first, each with its
    family's historical measurement (null when the study has none for it)."""
    if family is not None and family not in FAMILY_NAMES:
        raise ValueError(f"unknown family {family!r}; expected one of {', '.join(FAMILY_NAMES)}")
    if events.empty:
        return []
    chosen = events if family is None else events[events["family"] == family]
    chosen = chosen.sort_values(["known_at", "symbol"], ascending=[False, True], kind="stable")
    newest = chosen.groupby("family", sort=False).head(limit)
    measured = family_measurements(study_rows, benchmark, horizon)
    out = []
    for row in newest.itertuples(index=False):
        out.append(
            {
                "family": row.family,
                "symbol": row.symbol,
                "known_at": pd.Timestamp(row.known_at).isoformat(),
                "event_date": pd.Timestamp(row.event_date).date().isoformat(),
                "size_usd": _number(row.size_usd),
                "actor_ids": row.actor_ids,
                "n_actors": int(row.n_actors),
                "role": row.role if isinstance(row.role, str) else None,
                "history": measured.get(row.family),
            }
        )
    return out


@dataclass
class StoredSignals:
    """Reads the stored `disclosure_events` partitions and `event_study` result under a data
    location (a folder or fsspec URL: the IO manager's layout, <data>/assets/<asset>...)."""

    data_location: str

    @property
    def assets(self) -> str:
        return storage.assets_location(self.data_location)

    def study_rows(self) -> list[dict]:
        path = storage.join(self.assets, "event_study.json")
        return storage.read_json(path).get("event_study", []) if storage.exists(path) else []

    def recent_events(self, months: int = RECENT_MONTHS) -> pd.DataFrame:
        folder = storage.as_path(storage.join(self.assets, "disclosure_events"))
        if not folder.exists():
            return pd.DataFrame()
        files = sorted(p for p in folder.iterdir() if p.name.endswith(".parquet"))[-months:]
        frames = [storage.read_parquet(p) for p in files]
        frames = [f for f in frames if len(f)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def latest(self, family: str | None = None, limit: int = 10) -> list[dict]:
        return latest_signals(self.recent_events(), self.study_rows(), family, limit)
