"""The SEC's bulk data set files: quarters, file names, the filing dates each file covers, URLs.

Both data sets are cut by FILING date (the day a filing was accepted), not by the period the
filings report on:

- Insider Transactions Data Sets (Forms 3, 4, 5): one file per calendar quarter of filing
  dates, `{YYYY}q{N}_form345.zip`, from 2006q1.
- Form 13F Data Sets: one file per calendar quarter of filing dates, `{YYYY}q{N}_form13f.zip`,
  from 2013q2 through 2023q4; then a two-month bridge `01jan2024-29feb2024_form13f.zip`; then
  three-month filing windows starting in March, June, September and December
  (`01mar2024-31may2024_form13f.zip`, `01jun2024-31aug2024_form13f.zip`,
  `01sep2024-30nov2024_form13f.zip`, `01dec2024-28feb2025_form13f.zip`, ...). The SEC has
  re-published a window now and then with a `_1` suffix (`..._form13f_1.zip`); the suffixed file
  replaces the plain one.

Files live under `https://www.sec.gov/files/structureddata/data/insider-transactions-data-sets/`
and `.../form-13f-data-sets/`; the newest files have been published under
`/files/datastandardsinnovation/data/...` instead, so both folders are tried. (File names and
folders as listed on the SEC's data set pages, quoted by public downloaders:
sutheimernico/equity-scout `evidence/backfill_form4.py`, and the 13F loaders quoted in the
module docstring of `form13f.py`.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

DATASETS = ("insider", "13f")
INSIDER_FIRST_QUARTER = "2006q1"
FORM13F_FIRST_QUARTER = "2013q2"
FORM13F_LAST_QUARTERLY_FILE = "2023q4"
FORM13F_BRIDGE = (date(2024, 1, 1), date(2024, 2, 29))
FORM13F_FIRST_WINDOW = date(2024, 3, 1)  # three-month windows from here on
URL_FOLDERS = {
    "insider": (
        "files/structureddata/data/insider-transactions-data-sets",
        "files/datastandardsinnovation/data/insider-transactions-data-sets",
    ),
    "13f": ("files/structureddata/data/form-13f-data-sets", "files/datastandardsinnovation/data/form-13f-data-sets"),
}
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

_QUARTER = re.compile(r"^(\d{4})q([1-4])$", re.IGNORECASE)
_INSIDER_NAME = re.compile(r"^(\d{4})q([1-4])_form345\.zip$", re.IGNORECASE)
_13F_QUARTER_NAME = re.compile(r"^(\d{4})q([1-4])_form13f(?:_(\d+))?\.zip$", re.IGNORECASE)
_13F_WINDOW_NAME = re.compile(
    r"^(\d{2})([a-z]{3})(\d{4})-(\d{2})([a-z]{3})(\d{4})_form13f(?:_(\d+))?\.zip$", re.IGNORECASE
)


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter, written `2019q1` like the SEC's file names."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        match = _QUARTER.match(str(text).strip())
        if not match:
            raise ValueError(f"{text!r} is not a quarter: expected YYYYqN, e.g. 2019q1")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def containing(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    def next(self) -> Quarter:
        return Quarter(self.year + self.number // 4, self.number % 4 + 1)

    def __str__(self) -> str:
        return f"{self.year}q{self.number}"


def quarters_between(first: Quarter, last: Quarter) -> list[Quarter]:
    if last < first:
        raise ValueError(f"the last quarter {last} is before the first {first}")
    out = [first]
    while out[-1] < last:
        out.append(out[-1].next())
    return out


@dataclass(frozen=True)
class DataSetFile:
    """One SEC data set file and the filing dates it holds, [first_day, last_day]."""

    dataset: str  # "insider" | "13f"
    name: str
    first_day: date
    last_day: date
    revision: int = 0  # the SEC's `_1` re-publication suffix

    def meets(self, first: date, last: date) -> bool:
        """Does the file hold any filing dated in [first, last]?"""
        return self.first_day <= last and first <= self.last_day

    def urls(self, base_url: str) -> list[str]:
        """Where the SEC publishes it: the usual folder first, then the newer one."""
        return [f"{base_url.rstrip('/')}/{folder}/{self.name}" for folder in URL_FOLDERS[self.dataset]]


def _month(text: str) -> int:
    return MONTHS.index(text.lower()) + 1


def _window_name(first: date, last: date) -> str:
    start = f"{first.day:02d}{MONTHS[first.month - 1]}{first.year}"
    end = f"{last.day:02d}{MONTHS[last.month - 1]}{last.year}"
    return f"{start}-{end}_form13f.zip"


def describe(path: Path | str, dataset: str) -> DataSetFile | None:
    """The file's coverage from its SEC name; None when the name is not one of the SEC's."""
    name = Path(path).name
    try:
        if dataset == "insider":
            if match := _INSIDER_NAME.match(name):
                quarter = Quarter(int(match[1]), int(match[2]))
                return DataSetFile("insider", name, quarter.first_day, quarter.last_day)
            return None
        if match := _13F_QUARTER_NAME.match(name):
            quarter = Quarter(int(match[1]), int(match[2]))
            return DataSetFile("13f", name, quarter.first_day, quarter.last_day, int(match[3] or 0))
        if match := _13F_WINDOW_NAME.match(name):
            first = date(int(match[3]), _month(match[2]), int(match[1]))
            last = date(int(match[6]), _month(match[5]), int(match[4]))
            return DataSetFile("13f", name, first, last, int(match[7] or 0)) if first <= last else None
    except ValueError:  # an impossible day or an unknown month abbreviation
        return None
    return None


def insider_files(first: Quarter, last: Quarter) -> list[DataSetFile]:
    """The Form 3/4/5 files for filing quarters first..last."""
    earliest = Quarter.parse(INSIDER_FIRST_QUARTER)
    if last < earliest:
        return []
    return [
        DataSetFile("insider", f"{q}_form345.zip", q.first_day, q.last_day)
        for q in quarters_between(max(first, earliest), last)
    ]


def form13f_files(first: Quarter, last: Quarter) -> list[DataSetFile]:
    """The 13F files holding the filings dated in quarters first..last (quarterly files through
    2023q4, then the bridge and the three-month windows that meet those quarters)."""
    earliest, last_quarterly = Quarter.parse(FORM13F_FIRST_QUARTER), Quarter.parse(FORM13F_LAST_QUARTERLY_FILE)
    span_first, span_last = first.first_day, last.last_day
    out = []
    if first <= last_quarterly and earliest <= last:
        quarterly = quarters_between(max(first, earliest), min(last, last_quarterly))
        out = [DataSetFile("13f", f"{q}_form13f.zip", q.first_day, q.last_day) for q in quarterly]
    windows = [FORM13F_BRIDGE]
    start = FORM13F_FIRST_WINDOW
    while start <= span_last:
        following = date(start.year + (start.month + 2) // 12, (start.month + 2) % 12 + 1, 1)
        windows.append((start, following - timedelta(days=1)))
        start = following
    for window_first, window_last in windows:
        if window_first <= span_last and span_first <= window_last:
            out.append(DataSetFile("13f", _window_name(window_first, window_last), window_first, window_last))
    return out
