"""Fresh-event flags are point in time; the decile spread and rank IC by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smart_money.research.target_comparison import decile_spread, fresh_event_flags

T = pd.Timestamp


def test_a_fresh_event_is_one_public_in_the_21_sessions_up_to_the_sample_close():
    samples = pd.DataFrame({"symbol": ["A", "A", "B", "C"], "sample_date": [T("2024-03-15")] * 4})
    events = pd.DataFrame(
        {
            "symbol": ["A", "B", "C"],
            "known_at": [
                T("2024-03-15 15:59"),  # public before the sample's close: fresh
                T("2024-03-15 16:01"),  # after the close: not known at the sample (the guard)
                T("2024-02-01 10:00"),  # more than 21 sessions before: stale
            ],
        }
    )
    assert list(fresh_event_flags(samples, events)) == [True, True, False, False]


def test_decile_spread_by_hand():
    rows = []
    for day in pd.bdate_range("2024-01-01", periods=5):
        score = np.arange(20.0)
        rows.append(pd.DataFrame({"sample_date": day, "score": score, "target": score / 100}))
    frame = pd.concat(rows, ignore_index=True)
    mean, _, dates = decile_spread(frame, "score", "target")
    assert dates == 5 and mean == pytest.approx((18.5 - 0.5) / 100)
