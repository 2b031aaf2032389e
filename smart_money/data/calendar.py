"""Trading calendar (NYSE), monthly sample dates and label horizons.

Sample date of a month = the 15th, or the last NYSE session before it. The 14-day label ends on
the first session at or after sample date + 14 calendar days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache

import numpy as np
import pandas as pd

CALENDAR_START = "2005-01-01"
CALENDAR_END = "2032-12-31"
SAMPLE_DAY = 15
LABEL_HORIZON_DAYS = 14
# Rows known at or before this time on the sample date may be used (the NYSE close).
MARKET_CLOSE = time(16, 0)


@lru_cache(maxsize=1)
def nyse_sessions() -> pd.DatetimeIndex:
    """All NYSE sessions between CALENDAR_START and CALENDAR_END (tz-naive dates)."""
    import exchange_calendars as xc  # lazy: ~0.5 s to import, needed only when sessions are first asked for

    cal = xc.get_calendar("XNYS", start=CALENDAR_START, end=CALENDAR_END)
    return pd.DatetimeIndex(cal.sessions.tz_localize(None) if cal.sessions.tz else cal.sessions)


def sessions_between(start: date | pd.Timestamp, end: date | pd.Timestamp) -> pd.DatetimeIndex:
    """Sessions s with start <= s <= end."""
    sessions = nyse_sessions()
    lo = sessions.searchsorted(pd.Timestamp(start), side="left")
    hi = sessions.searchsorted(pd.Timestamp(end), side="right")
    return sessions[lo:hi]


def session_on_or_before(day: date | pd.Timestamp) -> pd.Timestamp:
    sessions = nyse_sessions()
    pos = sessions.searchsorted(pd.Timestamp(day), side="right") - 1
    if pos < 0:
        raise ValueError(f"{day} is before the calendar start {CALENDAR_START}")
    return sessions[pos]


def session_on_or_after(day: date | pd.Timestamp) -> pd.Timestamp:
    sessions = nyse_sessions()
    pos = sessions.searchsorted(pd.Timestamp(day), side="left")
    if pos >= len(sessions):
        raise ValueError(f"{day} is after the calendar end {CALENDAR_END}")
    return sessions[pos]


def sample_date(month: date | pd.Timestamp) -> pd.Timestamp:
    """The month's sample date: the 15th, or the last session before it."""
    month = pd.Timestamp(month)
    return session_on_or_before(pd.Timestamp(month.year, month.month, SAMPLE_DAY))


def label_end_date(sample: date | pd.Timestamp) -> pd.Timestamp:
    """First session at or after sample + 14 calendar days."""
    return session_on_or_after(pd.Timestamp(sample) + pd.Timedelta(days=LABEL_HORIZON_DAYS))


def sample_cutoff(sample: date | pd.Timestamp) -> pd.Timestamp:
    """Latest `known_at` a feature for this sample may use: the sample date's close."""
    return pd.Timestamp(datetime.combine(pd.Timestamp(sample).date(), MARKET_CLOSE))


def month_start(day: date | pd.Timestamp) -> pd.Timestamp:
    day = pd.Timestamp(day)
    return pd.Timestamp(day.year, day.month, 1)


def add_months(month: date | pd.Timestamp, n: int) -> pd.Timestamp:
    month = month_start(month)
    total = month.year * 12 + (month.month - 1) + n
    return pd.Timestamp(total // 12, total % 12 + 1, 1)


def months_between(first: date | pd.Timestamp, last: date | pd.Timestamp) -> list[pd.Timestamp]:
    """Month starts from `first` to `last`, inclusive."""
    out, current, last = [], month_start(first), month_start(last)
    while current <= last:
        out.append(current)
        current = add_months(current, 1)
    return out


@dataclass(frozen=True)
class MonthWindow:
    """Half-open [start, end) window of one calendar month, as timestamps."""

    month: pd.Timestamp

    @property
    def start(self) -> pd.Timestamp:
        return month_start(self.month)

    @property
    def end(self) -> pd.Timestamp:
        return add_months(self.month, 1)

    @property
    def key(self) -> str:
        return self.start.strftime("%Y-%m-%d")

    def contains(self, stamps: pd.Series) -> pd.Series:
        return (stamps >= self.start) & (stamps < self.end)


def business_days_after(day: pd.Series | pd.DatetimeIndex, n: int) -> np.ndarray:
    """The n-th session strictly after each day (vectorised)."""
    sessions = nyse_sessions()
    values = pd.DatetimeIndex(pd.to_datetime(day)).normalize()
    pos = sessions.searchsorted(values, side="right") + (n - 1)
    pos = np.clip(pos, 0, len(sessions) - 1)
    return sessions[pos].to_numpy()
