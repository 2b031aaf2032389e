"""Normalisation rules shared by every source (so FMP, public files and the simulator agree)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from smart_money.data.schemas import FORM4_CODES

MISSING_SPELLINGS = frozenset({"", " ", "--", "-", "N/A", "NA", "n/a", "NULL", "null", "None", "nan"})

_ROLE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("CEO", re.compile(r"\bceo\b|chief executive", re.I)),
    ("CFO", re.compile(r"\bcfo\b|chief financial", re.I)),
    ("COO", re.compile(r"\bcoo\b|chief operating", re.I)),
    ("PRESIDENT", re.compile(r"(?<!vice )(?<!vice-)\bpres(ident)?\b", re.I)),  # not a vice president
    ("CHAIR", re.compile(r"\bchair(man|woman|person)?\b", re.I)),
    ("TEN_PERCENT_OWNER", re.compile(r"10\s*%|ten percent|10 percent", re.I)),
    (
        "OFFICER",
        re.compile(
            r"\bofficer\b|\bvp\b|vice[ -]president|\bsvp\b|\bevp\b|general counsel|treasurer|secretary|chief", re.I
        ),
    ),
    ("DIRECTOR", re.compile(r"\bdirector\b|\bdir\b|\bboard\b", re.I)),
)


def insider_role(type_of_owner: object) -> str:
    """Map free-text relationships ('director, officer: Chief Executive Officer', 'CFO',
    '10 percent owner') to one normalized role; the most senior match wins."""
    if not isinstance(type_of_owner, str) or type_of_owner.strip() in MISSING_SPELLINGS:
        return "OTHER"
    for role, pattern in _ROLE_PATTERNS:
        if pattern.search(type_of_owner):
            return role
    return "OTHER"


def form4_code(transaction_type: object) -> str:
    """'P-Purchase' / 'S' / 'S-Sale+OE' -> the SEC letter; anything unknown -> 'OTHER' (never a
    sale: awards, exercises and gifts must not be counted as selling)."""
    if not isinstance(transaction_type, str):
        return "OTHER"
    letter = transaction_type.strip().split("-", 1)[0].strip().upper()
    return letter if letter in FORM4_CODES and letter != "OTHER" else "OTHER"


def clean_missing(series: pd.Series) -> pd.Series:
    """Replace the usual missing-value spellings with NA (object/string columns only)."""
    if series.dtype != object and not pd.api.types.is_string_dtype(series):
        return series
    stripped = series.astype("string").str.strip()
    return series.mask(stripped.isin(MISSING_SPELLINGS) | series.isna(), np.nan)


def end_of_day(dates: pd.Series) -> pd.Series:
    """Date-only public dates become 23:59:59 that day: usable from the next session on."""
    return pd.to_datetime(dates).dt.normalize() + pd.Timedelta(hours=23, minutes=59, seconds=59)


_TRUE_SPELLINGS = frozenset({"true", "t", "yes", "y", "1"})
_FALSE_SPELLINGS = frozenset({"false", "f", "no", "n", "0"})


def string_bool(value: object) -> bool | None:
    """True/False from booleans or their string spellings ('False', 'yes', '1'); None if blank."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and not (isinstance(value, float) and np.isnan(value)):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE_SPELLINGS:
            return True
        if text in _FALSE_SPELLINGS:
            return False
    return None


_CONGRESS_TYPES = {
    "purchase": "purchase",
    "buy": "purchase",
    "sale": "sale",
    "sell": "sale",
    "sale (partial)": "sale_partial",
    "sale_partial": "sale_partial",
    "sale (full)": "sale_full",
    "sale_full": "sale_full",
    "exchange": "exchange",
}


def congress_transaction(text: object) -> str | None:
    """'Purchase' / 'Sale (Partial)' / 'Sale (Full)' / 'Exchange' -> the table's codes; anything
    else (e.g. 'receive') -> None, which the schema quarantines."""
    if not isinstance(text, str):
        return None
    return _CONGRESS_TYPES.get(text.strip().lower())


_AMOUNT_NUMBER = re.compile(r"\$?\s*([\d,]+(?:\.\d+)?)")


def amount_band(text: object) -> tuple[float, float]:
    """'$1,001 - $15,000' -> (1001, 15000); 'Over $50,000,000' / '$50,000,001 +' -> (50000001,
    nan) (an open band); unparseable -> (nan, nan)."""
    if not isinstance(text, str):
        return (np.nan, np.nan)
    numbers = [float(n.replace(",", "")) for n in _AMOUNT_NUMBER.findall(text) if n.replace(",", "")]
    if len(numbers) >= 2:
        return (numbers[0], numbers[1])
    if len(numbers) == 1:
        if re.search(r"over|\+|more than|above", text, re.I):
            low = numbers[0] + 1 if re.search(r"over|more than|above", text, re.I) else numbers[0]
            return (low, np.nan)
        return (numbers[0], numbers[0])
    return (np.nan, np.nan)


_OWNER_SPELLINGS = {
    "self": "self",
    "spouse": "spouse",
    "joint": "joint",
    "child": "dependent",
    "dependent": "dependent",
    "dependent child": "dependent",
}


def congress_owner(text: object) -> str | None:
    """'Spouse' / 'Joint' / 'Self' / 'Child' -> lower-case owner; blank -> None."""
    if not isinstance(text, str) or text.strip() in MISSING_SPELLINGS:
        return None
    value = text.strip().lower()
    return _OWNER_SPELLINGS.get(value, value)


# Split ratios seen in practice (forward and reverse), used to tell a split from price noise.
_SPLIT_RATIOS = np.array([1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 25, 30, 40, 50, 100], dtype=float)
_SPLIT_CANDIDATES = np.concatenate([1.0 / _SPLIT_RATIOS[::-1], [1.0], _SPLIT_RATIOS])
SAME_BASIS_TOLERANCE = 1.25  # a reported price within this factor of the close is on its basis
SPLIT_TOLERANCE = 1.08  # a ratio within this factor of a split ratio is that split


def basis_factor(reported_over_reference: pd.Series | np.ndarray) -> np.ndarray:
    """How many reference-basis shares one reported share is, from the ratio of a price as
    reported (as traded: a Form 4 price, a 13F or ETF value per share) to a price series' close
    on the same day, when that series was restated for later splits (Yahoo, FMP): 1 when the
    two agree within 25 % (intraday moves), the split ratio when the ratio is within 8 % of one
    (4 for a later 4:1 split, 0.1 for a later 1:10 reverse split), else the ratio itself (a
    spin-off adjustment or an uncommon reverse-split ratio); NaN when the ratio is not a
    positive number. Multiply share counts by it and divide prices by it."""
    ratio = np.asarray(reported_over_reference, dtype=float)
    out = np.full(ratio.shape, np.nan)
    ok = np.isfinite(ratio) & (ratio > 0)
    log_ratio = np.log(np.where(ok, ratio, 1.0))
    nearest = _SPLIT_CANDIDATES[np.abs(log_ratio[..., None] - np.log(_SPLIT_CANDIDATES)).argmin(axis=-1)]
    is_split = np.abs(log_ratio - np.log(nearest)) <= np.log(SPLIT_TOLERANCE)
    same = np.abs(log_ratio) <= np.log(SAME_BASIS_TOLERANCE)
    out[ok] = np.where(same, 1.0, np.where(is_split, nearest, ratio))[ok]
    return out
