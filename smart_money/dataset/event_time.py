"""Event-time sampling: samples at each disclosure event's entry session instead of (or beside)
the plan's monthly 15th.

The sample date of an event is its entry session, the first NYSE session whose 16:00 close is
strictly after the event's public time (`known_at`); the features' cutoff is that close, which is
after the public time, so the event itself is known to its own sample and nothing public later
is (the same `features_for_date` the monthly samples use). Labels are the plan's 14-day labels
and the excess-return targets from that session (`compute_labels`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from smart_money.data import calendar as cal
from smart_money.dataset.features import FeatureInputs, UniverseRules, compute_features
from smart_money.dataset.labels import compute_labels


def entry_sessions(known_at: pd.Series) -> pd.DatetimeIndex:
    """The first session whose close (16:00) is strictly after each public time."""
    sessions = cal.nyse_sessions()
    closes = sessions + pd.Timedelta(hours=cal.MARKET_CLOSE.hour, minutes=cal.MARKET_CLOSE.minute)
    pos = closes.searchsorted(pd.DatetimeIndex(known_at), side="right")
    return sessions[np.clip(pos, 0, len(sessions) - 1)]


def event_time_samples(events: pd.DataFrame) -> pd.DataFrame:
    """(symbol, sample_date = entry session, family, known_at) per event; one sample per (symbol,
    session) and family."""
    samples = pd.DataFrame(
        {
            "symbol": events["symbol"].to_numpy(),
            "sample_date": entry_sessions(events["known_at"]),
            "family": events["family"].to_numpy() if "family" in events else "event",
            "known_at": pd.DatetimeIndex(events["known_at"]),
        }
    )
    return samples.drop_duplicates(["symbol", "sample_date", "family"]).reset_index(drop=True)


def event_time_dataset(inputs: FeatureInputs, events: pd.DataFrame, rules: UniverseRules | None = None) -> pd.DataFrame:
    """Features (point in time at each entry session's close) and labels for every event's
    sample, with the event's family and public time."""
    samples = event_time_samples(events)
    if samples.empty:
        return samples
    dates = sorted(samples["sample_date"].unique())
    features = compute_features(inputs, [pd.Timestamp(d) for d in dates], rules)
    labels = compute_labels(inputs.prices, inputs.universe, [pd.Timestamp(d) for d in dates], inputs.market_index)
    key = ["symbol", "sample_date"]
    out = samples.merge(features, on=key, how="inner").merge(labels, on=key, how="left")
    return out.sort_values([*key, "family"]).reset_index(drop=True)
