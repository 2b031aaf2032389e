"""Event-time sampling: one sample per event at its entry session, features strictly point in
time (the cutoff is the entry close, after the public time)."""

from __future__ import annotations

import pandas as pd
import pytest

from smart_money.dataset.event_time import entry_sessions, event_time_dataset
from smart_money.dataset.pipeline import feature_inputs
from smart_money.research.events import build_events

T = pd.Timestamp


@pytest.mark.parametrize(
    ("known_at", "entry"),
    [
        ("2023-04-11 10:30", "2023-04-11"),
        ("2023-04-11 16:00", "2023-04-12"),
        ("2023-04-11 23:59:59", "2023-04-12"),
        ("2023-04-07 12:00", "2023-04-10"),  # Good Friday 2023: the market is closed
    ],
)
def test_the_sample_date_is_the_first_session_closing_after_the_public_time(known_at, entry):
    assert entry_sessions(pd.Series([T(known_at)]))[0] == T(entry)


def test_event_samples_see_their_own_filing_and_nothing_public_after_the_entry_close(small_source):
    months = [T("2023-02-01"), T("2023-03-01"), T("2023-04-01")]
    inputs = feature_inputs(small_source, 25, months)
    events = build_events({"insider_trades": inputs.insider_trades}, start=T("2023-04-01"), end=T("2023-05-01"))
    purchases = events[events["family"] == "insider_purchase"]
    assert len(purchases) >= 3
    data = event_time_dataset(inputs, purchases)
    assert len(data) == len(purchases.drop_duplicates(["symbol", "known_at"]))
    assert (data["cutoff"] > data["known_at"]).all()  # the entry close is after the public time
    assert (data["cutoff"] == data["sample_date"] + pd.Timedelta(hours=16)).all()
    assert (data["asof_insider"] <= data["cutoff"]).all()  # no input newer than the cutoff
    recent = data[(data["sample_date"] - data["known_at"].dt.normalize()).dt.days <= 5]
    assert (recent["insider_buy_volume_30d"] > 0).all()  # the event's own purchase is known to it
    # a filing public one minute after an entry close is invisible to that sample; one minute
    # before it is seen
    row = data.iloc[0]
    event = purchases[
        (purchases["symbol"] == row["symbol"]) & (entry_sessions(purchases["known_at"]) == row["sample_date"])
    ]
    original = inputs.insider_trades
    for offset, visible in ((pd.Timedelta(minutes=1), False), (pd.Timedelta(minutes=-1), True)):
        extra = original.iloc[[0]].assign(
            record_id="late#0", symbol=row["symbol"], transaction_code="P", acquisition_or_disposition="A",
            known_at=row["cutoff"] + offset, event_date=row["sample_date"], amends_record_id=None,
            shares=1e9, price=1.0,
        )  # fmt: skip
        inputs.insider_trades = pd.concat([original, extra], ignore_index=True)
        again = event_time_dataset(inputs, event.iloc[[0]])
        assert bool(again.loc[0, "insider_buy_volume_30d"] >= 1e9) == visible
